"""Atención por producto escalar escalado y una capa de autoatención (cuaderno 02).

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V          (Vaswani et al., 2017, ecuación 1)

Convenciones de todo el curso:

- Formas: ``B`` lote, ``H`` cabezas, ``T_q``/``T_k`` longitudes de consultas y
  claves, ``d_k`` tamaño de consultas y claves, ``d_v`` tamaño de los valores.
- Las máscaras son booleanas: ``True`` = «puede atender», y se difunden
  (broadcast) a ``(B, H, T_q, T_k)``, como en ``F.scaled_dot_product_attention``.
- Una fila con todas las claves enmascaradas recibe pesos 0 (y salida 0) en vez
  de NaN: no hay nada a lo que atender.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    *,
    need_weights: bool = True,
    dropout_p: float = 0.0,
) -> tuple[Tensor, Tensor | None]:
    """Atención por producto escalar escalado.

    Args:
        q: consultas ``(..., T_q, d_k)``.
        k: claves ``(..., T_k, d_k)``.
        v: valores ``(..., T_k, d_v)``.
        mask: booleana, difundible a ``(..., T_q, T_k)``; ``True`` = puede atender.
        need_weights: si es ``False`` se usa la versión fusionada de PyTorch
            (más rápida y con menos memoria) y no se devuelven los pesos.
        dropout_p: probabilidad de dropout sobre los pesos, solo en la versión fusionada
            (con ``need_weights=True`` hay que aplicarlo a los pesos devueltos).

    Returns:
        ``(out, weights)``: ``out`` de forma ``(..., T_q, d_v)`` y ``weights`` de
        forma ``(..., T_q, T_k)`` (cada fila suma 1), o ``None`` si
        ``need_weights=False``.
    """
    _check_inputs(q, k, v, mask)
    if dropout_p and need_weights:
        raise ValueError("`dropout_p` solo se aplica con need_weights=False; con los pesos, aplica tú el dropout.")
    if not need_weights:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        if mask is not None:
            # Filas sin ninguna clave visible: salida 0, igual que en la ruta explícita.
            out = out.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
        return out, None

    d_k = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        # Antes de la softmax: exp(-inf) = 0, así que lo enmascarado no recibe peso.
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., T_q, T_k)
    if mask is not None:
        # Una fila toda -inf da NaN en la softmax; la dejamos en 0.
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    out = weights @ v  # (..., T_q, d_v)
    return out, weights


def _check_inputs(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> None:
    """Errores claros, en español, para entradas con formas incompatibles."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"`{name}` debe ser un torch.Tensor; recibí {type(t).__name__}.")
        if t.dim() < 2:
            raise ValueError(f"`{name}` debe tener al menos 2 dimensiones (..., T, d); tiene forma {tuple(t.shape)}.")
    if q.size(-1) != k.size(-1):
        raise ValueError(
            "La última dimensión de `q` y `k` debe coincidir (d_k): "
            f"q tiene forma {tuple(q.shape)} y k {tuple(k.shape)}."
        )
    if k.size(-2) != v.size(-2):
        raise ValueError(
            "`k` y `v` deben tener la misma longitud T_k (penúltima dimensión): "
            f"k tiene forma {tuple(k.shape)} y v {tuple(v.shape)}."
        )
    batch = _batch_shape("q", q, "k", k)
    _batch_shape("k", k, "v", v)
    if mask is None:
        return
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        kind = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(
            f"`mask` debe ser un tensor booleano (True = puede atender); recibí {kind}. "
            "Convierte con `mask.bool()` o compara, p. ej. `tokens != pad_id`."
        )
    scores_shape = (*batch, q.size(-2), k.size(-2))
    try:
        fits = torch.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"`mask` con forma {tuple(mask.shape)} no se puede difundir a la forma de las "
            f"puntuaciones {scores_shape} (..., T_q, T_k)."
        )


def _batch_shape(name_a: str, a: Tensor, name_b: str, b: Tensor) -> torch.Size:
    """Combina las dimensiones de lote (todas menos las dos últimas) o explica por qué no se puede."""
    try:
        return torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"Las dimensiones de lote de `{name_a}` {tuple(a.shape)} y de `{name_b}` {tuple(b.shape)} "
            "no son compatibles: las dimensiones anteriores a (T, d) deben coincidir o valer 1."
        ) from None


class SelfAttention(nn.Module):
    """Una capa de autoatención de una cabeza (cuaderno 02).

    Proyecta la misma entrada ``x`` con tres matrices aprendidas ``W_q``, ``W_k`` y
    ``W_v`` (``d_model → d_k``) y aplica :func:`scaled_dot_product_attention`.

    Args:
        d_model: tamaño de cada vector de entrada.
        d_k: tamaño de consultas, claves y valores.
    """

    def __init__(self, d_model: int, d_k: int) -> None:
        super().__init__()
        for name, value in (("d_model", d_model), ("d_k", d_k)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")
        self.d_model = d_model
        self.d_k = d_k
        self.W_q = nn.Linear(d_model, d_k)
        self.W_k = nn.Linear(d_model, d_k)
        self.W_v = nn.Linear(d_model, d_k)

    def forward(
        self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """``x (B, T, d_model)`` → ``out (B, T, d_k)``; con ``return_attention`` también
        ``weights (B, T, T)``."""
        if x.dim() < 2 or x.size(-1) != self.d_model:
            raise ValueError(f"`x` debe tener forma (B, T, d_model={self.d_model}); recibí {tuple(x.shape)}.")
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)  # (B, T, d_k) cada una
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        return (out, weights) if return_attention else out
