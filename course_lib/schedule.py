"""Tasa de aprendizaje: el calentamiento del artículo, el enfriamiento final y los pasos que caben en un tiempo (07).

- :func:`noam_lr`: la tasa de la sección 5.3 del artículo, con calentamiento lineal y caída
  como ``1/√paso`` (el ejercicio del cuaderno 07).
- :func:`learning_rate`: la que usa :func:`course_lib.train.fit` en cada paso: ``noam_lr`` por
  el factor ``lr_scale`` y, si se pide, un enfriamiento final que baja en línea recta hasta 0.
- :func:`steps_for_budget`: cuántos pasos da en total un entrenamiento por tiempo
  (``TrainConfig.budget_seconds``), a partir de lo que tardaron los primeros.

Solo depende de la biblioteca estándar.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from course_lib.train import TrainConfig


def noam_lr(step: int, d_model: int, warmup: int) -> float:
    """Tasa de aprendizaje del artículo: ``d_model^-0.5 · min(paso^-0.5, paso · warmup^-1.5)``.

    Sube en línea recta durante los ``warmup`` primeros pasos y luego baja como ``1/√paso``;
    el máximo, ``(d_model · warmup)^-0.5``, se alcanza justo en ``paso = warmup``.

    Args:
        step: número de paso, empezando en 1.
        d_model: tamaño de los vectores del modelo.
        warmup: pasos de calentamiento (4000 en el artículo).
    """
    for name, value in (("step", step), ("d_model", d_model), ("warmup", warmup)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` debe ser un entero ≥ 1 (los pasos se cuentan desde 1); recibí {value!r}.")
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def learning_rate(step: int, d_model: int, config: TrainConfig) -> float:
    """La tasa de aprendizaje de :func:`course_lib.train.fit` en el paso ``step`` (desde 1).

    ``lr_scale · noam_lr(step, d_model, warmup)``, multiplicada en los últimos
    ``config.cooldown_steps`` pasos por un factor que baja en línea recta de 1 a
    ``1/cooldown_steps`` (en el último paso) y vale 0 justo después: el calentamiento del
    artículo con un final «enfriado».

    El calentamiento solo depende del número de paso y de ``warmup``, nunca del total. Por eso,
    en un entrenamiento por tiempo (``steps=None`` hasta que :func:`course_lib.train.fit` lo
    calibra) los primeros pasos tienen la misma tasa que si el total se hubiera sabido desde el
    principio: sin total no hay enfriamiento, y el enfriamiento siempre empieza después de la
    calibración (:func:`steps_for_budget`).
    """
    rate = config.lr_scale * noam_lr(step, d_model, config.warmup)
    cooldown = config.cooldown_steps
    if cooldown and config.steps is not None:
        rate *= min(1.0, (config.steps - step + 1) / cooldown)
    return rate


def steps_for_budget(
    budget_seconds: float,
    elapsed: float,
    step: int,
    seconds_per_step: float,
    cooldown_fraction: float = 0.0,
    margin: float = 0.0,
) -> int:
    """Pasos en total de un entrenamiento de ``budget_seconds`` segundos, medidos ya los primeros.

    ``step + ⌊(budget_seconds · (1 − margin) − elapsed) / seconds_per_step⌋``: los pasos ya dados más
    los que caben en lo que queda del presupuesto, guardando la fracción ``margin`` para imprevistos
    (los puntos de control, un paso más lento). Los pasos ya dados usaron la tasa sin enfriamiento,
    así que el enfriamiento (``round(cooldown_fraction · total)`` pasos) tiene que empezar después
    de ellos: si el presupuesto no da para tanto, el total crece lo justo (y el entrenamiento se
    pasa un poco del presupuesto, pero la tasa sigue acabando en 0).

    Args:
        budget_seconds: el presupuesto, en segundos de entrenamiento.
        elapsed: segundos ya gastados (los de la calibración y, al reanudar, los de antes).
        step: pasos ya dados.
        seconds_per_step: lo que tarda un paso, medido en la calibración.
        cooldown_fraction: fracción final de los pasos con enfriamiento (0 = sin él).
        margin: fracción del presupuesto que se deja sin planificar.

    >>> steps_for_budget(100.0, elapsed=10.0, step=20, seconds_per_step=0.5)
    200
    """
    for name, value in (("budget_seconds", budget_seconds), ("seconds_per_step", seconds_per_step)):
        if not _positive(value):
            raise ValueError(f"`{name}` debe ser un número de segundos > 0; recibí {value!r}.")
    if not isinstance(step, numbers.Integral) or isinstance(step, bool) or step < 0:
        raise ValueError(f"`step` debe ser un entero ≥ 0; recibí {step!r}.")
    for name, value in (("cooldown_fraction", cooldown_fraction), ("margin", margin)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
            raise ValueError(f"`{name}` debe ser una fracción en [0, 1); recibí {value!r}.")
    left = budget_seconds * (1 - margin) - elapsed
    total = step + max(0, math.floor(left / seconds_per_step))
    while total - round(cooldown_fraction * total) < step:
        total += 1
    return total


def _positive(value: object) -> bool:
    """¿Es ``value`` un número real finito y > 0 (y no un booleano)?"""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
