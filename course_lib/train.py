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
Importar este módulo no importa :mod:`course_lib.distributed`: ``fit`` lo carga solo con varios procesos
(``init_distributed`` se importa de allí).

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

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_lib.budget import (
    BUDGET_MARGIN,
    Calibration,
    Stopwatch,
    replan,
    report_calibration,
)
from course_lib.checkpoints import CHECKPOINT_NAME, load_checkpoint, resume_training, save_checkpoint, save_training
from course_lib.losses import label_smoothing_loss
from course_lib.schedule import learning_rate, noam_lr, steps_for_budget
from course_lib.step import amp_dtype, grad_scaler, train_step
from course_lib.tokens import Batch
from course_lib.train_config import History, TrainConfig
from course_lib.utils import get_device, seed_everything

__all__ = [
    "CHECKPOINT_NAME",
    "History",
    "TrainConfig",
    "evaluate_loss",
    "fit",
    "label_smoothing_loss",
    "learning_rate",
    "load_checkpoint",
    "noam_lr",
    "save_checkpoint",
    "steps_for_budget",
    "train_step",
]


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

    1. Los primeros pasos son la calibración (:class:`course_lib.budget.Calibration`): pasos de entrenamiento
       normales, con la tasa del calentamiento y sin enfriamiento (:func:`learning_rate` sin
       total), en los que además se miden los segundos por paso.
    2. Con esa medida, :func:`steps_for_budget` fija el total: los pasos que caben en el
       presupuesto, menos un margen de :data:`BUDGET_MARGIN`. El enfriamiento son los últimos
       ``round(cooldown_fraction · total)`` pasos y siempre empieza después de la calibración;
       el calentamiento (``warmup``) ya estaba fijado. Así el entrenamiento acaba con la tasa a 0
       dentro del presupuesto, en una máquina rápida o en una lenta.
    3. Una segunda medida, igual, justo después (solo con un proceso): si la máquina estaba ocupada al
       calibrar (o lo está ahora) y el total que da cambia más de un 10 %, se fija el nuevo, siempre que
       el enfriamiento no haya empezado (:func:`course_lib.budget.replan`).
    4. El total queda en ``History.total_steps`` y en los puntos de control; al reanudar se sigue
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
    stopwatch = Stopwatch(before=history.seconds, clock=clock)
    calibration = Calibration(config.budget_seconds) if plan.steps is None else None
    # La segunda medida (un solo proceso): se abre al acabar la calibración de esta sesión.
    recheck: Calibration | None = None

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
        calibrated = replace(config, steps=distributed.broadcast_int(total, device))
        if rank == 0:
            report_calibration(calibrated, per_step, step, progress)
        return calibrated

    def recalibrate() -> TrainConfig | None:
        """Tras cada paso de la segunda medida: la receta con otro total si el ritmo cambió (véase ``replan``)."""
        nonlocal recheck
        assert recheck is not None and recheck.start is not None
        if recheck.seconds_per_step(step, stopwatch.seconds()) is None:  # sin esperar a la GPU en cada paso
            return None
        _synchronize(device)
        seconds = stopwatch.seconds()
        (start_step, start_seconds), recheck = recheck.start, None  # una sola vez
        per_step = (seconds - start_seconds) / (step - start_step)
        replanned = replan(plan, step, seconds, per_step)
        if replanned is not None and progress:
            tqdm.write(
                f"Segunda medida tras {step} pasos: {1000 * per_step:.0f} ms por paso → {replanned.steps} pasos "
                f"(antes {plan.steps}; enfriamiento {replanned.cooldown_steps})."
            )
        return replanned

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
                if world == 1:
                    recheck = Calibration(config.budget_seconds)
                    recheck.seconds_per_step(step, stopwatch.seconds())  # abre la ventana aquí
            elif recheck is not None and (replanned := recalibrate()) is not None:
                plan = replanned
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
