"""Tasa de aprendizaje: el calentamiento del artículo y el enfriamiento final (cuaderno 07).

- :func:`noam_lr`: la tasa de la sección 5.3 del artículo, con calentamiento lineal y caída
  como ``1/√paso`` (el ejercicio del cuaderno 07).
- :func:`learning_rate`: la que usa :func:`course_lib.train.fit` en cada paso: ``noam_lr`` por
  el factor ``lr_scale`` y, si se pide, un enfriamiento final que baja en línea recta hasta 0.

Solo depende de la biblioteca estándar.
"""

from __future__ import annotations

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

    ``lr_scale · noam_lr(step, d_model, warmup)``, multiplicada en los últimos ``cooldown``
    pasos por un factor que baja en línea recta de 1 a ``1/cooldown`` (en el último paso): el
    calentamiento del artículo con un final «enfriado».
    """
    rate = config.lr_scale * noam_lr(step, d_model, config.warmup)
    if config.cooldown:
        rate *= min(1.0, (config.steps - step + 1) / config.cooldown)
    return rate
