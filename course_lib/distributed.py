"""Varias GPU: ``torch.distributed`` y ``DistributedDataParallel`` para :func:`course_lib.train.fit` (07).

- :func:`init_distributed`: si el proceso lo lanzó ``torchrun``, inicializa el grupo de procesos.
- :func:`rank_and_world`: qué proceso soy y cuántos hay (``(0, 1)`` sin ``torch.distributed``).
- :func:`wrap_model`: el modelo envuelto en ``DistributedDataParallel`` cuando hay varios procesos.
- :func:`broadcast_flag`: el valor de un booleano en el proceso 0, en todos los procesos (para
  que todos paren en el mismo paso); :func:`broadcast_int` y :func:`broadcast_object`, lo mismo
  para un entero y para cualquier objeto que ``pickle`` sepa guardar.
- :func:`main_process_first`: el proceso 0 hace algo primero (descargar los datos) y los demás
  esperan a que acabe.

Es el único módulo de la biblioteca que importa ``torch.distributed``. El cuaderno 07,
sección 17 («Desde la línea de órdenes»), muestra cómo lanzar el entrenamiento con ``torchrun``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from course_lib.utils import get_device


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


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` del grupo de procesos; ``(0, 1)`` si no hay ninguno inicializado."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def wrap_model(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` en ``DistributedDataParallel`` si hay varios procesos; si no, el mismo ``model``.

    El envoltorio promedia los gradientes entre procesos en la pasada hacia atrás; sus
    parámetros son los de ``model``, así que el optimizador se crea con ``model.parameters()``.
    """
    if rank_and_world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def broadcast_flag(value: bool, device: torch.device) -> bool:
    """El ``value`` del proceso 0, el mismo en todos los procesos (sin varios procesos, ``value``)."""
    if rank_and_world()[1] == 1:
        return value
    flag = torch.tensor(float(value), device=device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


def broadcast_int(value: int, device: torch.device) -> int:
    """El entero ``value`` del proceso 0, el mismo en todos los procesos (sin varios procesos, ``value``).

    Lo usa :func:`course_lib.train.fit` para que todos den los pasos que calibró el proceso 0.
    """
    if rank_and_world()[1] == 1:
        return value
    number = torch.tensor(value, dtype=torch.long, device=device)
    dist.broadcast(number, src=0)
    return int(number.item())


def broadcast_object(value: Any) -> Any:
    """El ``value`` del proceso 0 (algo que ``pickle`` sepa guardar), el mismo en todos los procesos.

    Sin varios procesos, ``value``. Lo usa :func:`course_lib.translate.prepare_data` para que
    solo el proceso 0 entrene el tokenizador y los demás reciban el suyo.
    """
    if rank_and_world()[1] == 1:
        return value
    box = [value if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextlib.contextmanager
def main_process_first() -> Iterator[None]:
    """Dentro del ``with``, el proceso 0 trabaja primero y los demás esperan a que termine.

    Para que solo el proceso 0 descargue los datos y los demás los lean de la caché que deja.
    Si el proceso 0 falla, los demás siguen igualmente (y fallarán o descargarán ellos): nadie
    se queda esperando para siempre.
    """
    rank, world = rank_and_world()
    if world > 1 and rank != 0:
        dist.barrier()
    try:
        yield
    finally:
        if world > 1 and rank == 0:
            dist.barrier()
