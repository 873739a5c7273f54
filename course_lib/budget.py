"""El presupuesto de tiempo de :func:`course_lib.train.fit`: el reloj del entrenamiento y la calibración.

Con ``TrainConfig(budget_seconds=S)`` y sin ``steps``, ``fit`` mide lo que tardan los primeros
pasos (:class:`Calibration`, con el reloj :class:`Stopwatch`, que no cuenta la validación ni los
puntos de control) y fija con esa medida el total de pasos
(:func:`course_lib.schedule.steps_for_budget`), que :func:`report_calibration` cuenta al
usuario. Cuadernos 07 y la línea de órdenes (``--minutos``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from tqdm.auto import tqdm

from course_lib.train_config import TrainConfig

# Entrenamiento por tiempo (TrainConfig.budget_seconds): la calibración mide al menos estos pasos
# (sin contar el primero de la sesión, que paga la puesta en marcha) y al menos esta fracción del
# presupuesto; al planificar se deja sin usar BUDGET_MARGIN del presupuesto.
CALIBRATION_STEPS = 20
CALIBRATION_FRACTION = 0.05
BUDGET_MARGIN = 0.03
# Una segunda medida, con la misma ventana, justo después de la calibración: si el total que da
# cambia más de RECALIBRATION_TOLERANCE (la máquina estaba ocupada al calibrar, o lo está ahora) y el
# enfriamiento aún no ha empezado, se vuelve a fijar el total.
RECALIBRATION_TOLERANCE = 0.1


class Stopwatch:
    """Segundos de entrenamiento: los de ``before`` más los de pared desde que se crea, sin las pausas.

    De pared y no por paso: en GPU las operaciones son asíncronas y solo al leer la pérdida se
    sabe que han terminado. ``clock`` es el reloj (por defecto ``time.perf_counter``; las pruebas
    le dan uno falso).
    """

    def __init__(self, before: float = 0.0, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or time.perf_counter
        self.before, self.started, self.paused_for = before, self.clock(), 0.0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        started = self.clock()
        try:
            yield
        finally:
            self.paused_for += self.clock() - started

    def seconds(self) -> float:
        return self.before + self.clock() - self.started - self.paused_for


class Calibration:
    """Mide los segundos por paso al principio de un entrenamiento por tiempo.

    La ventana empieza tras el primer paso de la sesión (que paga la puesta en marcha: memoria,
    hilos, compilación de núcleos) y termina cuando ha medido al menos :data:`CALIBRATION_STEPS`
    pasos y ``fraction`` del presupuesto (:data:`CALIBRATION_FRACTION`). ``fit`` mide dos veces: la
    segunda ventana se abre en el paso en que se cerró la primera (véase :func:`replan`).
    """

    def __init__(self, budget_seconds: float, fraction: float = CALIBRATION_FRACTION) -> None:
        self.budget_seconds, self.fraction = budget_seconds, fraction
        self.start: tuple[int, float] | None = None  # (paso, segundos) al abrir la ventana

    def seconds_per_step(self, step: int, seconds: float) -> float | None:
        """Tras el paso ``step``, con ``seconds`` de entrenamiento: la medida, o ``None`` si aún mide."""
        if self.start is None:
            self.start = (step, seconds)
            return None
        steps, elapsed = step - self.start[0], seconds - self.start[1]
        if steps >= CALIBRATION_STEPS and elapsed >= self.fraction * self.budget_seconds:
            return elapsed / steps
        return None


def replan(
    plan: TrainConfig, step: int, seconds: float, per_step: float, margin: float = BUDGET_MARGIN
) -> TrainConfig | None:
    """La receta con un total nuevo si el ritmo medido ahora lo cambia más de :data:`RECALIBRATION_TOLERANCE`
    y el enfriamiento no ha empezado ni con el total viejo ni con el nuevo (así la tasa de los pasos ya
    dados es la misma con los dos: entrenar así sigue dando lo mismo que ``steps`` = el total final).
    ``None`` si se sigue con el plan.
    """
    from dataclasses import replace

    from course_lib.schedule import steps_for_budget

    assert plan.steps is not None and plan.budget_seconds is not None
    total = steps_for_budget(plan.budget_seconds, seconds, step, per_step, plan.cooldown_fraction, margin)
    new = replace(plan, steps=total)
    if abs(total - plan.steps) <= RECALIBRATION_TOLERANCE * plan.steps:
        return None
    if step >= plan.steps - plan.cooldown_steps or step >= total - new.cooldown_steps:
        return None
    return new


def report_calibration(plan: TrainConfig, per_step: float | None, step: int, progress: bool) -> None:
    """Cuenta (con ``progress``) el total que fijó la calibración y avisa si no da para calentar."""
    assert plan.steps is not None and plan.budget_seconds is not None
    if progress and per_step is not None:
        tqdm.write(
            f"Calibrado en {step} pasos: {1000 * per_step:.0f} ms por paso → {plan.steps} pasos en "
            f"{plan.budget_seconds:g} s (calentamiento {plan.warmup}, enfriamiento {plan.cooldown_steps})."
        )
    if plan.steps < plan.warmup:
        print(
            f"Aviso: el presupuesto solo da para {plan.steps} pasos, menos que el calentamiento ({plan.warmup}): "
            "la tasa no llegará a su máximo. Da más tiempo o reduce `warmup`."
        )
