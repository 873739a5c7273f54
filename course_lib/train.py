"""Entrenamiento de traductores: la receta, el historial y el bucle :func:`fit` (06 y 07).

:func:`fit` entrena con AdamW y la tasa de :func:`learning_rate`, recorte del gradiente, precisión
mixta en GPU (bf16 si la tarjeta lo admite, si no fp16 con escalado de la pérdida), barra de
progreso, validación, puntos de control cada N pasos y al final, reanudación tras una
interrupción (p. ej. Colab se desconecta) y varias GPU con ``DistributedDataParallel`` cuando se
lanza con ``torchrun``. Aquí viven la receta (:class:`TrainConfig`), lo que pasó
(:class:`History`), la validación (:func:`evaluate_loss`) y el bucle; cada pieza tiene su módulo:

- :mod:`course_lib.schedule`: :func:`noam_lr` (la tasa del artículo, sección 5.3), :func:`learning_rate`
  y :func:`steps_for_budget` (los pasos que caben en un presupuesto de tiempo).
- :mod:`course_lib.losses`: :func:`label_smoothing_loss`.
- :mod:`course_lib.step`: un paso de optimización, :func:`train_step`, con precisión mixta y recorte.
- :mod:`course_lib.checkpoints`: :func:`save_checkpoint`, :func:`load_checkpoint` y la reanudación.
- :mod:`course_lib.distributed`: :func:`init_distributed` y ``DistributedDataParallel``.

Todos esos nombres se siguen pudiendo importar desde aquí (``from course_lib.train import noam_lr``).
Importar este módulo no importa :mod:`course_lib.distributed`: ``init_distributed`` se carga al pedirlo.

En CPU, con la misma semilla, el entrenamiento es determinista: entrenar N pasos, parar,
reanudar desde el punto de control y seguir da los mismos parámetros que no parar nunca.

**Por pasos o por tiempo.** Con ``TrainConfig(steps=N)`` se dan N pasos, en cualquier máquina
(así se reproduce un entrenamiento). Con ``TrainConfig(budget_seconds=S)`` y sin ``steps``,
:func:`fit` mide lo que tardan los primeros pasos (la *calibración*: pasos de entrenamiento de
verdad) y fija con ellos el total (:func:`course_lib.schedule.steps_for_budget`), de modo que el
calentamiento y el enfriamiento final caben en los S segundos en una máquina rápida y en una
lenta. El total se guarda en el historial (``History.total_steps``) y en los puntos de control:
al reanudar se sigue con ese total, sin volver a calibrar.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_lib.checkpoints import CHECKPOINT_NAME, load_checkpoint, resume_training, save_checkpoint, save_training
from course_lib.losses import label_smoothing_loss
from course_lib.schedule import _positive, learning_rate, noam_lr, steps_for_budget
from course_lib.step import amp_dtype, grad_scaler, train_step
from course_lib.tokens import Batch
from course_lib.utils import get_device, seed_everything

__all__ = [
    "CHECKPOINT_NAME",
    "History",
    "TrainConfig",
    "evaluate_loss",
    "fit",
    "init_distributed",  # noqa: F822 (lo da __getattr__, abajo)
    "label_smoothing_loss",
    "learning_rate",
    "load_checkpoint",
    "noam_lr",
    "save_checkpoint",
    "steps_for_budget",
    "train_step",
]

# Nombres de course_lib.distributed que se importaban desde aquí (``_distributed`` es el nombre
# antiguo de ``rank_and_world``). Se cargan al pedirlos: así importar este módulo no importa aquel.
_FROM_DISTRIBUTED = {"init_distributed": "init_distributed", "_distributed": "rank_and_world"}


def __getattr__(name: str) -> Any:
    if name in _FROM_DISTRIBUTED:
        from course_lib import distributed

        return getattr(distributed, _FROM_DISTRIBUTED[name])
    raise AttributeError(f"el módulo {__name__!r} no tiene el atributo {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_DISTRIBUTED})


# Entrenamiento por tiempo (TrainConfig.budget_seconds): la calibración mide al menos estos pasos
# (sin contar el primero de la sesión, que paga la puesta en marcha) y al menos esta fracción del
# presupuesto; al planificar se deja sin usar BUDGET_MARGIN del presupuesto.
CALIBRATION_STEPS = 20
CALIBRATION_FRACTION = 0.05
BUDGET_MARGIN = 0.03


@dataclass
class TrainConfig:
    """Receta de entrenamiento.

    La duración se da de una de dos maneras (véase la cabecera del módulo):

    - ``steps``: pasos en total. Manda si se da: ``budget_seconds`` se ignora y el entrenamiento
      es reproducible (el mismo en cualquier máquina).
    - ``budget_seconds`` sin ``steps``: :func:`fit` calibra y fija ``steps`` él mismo.

    Attributes:
        steps: pasos de optimización en total (``None`` = los decide el presupuesto).
        budget_seconds: presupuesto en segundos de entrenamiento (el reloj de ``History.seconds``:
            la validación no cuenta). Decide cuántos pasos se dan y, con ellos, dónde empieza el
            enfriamiento.
        warmup: pasos de calentamiento de :func:`noam_lr`. Se fija antes de empezar, también con
            presupuesto: la tasa de los primeros pasos no depende del total.
        lr_scale: factor que multiplica a :func:`noam_lr` (1 = el artículo).
        cooldown: en los últimos ``cooldown`` pasos la tasa baja en línea recta hasta 0 (0 = sin
            enfriamiento, como el artículo). Con pocos pasos, acabar con la tasa a 0 mejora el modelo
            final; véase :func:`learning_rate`.
        cooldown_fraction: el enfriamiento como fracción del total, ``round(cooldown_fraction · steps)``
            pasos; es la forma de pedirlo cuando el total lo decide el presupuesto. Se da ``cooldown``
            o ``cooldown_fraction``, no los dos.
        label_smoothing: ``ε`` de :func:`label_smoothing_loss` (0.1 en el artículo).
        clip_norm: norma máxima del gradiente (0 = sin recorte).
        betas, eps, weight_decay: de AdamW (el artículo: 0.9, 0.98, 1e-9, sin decaimiento).
        precision: ``"auto"`` (bf16 en GPU que lo admite, si no fp16; fp32 en CPU), ``"bf16"``,
            ``"fp16"`` o ``"fp32"``.
        checkpoint_dir: carpeta de los puntos de control (``None`` = no se guardan).
        checkpoint_every: guardar cada tantos pasos (0 = solo al final).
        eval_every: validar cada tantos pasos (0 = solo al final).
        log_every: pasos entre anotaciones de la pérdida de entrenamiento.
        seed: semilla (dropout y orden de los lotes).
        max_seconds: tope de seguridad, aparte del presupuesto: al superarlo (se mira cada
            ``log_every`` pasos) el entrenamiento para aunque no haya llegado a ``steps``, a mitad
            de la tasa planificada (``None`` = sin tope). Para que el enfriamiento quepa en un
            tiempo dado, usa ``budget_seconds``.
    """

    steps: int | None = None
    budget_seconds: float | None = None
    warmup: int = 4000
    lr_scale: float = 1.0
    cooldown: int = 0
    cooldown_fraction: float = 0.0
    label_smoothing: float = 0.1
    clip_norm: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-9
    weight_decay: float = 0.0
    precision: str = "auto"
    checkpoint_dir: str | Path | None = None
    checkpoint_every: int = 0
    eval_every: int = 0
    log_every: int = 10
    seed: int = 0
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "warmup"):
            value = getattr(self, name)
            if name == "steps" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` debe ser un entero ≥ 1; recibí {value!r}.")
        if self.budget_seconds is not None and not _positive(self.budget_seconds):
            raise ValueError(
                f"`budget_seconds` debe ser un número de segundos > 0 (o None); recibí {self.budget_seconds!r}."
            )
        if self.steps is None and self.budget_seconds is None:
            raise ValueError("Falta la duración: da `steps` (pasos) o `budget_seconds` (segundos).")
        for name in ("cooldown", "checkpoint_every", "eval_every", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"`{name}` debe ser un entero ≥ 0; recibí {value!r}.")
        fraction = self.cooldown_fraction
        if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 <= fraction < 1:
            raise ValueError(f"`cooldown_fraction` debe ser una fracción en [0, 1); recibí {fraction!r}.")
        if self.cooldown and fraction:
            raise ValueError("Da `cooldown` (pasos) o `cooldown_fraction` (fracción del total), no los dos.")
        if self.cooldown and self.steps is None:
            raise ValueError(
                "Con `budget_seconds` el total aún no se sabe: pide el enfriamiento con `cooldown_fraction`."
            )
        if self.steps is not None and self.cooldown > self.steps:
            raise ValueError(f"`cooldown` ({self.cooldown}) no puede superar `steps` ({self.steps}).")
        if self.max_seconds is not None and not (_positive(self.max_seconds) or self.max_seconds == 0):
            raise ValueError(f"`max_seconds` debe ser un número de segundos ≥ 0 (o None); recibí {self.max_seconds!r}.")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError(f"`precision` debe ser 'auto', 'bf16', 'fp16' o 'fp32'; recibí {self.precision!r}.")

    @property
    def cooldown_steps(self) -> int:
        """Pasos de enfriamiento: ``cooldown`` o ``round(cooldown_fraction · steps)``; 0 sin ``steps``."""
        if self.steps is None:
            return 0
        return self.cooldown or round(self.cooldown_fraction * self.steps)


@dataclass
class History:
    """Lo que pasó durante el entrenamiento (se guarda en los puntos de control).

    ``total_steps`` es el total planificado: ``TrainConfig.steps`` o, en un entrenamiento por
    tiempo, el que fijó la calibración (``None`` mientras calibra). ``steps``, ``train_loss`` y
    ``lr`` son las anotaciones de cada ``log_every`` pasos.
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    total_steps: int | None = None

    @property
    def tokens_per_second(self) -> float:
        """Tokens de destino (sin relleno) procesados por segundo de entrenamiento."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def log_train(self, step: int, loss: float, lr: float, tokens: int, seconds: float) -> None:
        """Anota la pérdida media de entrenamiento y la tasa en ``step``; suma ``tokens`` y pone el tiempo total."""
        self.steps.append(step)
        self.train_loss.append(loss)
        self.lr.append(lr)
        self.tokens += tokens
        self.seconds = seconds

    def log_valid(self, step: int, loss: float) -> None:
        """Anota la pérdida de validación en ``step``."""
        self.valid_steps.append(step)
        self.valid_loss.append(loss)

    def plot(self, ax: Any = None, title: str = "Curva de aprendizaje") -> Any:
        """Pérdida de entrenamiento (y de validación, si la hay) frente al paso."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        ax.plot(self.steps, self.train_loss, label="entrenamiento (con suavizado)")
        if self.valid_steps:
            ax.plot(self.valid_steps, self.valid_loss, "o-", label="validación (sin suavizado)")
        ax.set_xlabel("paso")
        ax.set_ylabel("pérdida (entropía cruzada por token)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        return ax


def _batch_tensors(batch: Any, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """``(src, tgt_in, tgt_out)`` de un lote, en ``device``."""
    if isinstance(batch, Batch) or all(hasattr(batch, a) for a in ("src", "tgt_in", "tgt_out")):
        return (
            batch.src.to(device, non_blocking=True),
            batch.tgt_in.to(device, non_blocking=True),
            batch.tgt_out.to(device, non_blocking=True),
        )
    raise TypeError(f"Cada lote debe ser un course_lib.tokens.Batch (src, tgt_in, tgt_out); recibí {type(batch)}.")


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, batches: Iterable[Batch], smoothing: float = 0.0, device: torch.device | None = None
) -> float:
    """Pérdida media por token (sin relleno) de ``model`` sobre ``batches``, en modo evaluación."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for batch in batches:
            src, tgt_in, tgt_out = _batch_tensors(batch, device)
            logits = model(src, tgt_in)
            n = int((tgt_out != model.pad_id).sum())
            total += float(label_smoothing_loss(logits, tgt_out, smoothing, model.pad_id)) * n
            count += n
    finally:
        model.train(was_training)
    return total / max(count, 1)


class _RunningLoss:
    """Pérdida y tokens acumulados en el dispositivo entre dos anotaciones del historial.

    Leerlos obliga a esperar a la GPU: por eso se suman allí y se leen solo cada ``log_every`` pasos.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.total, self.count = torch.zeros((), device=device), 0
        self.tokens = torch.zeros((), dtype=torch.long, device=device)

    def add(self, loss: Tensor, tokens: Tensor) -> None:
        self.total += loss
        self.count += 1
        self.tokens += tokens

    def take(self) -> tuple[float, int]:
        """``(pérdida media, tokens)`` desde la última lectura, y vuelve a empezar."""
        mean, tokens = float(self.total) / self.count, int(self.tokens)
        self.total, self.count = torch.zeros((), device=self.device), 0
        self.tokens.zero_()
        return mean, tokens


class _Stopwatch:
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


class _Calibration:
    """Mide los segundos por paso al principio de un entrenamiento por tiempo.

    La ventana empieza tras el primer paso de la sesión (que paga la puesta en marcha: memoria,
    hilos, compilación de núcleos) y termina cuando ha medido al menos :data:`CALIBRATION_STEPS`
    pasos y :data:`CALIBRATION_FRACTION` del presupuesto.
    """

    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds
        self.start: tuple[int, float] | None = None  # (paso, segundos) al abrir la ventana

    def seconds_per_step(self, step: int, seconds: float) -> float | None:
        """Tras el paso ``step``, con ``seconds`` de entrenamiento: la medida, o ``None`` si aún mide."""
        if self.start is None:
            self.start = (step, seconds)
            return None
        steps, elapsed = step - self.start[0], seconds - self.start[1]
        if steps >= CALIBRATION_STEPS and elapsed >= CALIBRATION_FRACTION * self.budget_seconds:
            return elapsed / steps
        return None


def _shard(epoch_batches: Iterable[Batch], start: int, rank: int, world: int) -> Iterator[tuple[int, Batch]]:
    """Los lotes de este proceso en una época, saltándose los ``start`` primeros (ya vistos).

    Cada grupo de ``world`` lotes seguidos da uno a cada proceso; un grupo incompleto al final
    de la época se descarta. Con cada lote da también cuántos lotes de la época van consumidos.
    """
    group: list[Batch] = []
    for index, batch in enumerate(epoch_batches):
        if index < start:
            continue
        group.append(batch)
        if len(group) == world:
            yield index + 1, group[rank]
            group = []


def _due(every: int, step: int, steps: int | None) -> bool:
    """¿Toca en ``step`` algo que se hace cada ``every`` pasos (0 = nunca) y además al final?"""
    return bool(every) and step % every == 0 and (steps is None or step < steps)


def _optimizer(
    model: nn.Module, config: TrainConfig, rate: Callable[[int], float]
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW con la receta de ``config`` y un planificador que le da la tasa ``rate(paso)`` (desde 1)."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.0, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )
    # LambdaLR multiplica la tasa base (1.0) por esta función del paso, que cuenta desde 0.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: rate(s + 1))
    return optimizer, scheduler


def _synchronize(device: torch.device) -> None:
    """Espera a que la GPU termine lo encolado (para medir tiempos); en CPU no hace nada."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _broadcast_int(value: int, device: torch.device) -> int:
    """El entero ≥ 0 ``value`` del proceso 0, el mismo en todos los procesos (sin varios procesos, ``value``).

    Bit a bit con :func:`course_lib.distributed.broadcast_flag`: se usa una vez por entrenamiento.
    """
    from course_lib import distributed

    if distributed.rank_and_world()[1] == 1:
        return value
    return sum(int(distributed.broadcast_flag(bool(value >> bit & 1), device)) << bit for bit in range(48))


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable[Batch]],
    config: TrainConfig,
    valid: Sequence[Batch] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    resume: bool = True,
    extra: dict[str, Any] | None = None,
    clock: Callable[[], float] | None = None,
) -> History:
    """Entrena ``model`` (un :class:`course_lib.transformer.Transformer` o algo con la misma interfaz).

    Args:
        model: con ``pad_id``, ``d_model`` y ``forward(src, tgt_in) → logits (B, T, V)``.
        batches: ``batches(epoch)`` devuelve los lotes de esa época, siempre en el mismo orden
            para la misma época (así se puede reanudar a mitad de una).
        config: la receta (:class:`TrainConfig`).
        valid: lotes de validación (pérdida sin suavizado cada ``config.eval_every`` pasos y al final).
        device: dónde entrenar (por defecto, :func:`course_lib.utils.get_device`).
        progress: barra de progreso con la pérdida.
        resume: si ``config.checkpoint_dir`` tiene un punto de control, seguir desde él.
        extra: datos que se guardan tal cual en los puntos de control (p. ej. el tokenizador).
        clock: el reloj de los segundos de entrenamiento (por defecto ``time.perf_counter``); las
            pruebas le dan uno falso para que la calibración sea determinista.

    Returns:
        El :class:`History` completo (también lo anterior a una reanudación).

    **Entrenamiento por tiempo** (``config.budget_seconds`` sin ``config.steps``):

    1. Los primeros pasos son la calibración (:class:`_Calibration`): pasos de entrenamiento
       normales, con la tasa del calentamiento y sin enfriamiento (:func:`learning_rate` sin
       total), en los que además se miden los segundos por paso.
    2. Con esa medida, :func:`steps_for_budget` fija el total: los pasos que caben en el
       presupuesto, menos un margen de :data:`BUDGET_MARGIN`. El enfriamiento son los últimos
       ``round(cooldown_fraction · total)`` pasos y siempre empieza después de la calibración;
       el calentamiento (``warmup``) ya estaba fijado. Así el entrenamiento acaba con la tasa a 0
       dentro del presupuesto, en una máquina rápida o en una lenta.
    3. El total queda en ``History.total_steps`` y en los puntos de control; al reanudar se sigue
       con él, sin volver a calibrar (si el corte llegó durante la calibración, se calibra de nuevo).

    Como la tasa de los pasos de calibración no depende del total, entrenar por tiempo da en CPU
    los mismos parámetros que entrenar con ``TrainConfig(steps=history.total_steps, …)``.
    ``config.max_seconds`` sigue siendo un tope aparte, que corta donde esté.

    Con ``torch.distributed`` inicializado (``torchrun``), cada proceso entrena una réplica con
    ``DistributedDataParallel`` sobre un lote distinto de cada grupo de ``world_size`` lotes;
    solo el proceso 0 muestra la barra, valida y guarda (y su calibración decide el total de todos).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"`config` debe ser un TrainConfig; recibí {type(config).__name__}.")
    if not callable(batches):
        raise TypeError("`batches` debe ser una función: batches(epoch) → lotes de esa época.")
    from course_lib import distributed  # aquí y no arriba: véase la cabecera del módulo

    device = torch.device(device) if device is not None else get_device()
    rank, world = distributed.rank_and_world()
    seed_everything(config.seed)
    model.to(device)
    pad_id = getattr(model, "pad_id", 0)
    d_model = getattr(model, "d_model", None)
    if d_model is None:
        raise TypeError("`model` debe tener el atributo `d_model` (lo usa noam_lr).")
    net = distributed.wrap_model(model, device)
    # `plan` es la receta con el total ya fijado (sin él mientras calibra); la tasa la lee en cada paso.
    plan = config
    optimizer, scheduler = _optimizer(model, config, lambda s: learning_rate(s, d_model, plan))
    dtype = amp_dtype(config.precision, device)
    scaler = grad_scaler(dtype)
    trainables = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    history, step, epoch, consumed = History(), 0, 0, 0
    checkpoint = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir else None
    if resume and checkpoint is not None and checkpoint.exists():
        state = resume_training(checkpoint, **trainables, map_location=device)
        history = History(**state["history"])
        step, epoch, consumed = state["step"], state["epoch"], state["consumed"]
    if config.steps is None and history.total_steps is not None:
        plan = replace(config, steps=history.total_steps)  # el total calibrado antes del corte
    history.total_steps = plan.steps
    if step and rank == 0 and progress:
        print(f"Reanudo desde {checkpoint} (paso {step} de {plan.steps or 'un total aún por calibrar'}).")

    bar = tqdm(total=plan.steps, initial=step, desc="Entrenando", disable=not progress or rank != 0)
    running = _RunningLoss(device)
    stopwatch = _Stopwatch(before=history.seconds, clock=clock)
    calibration = _Calibration(config.budget_seconds) if plan.steps is None else None

    def log() -> bool:
        """Anota la pérdida media y la tasa; devuelve si se acabó el tiempo (lo decide el proceso 0)."""
        mean, tokens = running.take()
        history.log_train(step, mean, scheduler.get_last_lr()[0], tokens, stopwatch.seconds())
        bar.set_postfix(pérdida=f"{mean:.3f}", lr=f"{history.lr[-1]:.1e}")
        out_of_time = config.max_seconds is not None and history.seconds >= config.max_seconds
        return distributed.broadcast_flag(out_of_time, device)  # todos paran en el mismo paso

    def calibrate() -> TrainConfig | None:
        """Tras cada paso de la calibración: la receta con el total, cuando la medida está lista."""
        assert calibration is not None and config.budget_seconds is not None
        _synchronize(device)  # en GPU, medir lo hecho y no solo lo encolado
        seconds = stopwatch.seconds()
        per_step = calibration.seconds_per_step(step, seconds)
        if not distributed.broadcast_flag(per_step is not None, device):  # el proceso 0 decide
            return None
        total = 0
        if per_step is not None and rank == 0:
            total = steps_for_budget(config.budget_seconds, seconds, step, per_step, config.cooldown_fraction,
                                     BUDGET_MARGIN)  # fmt: skip
        calibrated = replace(config, steps=_broadcast_int(total, device))
        if rank == 0:
            _report_calibration(calibrated, per_step, step, progress)
        return calibrated

    def validate() -> None:
        if valid and rank == 0:
            with stopwatch.paused():  # la validación no cuenta como tiempo de entrenamiento
                history.log_valid(step, evaluate_loss(model, valid, 0.0, device))

    def save() -> None:
        if checkpoint is not None and rank == 0:
            save_training(checkpoint, **trainables, history=asdict(history), step=step, epoch=epoch,
                          consumed=consumed, config=asdict(plan), extra=extra)  # fmt: skip

    model.train()
    stop = False
    while (plan.steps is None or step < plan.steps) and not stop:
        for seen, batch in _shard(batches(epoch), consumed, rank, world):
            consumed = seen
            src, tgt_in, tgt_out = _batch_tensors(batch, device)
            loss = train_step(net, optimizer, src, tgt_in, tgt_out, smoothing=config.label_smoothing, pad_id=pad_id,
                              clip_norm=config.clip_norm, dtype=dtype, scaler=scaler)  # fmt: skip
            scheduler.step()
            step += 1
            running.add(loss, (tgt_out != pad_id).sum() * world)
            if plan.steps is None and (calibrated := calibrate()) is not None:
                plan = calibrated
                history.total_steps = plan.steps
                bar.total = plan.steps
                bar.refresh()
            if running.count == config.log_every or step == plan.steps:
                stop = log()
            bar.update(1)
            if _due(config.eval_every, step, plan.steps):
                validate()
            if _due(config.checkpoint_every, step, plan.steps):
                save()
            if (plan.steps is not None and step >= plan.steps) or stop:
                break
        else:
            if consumed == 0:
                raise ValueError(f"`batches({epoch})` no dio ningún lote (o menos que procesos: {world}).")
            epoch, consumed = epoch + 1, 0
    bar.close()
    validate()
    save()
    if not math.isfinite(history.train_loss[-1] if history.train_loss else 0.0):
        print("Aviso: la pérdida no es finita; prueba con una tasa de aprendizaje menor o más calentamiento.")
    return history


def _report_calibration(plan: TrainConfig, per_step: float | None, step: int, progress: bool) -> None:
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
