"""Entrenamiento de traductores: pérdida con suavizado, calentamiento y un bucle con puntos de control (06 y 07).

- :func:`label_smoothing_loss`: entropía cruzada con suavizado de etiquetas que ignora el relleno.
- :func:`noam_lr`: la tasa de aprendizaje del artículo (sección 5.3), con calentamiento lineal
  y caída como ``1/√paso``.
- :func:`learning_rate`: la de ``noam_lr`` con el factor ``lr_scale`` y un enfriamiento final
  opcional (baja en línea recta hasta 0 en los últimos pasos).
- :func:`fit`: AdamW + ``learning_rate``, recorte del gradiente, precisión mixta en GPU (bf16 si la
  tarjeta lo admite, si no fp16 con escalado de la pérdida), barra de progreso, validación,
  puntos de control cada N pasos y al final, reanudación tras una interrupción (p. ej. Colab
  se desconecta) y varias GPU con ``DistributedDataParallel`` cuando se lanza con ``torchrun``.

En CPU, con la misma semilla, el entrenamiento es determinista: entrenar N pasos, parar,
reanudar desde el punto de control y seguir da los mismos parámetros que no parar nunca.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_lib.tokens import Batch
from course_lib.utils import get_device, seed_everything

CHECKPOINT_NAME = "ultimo.pt"


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
    """La tasa de aprendizaje de :func:`fit` en el paso ``step`` (desde 1).

    ``lr_scale · noam_lr(step, d_model, warmup)``, multiplicada en los últimos ``cooldown``
    pasos por un factor que baja en línea recta de 1 a ``1/cooldown`` (en el último paso): el
    calentamiento del artículo con un final «enfriado».
    """
    rate = config.lr_scale * noam_lr(step, d_model, config.warmup)
    if config.cooldown:
        rate *= min(1.0, (config.steps - step + 1) / config.cooldown)
    return rate


def label_smoothing_loss(logits: Tensor, target: Tensor, smoothing: float, pad_id: int) -> Tensor:
    """Entropía cruzada con suavizado de etiquetas, media sobre los tokens que no son relleno.

    La distribución objetivo pone ``1 - ε`` en la palabra correcta y reparte ``ε`` a partes
    iguales entre las ``V`` palabras del vocabulario (la correcta incluida), como
    ``F.cross_entropy(..., label_smoothing=ε)``:

        pérdida(t) = (1 - ε) · (−log p_t[y_t]) + ε · media_v(−log p_t[v])

    Args:
        logits: ``(B, T, V)`` o ``(N, V)``, sin softmax.
        target: ``(B, T)`` o ``(N,)``, enteros; las posiciones con ``pad_id`` no cuentan.
        smoothing: ``ε`` en ``[0, 1)``; con 0 es la entropía cruzada de siempre.
        pad_id: identificador del relleno.

    Returns:
        Escalar: la media sobre los tokens reales (0 si no hay ninguno).
    """
    if not isinstance(logits, Tensor) or not isinstance(target, Tensor):
        raise TypeError("`logits` y `target` deben ser torch.Tensor.")
    if logits.dim() < 2 or logits.shape[:-1] != target.shape:
        raise ValueError(
            f"`logits` debe tener forma (B, T, V) o (N, V) y `target` (B, T) o (N,) con las mismas dimensiones "
            f"iniciales; recibí logits {tuple(logits.shape)} y target {tuple(target.shape)}."
        )
    if target.dtype.is_floating_point or target.dtype == torch.bool:
        raise TypeError(f"`target` debe contener índices enteros; recibí el tipo {target.dtype}.")
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not 0 <= smoothing < 1:
        raise ValueError(f"`smoothing` debe ser un número en [0, 1); recibí {smoothing!r}.")
    log_probs = torch.log_softmax(logits.float(), dim=-1).reshape(-1, logits.size(-1))  # (N, V)
    target = target.reshape(-1)  # (N,)
    real = target != pad_id  # (N,)
    nll = -log_probs.gather(1, target.clamp(min=0)[:, None]).squeeze(1)  # (N,) −log p[y]
    uniform = -log_probs.mean(dim=-1)  # (N,) media de −log p[v]
    per_token = (1 - smoothing) * nll + smoothing * uniform
    return (per_token * real).sum() / real.sum().clamp(min=1)


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


def _amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Tipo de la precisión mixta, o ``None`` para fp32."""
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


def _batch_tensors(batch: Any, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
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


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, **state: Any) -> Path:
    """Guarda ``state`` con ``torch.save`` de forma atómica (un corte a medias nunca deja un archivo roto)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".parcial")
    torch.save(state, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Lee un punto de control guardado por :func:`fit` o :func:`save_checkpoint`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No existe el punto de control {path}.")
    return torch.load(path, map_location=map_location, weights_only=False)


def init_distributed() -> tuple[int, int, torch.device]:
    """Si el proceso lo lanzó ``torchrun`` con varios procesos, inicializa ``torch.distributed``.

    Usa NCCL con GPU (una por proceso, la de ``LOCAL_RANK``) y gloo en CPU.

    Returns:
        ``(rank, world_size, device)``; sin ``torchrun``, ``(0, 1, get_device())``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, get_device()
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def _distributed() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


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
    device = torch.device(device) if device is not None else get_device()
    rank, world = _distributed()
    seed_everything(config.seed)
    model.to(device)
    pad_id = getattr(model, "pad_id", 0)
    d_model = getattr(model, "d_model", None)
    if d_model is None:
        raise TypeError("`model` debe tener el atributo `d_model` (lo usa noam_lr).")
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.0, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )
    # LambdaLR multiplica la tasa base (1.0) por esta función del paso, que cuenta desde 0.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate(s + 1, d_model, config))
    amp_dtype = _amp_dtype(config.precision, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    history = History()
    step, epoch, consumed = 0, 0, 0
    checkpoint = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir else None

    if resume and checkpoint is not None and checkpoint.exists():
        state = load_checkpoint(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        history = History(**state["history"])
        step, epoch, consumed = state["step"], state["epoch"], state["consumed"]
        _set_rng_state(state["rng"])
        if rank == 0 and progress:
            print(f"Reanudo desde {checkpoint} (paso {step} de {config.steps}).")

    def save() -> None:
        if checkpoint is None or rank != 0:
            return
        save_checkpoint(
            checkpoint,
            model=model.state_dict(),
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
            scaler=scaler.state_dict() if scaler is not None else None,
            history=asdict(history),
            step=step,
            epoch=epoch,
            consumed=consumed,
            rng=_rng_state(),
            config=asdict(config),
            extra=extra or {},
        )

    def validate() -> None:
        nonlocal paused
        if valid and rank == 0:
            started = time.perf_counter()
            history.valid_steps.append(step)
            history.valid_loss.append(evaluate_loss(model, valid, 0.0, device))
            paused += time.perf_counter() - started  # la validación no cuenta como tiempo de entrenamiento

    bar = tqdm(total=config.steps, initial=step, desc="Entrenando", disable=not progress or rank != 0)
    running, running_n = torch.zeros((), device=device), 0
    tokens = torch.zeros((), dtype=torch.long, device=device)
    # Tiempo de pared (no por paso: en GPU las operaciones son asíncronas y solo al leer la
    # pérdida se sabe que han terminado).
    seconds_before, loop_started, paused = history.seconds, time.perf_counter(), 0.0
    model.train()
    stop = False
    while step < config.steps and not stop:
        group: list[Batch] = []
        for index, batch in enumerate(batches(epoch)):
            if index < consumed:
                continue  # lotes de esta época ya vistos antes de reanudar
            group.append(batch)
            if len(group) < world:
                continue
            mine, group = group[rank], []
            consumed = index + 1
            src, tgt_in, tgt_out = _batch_tensors(mine, device)
            autocast = (
                torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
            )
            with autocast:
                logits = net(src, tgt_in)  # (B, T, V)
            loss = label_smoothing_loss(logits, tgt_out, config.label_smoothing, pad_id)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            if config.clip_norm > 0:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            step += 1
            running += loss.detach()
            running_n += 1
            tokens += (tgt_out != pad_id).sum() * world
            if running_n == config.log_every or step == config.steps:
                mean = float(running) / running_n  # una sincronización cada log_every pasos
                history.tokens += int(tokens)
                tokens.zero_()
                history.seconds = seconds_before + time.perf_counter() - loop_started - paused
                history.steps.append(step)
                history.train_loss.append(mean)
                history.lr.append(scheduler.get_last_lr()[0])
                bar.set_postfix(pérdida=f"{mean:.3f}", lr=f"{history.lr[-1]:.1e}")
                running, running_n = torch.zeros((), device=device), 0
                out_of_time = config.max_seconds is not None and history.seconds >= config.max_seconds
                if world > 1:  # todos los procesos deben parar en el mismo paso
                    flag = torch.tensor(float(out_of_time), device=device)
                    dist.broadcast(flag, src=0)
                    out_of_time = bool(flag.item())
                if out_of_time:
                    stop = True
            bar.update(1)
            if config.eval_every and step % config.eval_every == 0 and step < config.steps:
                validate()
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
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
