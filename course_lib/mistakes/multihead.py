"""Errores frecuentes de ``split_heads``, ``merge_heads`` y ``MultiHeadAttention`` (cuaderno 03).

Cada función calcula, con operaciones básicas de PyTorch, lo que daría cada error; las
pruebas las llaman ANTES de ``checks.forbid`` y las pasan a ``checks.check_close(..., mistakes=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from course_lib import checks
from course_lib.mistakes.base import Mistakes

VIEW_HINT = (
    "`.view` solo funciona si el tensor es contiguo en memoria, y tras `transpose` (o con una "
    "entrada no contigua) no lo es: usa `.reshape(...)`, o `.contiguous()` antes de `.view(...)`."
)


def call_explaining_view(fn: Callable[..., Any], *args: Any, name: str) -> Any:
    """Llama a ``fn(*args)``; si falla porque ``.view`` no admite un tensor no contiguo, lo explica en español.

    Cualquier otro error se deja pasar tal cual.
    """
    try:
        return fn(*args)
    except RuntimeError as error:
        message = str(error)
        if "view" not in message or "compatible" not in message:
            raise
        checks.fail(f"`{name}` lanzó un error al llamar a `.view`.", hint=VIEW_HINT)


def split_heads_mistakes(x: Tensor, n_heads: int) -> Mistakes:
    """Errores típicos al partir ``x (B, T, D)`` en ``(B, H, T, d_k)``."""
    B, T, D = x.shape
    d_k = D // n_heads
    return Mistakes.from_outputs(
        {
            "parece que cambias la forma directamente a (B, H, T, d_k) sin transponer: la forma sale bien, "
            "pero cada «cabeza» mezcla trozos de tokens distintos. Primero (B, T, H, d_k) y luego `transpose(1, 2)`.": (
                x.reshape(B, n_heads, T, d_k)
            ),
            "parece que partes d_model como (d_k, H) en vez de (H, d_k): la cabeza h debe ser el trozo "
            "contiguo x[..., h*d_k:(h+1)*d_k], no una columna de cada H.": (
                x.reshape(B, T, d_k, n_heads).permute(0, 3, 1, 2)
            ),
        }
    )


def merge_heads_mistakes(x: Tensor) -> Mistakes:
    """Errores típicos al juntar ``x (B, H, T, d_k)`` en ``(B, T, D)``."""
    B, H, T, d_k = x.shape
    return Mistakes.from_outputs(
        {
            "parece que cambias la forma a (B, T, D) sin transponer antes: la forma sale bien, pero "
            "mezclas tokens. Primero `transpose(1, 2)` a (B, T, H, d_k) y luego `reshape`.": (x.reshape(B, T, H * d_k)),
            "parece que juntas las cabezas en el orden (d_k, H): la cabeza h debe ocupar las columnas "
            "h*d_k:(h+1)*d_k, una cabeza tras otra.": (x.permute(0, 2, 3, 1).reshape(B, T, H * d_k)),
        }
    )


def multihead_mistakes(
    layer: nn.Module, n_heads: int, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
) -> Mistakes:
    """Errores típicos de una capa ``MultiHeadAttention`` con los pesos de ``layer``.

    ``layer`` debe tener ``W_q``, ``W_k``, ``W_v`` y ``W_o``. Se calcula en modo sin gradiente.
    """
    D = query.size(-1)
    d_k = D // n_heads

    def split(t: Tensor) -> Tensor:  # (B, T, D) → (B, H, T, d_k)
        return t.reshape(t.size(0), t.size(1), n_heads, d_k).transpose(1, 2)

    def merge(t: Tensor) -> Tensor:  # (B, H, T, d_k) → (B, T, D)
        return t.transpose(1, 2).reshape(t.size(0), t.size(2), D)

    def attend(q: Tensor, k: Tensor, v: Tensor, divisor: float, m: Tensor | None) -> tuple[Tensor, Tensor]:
        scores = q @ k.transpose(-2, -1) / divisor
        if m is not None:
            scores = scores.masked_fill(~m, float("-inf"))
        weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
        return weights @ v, weights

    with torch.no_grad():
        q, k, v = split(layer.W_q(query)), split(layer.W_k(key)), split(layer.W_v(value))  # (B, H, T, d_k)
        results: dict[str, tuple[Tensor, Tensor]] = {}

        heads, weights = attend(q, k, v, math.sqrt(d_k), mask)
        results["parece que no aplicas W_o: tras juntar las cabezas, `self.W_o(...)` las mezcla."] = (
            merge(heads),
            weights,
        )

        heads, weights = attend(q, k, v, math.sqrt(D), mask)
        results[
            "parece que divides las puntuaciones entre √d_model en vez de entre √d_k, el tamaño de CADA "
            "cabeza (d_k = d_model / n_heads). `scaled_dot_product_attention` ya lo hace bien con q partida."
        ] = (layer.W_o(merge(heads)), weights)

        qq, kq, vq = split(layer.W_q(query)), split(layer.W_q(key)), split(layer.W_q(value))
        heads, weights = attend(qq, kq, vq, math.sqrt(d_k), mask)
        results["parece que usas W_q para todo: las claves salen de W_k y los valores de W_v."] = (
            layer.W_o(merge(heads)),
            weights,
        )

        if n_heads > 1:
            # Una sola cabeza de tamaño D: la máscara (B, 1, 1, T_k) o (1, 1, T, T) pierde el eje H.
            single_mask = mask[:, 0] if mask is not None and mask.dim() == 4 else mask
            out, weights = attend(layer.W_q(query), layer.W_k(key), layer.W_v(value), math.sqrt(D), single_mask)
            results[
                "parece que calculas la atención sin partir en cabezas (una sola cabeza de tamaño d_model): "
                "usa `split_heads` en q, k y v antes de la atención."
            ] = (layer.W_o(out), weights.unsqueeze(1).expand(-1, n_heads, -1, -1))
    return Mistakes.from_results(results)
