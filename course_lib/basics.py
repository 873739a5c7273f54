"""Piezas básicas que usa todo el curso: softmax estable y similitud coseno (cuaderno 00).

    softmax(x)_i = exp(x_i - m) / Σ_j exp(x_j - m),   con m = max_j x_j
    cos θ = U·V / (|U| |V|)

Restar el máximo ``m`` no cambia el resultado (se simplifica arriba y abajo), pero
evita que ``exp`` se desborde con entradas grandes. La similitud coseno sigue a
``torch.nn.functional.cosine_similarity``: cada norma se limita por abajo con ``eps``
(1e-8), así que un vector nulo da similitud 0 en lugar de NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax numéricamente estable a lo largo de la dimensión ``dim``.

    Args:
        x: tensor de números reales de cualquier forma, p. ej. logits ``(B, T, V)``.
        dim: dimensión que se normaliza (por defecto, la última).

    Returns:
        Un tensor de la misma forma que ``x``, con valores en ``[0, 1]`` que suman 1 a
        lo largo de ``dim``. Igual que ``torch.softmax(x, dim)``, también con entradas
        enormes (miles) o con ``-inf`` en algunas posiciones.
    """
    _check_real("x", x)
    if x.dim() == 0:
        raise ValueError("`x` debe tener al menos 1 dimensión; recibí un escalar (forma ()).")
    _check_dim(dim, x.shape)
    shifted = x - x.amax(dim=dim, keepdim=True)  # el mayor de cada fila pasa a valer 0
    exp = shifted.exp()  # en [0, 1]: ya no se puede desbordar
    return exp / exp.sum(dim=dim, keepdim=True)


def cosine_similarity(a: Tensor, b: Tensor, dim: int = -1, eps: float = 1e-8) -> Tensor:
    """Similitud coseno entre ``a`` y ``b`` a lo largo de ``dim``: ``a·b / (|a| |b|)``.

    Args:
        a: vectores ``(..., D)``.
        b: vectores ``(..., D)``, difundibles (broadcast) con ``a``; p. ej. ``(N, 1, D)``
            y ``(1, M, D)`` dan todas las parejas, ``(N, M)``.
        dim: dimensión de las componentes de cada vector (por defecto, la última),
            contada sobre la forma común de ``a`` y ``b``.
        eps: mínimo para cada norma, como en ``F.cosine_similarity``: un vector nulo
            da similitud 0 en lugar de 0/0 = NaN.

    Returns:
        Un tensor con la forma común de ``a`` y ``b`` sin la dimensión ``dim``, con
        valores en ``[-1, 1]``: 1 si apuntan en la misma dirección, 0 si son
        perpendiculares y -1 si apuntan en sentidos opuestos.
    """
    _check_real("a", a)
    _check_real("b", b)
    try:
        a, b = torch.broadcast_tensors(a, b)
    except RuntimeError:
        raise ValueError(
            f"`a` con forma {tuple(a.shape)} y `b` con forma {tuple(b.shape)} no se pueden difundir "
            "a una forma común: cada dimensión debe coincidir o valer 1."
        ) from None
    if a.dim() == 0:
        raise ValueError("`a` y `b` deben ser vectores (al menos 1 dimensión); recibí escalares.")
    _check_dim(dim, a.shape)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps < 0:
        raise ValueError(f"`eps` debe ser un número no negativo; recibí {eps!r}.")
    norm_a = torch.linalg.vector_norm(a, dim=dim, keepdim=True).clamp_min(eps)  # (..., 1)
    norm_b = torch.linalg.vector_norm(b, dim=dim, keepdim=True).clamp_min(eps)  # (..., 1)
    return ((a / norm_a) * (b / norm_b)).sum(dim=dim)  # (...)


def _check_real(name: str, t: Tensor) -> None:
    """Error claro, en español, si ``t`` no es un tensor de números reales."""
    if not isinstance(t, Tensor):
        raise TypeError(f"`{name}` debe ser un torch.Tensor; recibí {type(t).__name__}.")
    if not t.is_floating_point():
        raise TypeError(
            f"`{name}` debe ser un tensor de números reales (float); recibí {t.dtype}. Convierte con `{name}.float()`."
        )


def _check_dim(dim: int, shape: torch.Size) -> None:
    """Error claro, en español, si ``dim`` no es una dimensión de ``shape``."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"`dim` debe ser un entero; recibí {type(dim).__name__}.")
    n = len(shape)
    if not -n <= dim < n:
        raise IndexError(
            f"`dim`={dim} no existe para un tensor de forma {tuple(shape)}: "
            f"con {n} dimensiones, `dim` va de {-n} a {n - 1}."
        )
