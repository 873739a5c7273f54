"""Entrenamiento de traductores: la receta, el historial y el bucle :func:`fit` (06 y 07).

:func:`fit` entrena con AdamW y la tasa de :func:`learning_rate`, recorte del gradiente, precisión
mixta en GPU (bf16 si la tarjeta lo admite, si no fp16 con escalado de la pérdida), barra de
progreso, validación, puntos de control cada N pasos y al final, reanudación tras una
interrupción (p. ej. Colab se desconecta) y varias GPU con ``DistributedDataParallel`` cuando se
lanza con ``torchrun``. Aquí viven la receta (:class:`TrainConfig`), lo que pasó
(:class:`History`), la validación (:func:`evaluate_loss`) y el bucle; cada pieza tiene su módulo:

- :mod:`course_lib.schedule`: :func:`noam_lr` (la tasa del artículo, sección 5.3) y :func:`learning_rate`.
- :mod:`course_lib.losses`: :func:`label_smoothing_loss`.
- :mod:`course_lib.step`: un paso de optimización, :func:`train_step`, con precisión mixta y recorte.
- :mod:`course_lib.checkpoints`: :func:`save_checkpoint`, :func:`load_checkpoint` y la reanudación.
- :mod:`course_lib.distributed`: :func:`init_distributed` y ``DistributedDataParallel``.

Todos esos nombres se siguen pudiendo importar desde aquí (``from course_lib.train import noam_lr``).
Importar este módulo no importa :mod:`course_lib.distributed`: ``init_distributed`` se carga al pedirlo.

En CPU, con la misma semilla, el entrenamiento es determinista: entrenar N pasos, parar,
reanudar desde el punto de control y seguir da los mismos parámetros que no parar nunca.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_lib.checkpoints import CHECKPOINT_NAME, load_checkpoint, resume_training, save_checkpoint, save_training
from course_lib.losses import label_smoothing_loss
from course_lib.schedule import learning_rate, noam_lr
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


@dataclass
class TrainConfig:
    """Receta de entrenamiento.

    Attributes:
        steps: pasos de optimización en total.
        warmup: pasos de calentamiento de :func:`noam_lr`.
        lr_scale: factor que multiplica a :func:`noam_lr` (1 = el artículo).
        cooldown: en los últimos ``cooldown`` pasos la tasa baja en línea recta hasta 0 (0 = sin
            enfriamiento, como el artículo). Con pocos pasos, acabar con la tasa a 0 mejora el modelo
            final; véase :func:`learning_rate`.
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
        max_seconds: presupuesto de tiempo: al superarlo (se mira cada ``log_every`` pasos) el
            entrenamiento para aunque no haya llegado a ``steps`` (``None`` = sin límite).
    """

    steps: int
    warmup: int = 4000
    lr_scale: float = 1.0
    cooldown: int = 0
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
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` debe ser un entero ≥ 1; recibí {value!r}.")
        for name in ("cooldown", "checkpoint_every", "eval_every", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"`{name}` debe ser un entero ≥ 0; recibí {value!r}.")
        if self.cooldown > self.steps:
            raise ValueError(f"`cooldown` ({self.cooldown}) no puede superar `steps` ({self.steps}).")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError(f"`precision` debe ser 'auto', 'bf16', 'fp16' o 'fp32'; recibí {self.precision!r}.")


@dataclass
class History:
    """Lo que pasó durante el entrenamiento (se guarda en los puntos de control)."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0

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
    sabe que han terminado.
    """

    def __init__(self, before: float = 0.0) -> None:
        self.before, self.started, self.paused_for = before, time.perf_counter(), 0.0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.paused_for += time.perf_counter() - started

    def seconds(self) -> float:
        return self.before + time.perf_counter() - self.started - self.paused_for


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


def _due(every: int, step: int, steps: int) -> bool:
    """¿Toca en ``step`` algo que se hace cada ``every`` pasos (0 = nunca) y además al final?"""
    return bool(every) and step % every == 0 and step < steps


def _optimizer(
    model: nn.Module, d_model: int, config: TrainConfig
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW con la receta de ``config`` y un planificador que le da la tasa de :func:`learning_rate`."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.0, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )
    # LambdaLR multiplica la tasa base (1.0) por esta función del paso, que cuenta desde 0.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate(s + 1, d_model, config))
    return optimizer, scheduler


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable[Batch]],
    config: TrainConfig,
    valid: Sequence[Batch] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    resume: bool = True,
    extra: dict[str, Any] | None = None,
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

    Returns:
        El :class:`History` completo (también lo anterior a una reanudación).

    Con ``torch.distributed`` inicializado (``torchrun``), cada proceso entrena una réplica con
    ``DistributedDataParallel`` sobre un lote distinto de cada grupo de ``world_size`` lotes;
    solo el proceso 0 muestra la barra, valida y guarda.
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
    optimizer, scheduler = _optimizer(model, d_model, config)
    dtype = amp_dtype(config.precision, device)
    scaler = grad_scaler(dtype)
    trainables = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    history, step, epoch, consumed = History(), 0, 0, 0
    checkpoint = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir else None
    if resume and checkpoint is not None and checkpoint.exists():
        state = resume_training(checkpoint, **trainables, map_location=device)
        history = History(**state["history"])
        step, epoch, consumed = state["step"], state["epoch"], state["consumed"]
        if rank == 0 and progress:
            print(f"Reanudo desde {checkpoint} (paso {step} de {config.steps}).")

    bar = tqdm(total=config.steps, initial=step, desc="Entrenando", disable=not progress or rank != 0)
    running = _RunningLoss(device)
    clock = _Stopwatch(before=history.seconds)

    def log() -> bool:
        """Anota la pérdida media y la tasa; devuelve si se acabó el tiempo (lo decide el proceso 0)."""
        mean, tokens = running.take()
        history.log_train(step, mean, scheduler.get_last_lr()[0], tokens, clock.seconds())
        bar.set_postfix(pérdida=f"{mean:.3f}", lr=f"{history.lr[-1]:.1e}")
        out_of_time = config.max_seconds is not None and history.seconds >= config.max_seconds
        return distributed.broadcast_flag(out_of_time, device)  # todos paran en el mismo paso

    def validate() -> None:
        if valid and rank == 0:
            with clock.paused():  # la validación no cuenta como tiempo de entrenamiento
                history.log_valid(step, evaluate_loss(model, valid, 0.0, device))

    def save() -> None:
        if checkpoint is not None and rank == 0:
            save_training(checkpoint, **trainables, history=asdict(history), step=step, epoch=epoch,
                          consumed=consumed, config=asdict(config), extra=extra)  # fmt: skip

    model.train()
    stop = False
    while step < config.steps and not stop:
        for seen, batch in _shard(batches(epoch), consumed, rank, world):
            consumed = seen
            src, tgt_in, tgt_out = _batch_tensors(batch, device)
            loss = train_step(net, optimizer, src, tgt_in, tgt_out, smoothing=config.label_smoothing, pad_id=pad_id,
                              clip_norm=config.clip_norm, dtype=dtype, scaler=scaler)  # fmt: skip
            scheduler.step()
            step += 1
            running.add(loss, (tgt_out != pad_id).sum() * world)
            if running.count == config.log_every or step == config.steps:
                stop = log()
            bar.update(1)
            if _due(config.eval_every, step, config.steps):
                validate()
            if _due(config.checkpoint_every, step, config.steps):
                save()
            if step >= config.steps or stop:
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
