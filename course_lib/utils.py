"""Utilidades comunes a todos los cuadernos: semillas, dispositivo, Colab y modo rápido.

El «modo rápido» (variable de entorno ``CURSO_RAPIDO=1``) reduce datos y
entrenamiento para que la corrección automática y las pruebas tarden segundos.
Todos los cuadernos lo respetan a través de :func:`fast_mode`.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

FAST_MODE_VAR = "CURSO_RAPIDO"
_TRUE = {"1", "true", "sí", "si", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """Indica si está activo el modo rápido (``CURSO_RAPIDO=1``).

    Acepta ``1/true/sí/yes/on`` y ``0/false/no/off`` (sin distinguir mayúsculas).
    Cualquier otro valor es un error: mejor avisar que adivinar.
    """
    value = os.environ.get(FAST_MODE_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"La variable de entorno {FAST_MODE_VAR} vale {value!r}; usa 1 para activar "
        "el modo rápido o 0 para desactivarlo."
    )


def in_colab() -> bool:
    """Indica si el cuaderno se ejecuta en Google Colab."""
    return "google.colab" in sys.modules


def seed_everything(seed: int = 0) -> None:
    """Fija las semillas de ``random``, NumPy y PyTorch para que los resultados se repitan."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"`seed` debe ser un entero; recibí {type(seed).__name__}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """Elige el dispositivo: ``cuda`` si hay GPU NVIDIA, si no ``mps`` (Mac), si no ``cpu``.

    Args:
        prefer: fuerza un dispositivo (``"cpu"``, ``"cuda"``, ``"mps"``); si no está
            disponible se lanza un error en lugar de caer en silencio a otro.
    """
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"`prefer` debe ser uno de {sorted(available)}; recibí {prefer!r}.")
        if not available[prefer]:
            raise RuntimeError(f"Pediste el dispositivo {prefer!r}, pero no está disponible aquí.")
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if available[name]:
            return torch.device(name)
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def setup(seed: int = 0, verbose: bool = True) -> torch.device:
    """Preparación de la celda de configuración: semillas, dispositivo y un resumen.

    En modo rápido, además, PyTorch usa un solo hilo.

    Devuelve el dispositivo elegido.
    """
    seed_everything(seed)
    if fast_mode():
        # Al corregir se ejecutan varios cuadernos a la vez y con modelos diminutos: un hilo
        # por cuaderno rinde más que varios peleando por los mismos núcleos.
        torch.set_num_threads(1)
    device = get_device()
    if verbose:
        where = "Google Colab" if in_colab() else "entorno local"
        mode = "modo rápido (corrección/pruebas)" if fast_mode() else "modo normal"
        print(f"course_lib listo · {where} · dispositivo: {device} · {mode} · semilla {seed}")
    return device
