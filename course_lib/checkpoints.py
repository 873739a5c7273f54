"""Puntos de control: guardar y reanudar un entrenamiento exactamente donde estaba (06 y 07).

- :func:`save_checkpoint` y :func:`load_checkpoint`: ``torch.save`` atómico y su lectura.
- :func:`rng_state` y :func:`set_rng_state`: los generadores aleatorios de Python, NumPy y
  PyTorch (CPU y CUDA), para que el dropout y el orden de los lotes sigan igual al reanudar.
- :func:`save_training` y :func:`resume_training`: todo lo que :func:`course_lib.train.fit`
  necesita para seguir (pesos, optimizador, planificador, escalador, historial, posición en
  los datos y generadores) en un solo archivo, :data:`CHECKPOINT_NAME`.

El cuaderno 07 (sección 8, «Entrenar: la receta completa») explica para qué sirven: si Colab se
desconecta, volver a ejecutar la celda continúa desde el último punto de control. En CPU, con
la misma semilla, reanudar da los mismos parámetros que no parar nunca.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

CHECKPOINT_NAME = "ultimo.pt"


def rng_state() -> dict[str, Any]:
    """El estado de todos los generadores aleatorios (el de CUDA solo si hay GPU)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Deja los generadores como los guardó :func:`rng_state`."""
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
    """Lee un punto de control guardado por :func:`course_lib.train.fit` o :func:`save_checkpoint`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No existe el punto de control {path}.")
    return torch.load(path, map_location=map_location, weights_only=False)


def save_training(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None,
    history: dict[str, Any],
    step: int,
    epoch: int,
    consumed: int,
    config: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Guarda el estado completo de un entrenamiento (el de :func:`course_lib.train.fit`).

    Args:
        history: el historial, ya convertido en diccionario (``dataclasses.asdict``). Lleva
            ``total_steps``, el total de pasos planificado: en un entrenamiento por tiempo, el que
            fijó la calibración, con el que sigue la reanudación.
        step: pasos de optimización hechos.
        epoch: época en curso.
        consumed: cuántos lotes de esa época ya se usaron.
        config: la receta, también como diccionario (con ``steps`` ya fijado si se calibró).
        extra: datos que se guardan tal cual (p. ej. el tokenizador).
    """
    return save_checkpoint(
        path,
        model=model.state_dict(),
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict() if scaler is not None else None,
        history=history,
        step=step,
        epoch=epoch,
        consumed=consumed,
        rng=rng_state(),
        config=config,
        extra=extra or {},
    )


def resume_training(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Carga un punto de control de :func:`save_training` en los objetos dados y en los generadores.

    Returns:
        El punto de control leído: ``history`` (un diccionario), ``step``, ``epoch``,
        ``consumed``, ``config`` y ``extra``, entre otros.
    """
    state = load_checkpoint(path, map_location=map_location)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state
