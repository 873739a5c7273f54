"""La pérdida del traductor: entropía cruzada con suavizado de etiquetas (cuaderno 07).

:func:`label_smoothing_loss` es la referencia del ejercicio del cuaderno 07 y la pérdida que
minimiza :func:`course_lib.train.fit` (06 y 07); :func:`course_lib.train.evaluate_loss` la usa
sin suavizado para validar.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor


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
