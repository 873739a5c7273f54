"""Errores frecuentes de la atención y de la capa ``SelfAttention`` (cuaderno 02)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from course_lib.attention import scaled_dot_product_attention
from course_lib.mistakes.base import Mistakes, masking_mistakes


def attention_mistakes(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Mistakes:
    """Errores típicos de la atención por producto escalar escalado (cuaderno 02).

    Formas como en :func:`course_lib.attention.scaled_dot_product_attention`.
    """
    d_k = q.size(-1)
    raw = q @ k.transpose(-2, -1)  # (..., T_q, T_k)

    def masked(scores: Tensor) -> Tensor:
        return scores if mask is None else scores.masked_fill(~mask, float("-inf"))

    def finish(weights: Tensor) -> tuple[Tensor, Tensor]:
        return weights @ v, weights

    results: dict[str, tuple[Tensor, Tensor]] = {
        "parece que no divides las puntuaciones entre √d_k (o divides por otra cosa). "
        "Escala con `math.sqrt(d_k)`, donde d_k es `q.size(-1)`.": finish(torch.softmax(masked(raw), dim=-1)),
        "parece que divides entre d_k en vez de entre √d_k.": finish(torch.softmax(masked(raw / d_k), dim=-1)),
    }
    scaled = raw / math.sqrt(d_k)
    if q.size(-2) > 1:
        results[
            "parece que aplicas la softmax sobre la dimensión de las consultas (dim=-2); "
            "cada consulta reparte su atención entre las claves: `dim=-1`."
        ] = finish(torch.softmax(masked(scaled), dim=-2).nan_to_num(0.0))
    if mask is not None:
        results.update(masking_mistakes(scaled, mask, finish, "puede atender"))
    return Mistakes.from_results(results)


def self_attention_mistakes(layer: nn.Module, x: Tensor, mask: Tensor | None = None) -> Mistakes:
    """Errores típicos de una capa ``SelfAttention`` (cuaderno 02).

    ``layer`` debe tener ``W_q``, ``W_k`` y ``W_v``; ``x`` tiene forma ``(B, T, d_model)``.
    """
    q, k, v = layer.W_q(x), layer.W_k(x), layer.W_v(x)  # (B, T, d_k)
    values_from_x = x if x.size(-1) == v.size(-1) else k
    return Mistakes.from_results(
        {
            "parece que usas x directamente como q, k y v: proyecta primero con W_q, W_k y W_v.": (
                scaled_dot_product_attention(x, x, x, mask)
            ),
            "parece que usas la misma proyección para q, k y v: cada una tiene su capa (W_q, W_k, W_v).": (
                scaled_dot_product_attention(q, q, q, mask)
            ),
            "parece que intercambiaste q y k: las consultas salen de W_q y las claves de W_k.": (
                scaled_dot_product_attention(k, q, v, mask)
            ),
            "parece que los valores no salen de W_v: v = self.W_v(x).": (
                scaled_dot_product_attention(q, k, values_from_x, mask)
            ),
        }
    )
