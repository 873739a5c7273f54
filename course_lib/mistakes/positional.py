"""Errores frecuentes de la codificación posicional y del embedding escalado (cuaderno 04).

Se calculan aquí mismo, sin llamar a las referencias de ``course_lib.positional``: así
una prueba puede preparar los errores aunque esas referencias estén prohibidas.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from course_lib.mistakes.base import Mistakes


def _table(
    max_len: int,
    d_model: int,
    *,
    exponent: str = "2i",
    swap: bool = False,
    divide: bool = True,
    halves: bool = False,
    first: int = 0,
) -> Tensor:
    """Una tabla sinusoidal «casi» correcta: cada opción reproduce un error.

    exponent: ``"2i"`` (correcto), ``"i"`` (exponente i/d_model) o ``"j"`` (cada columna
        usa su propio índice j en lugar del de su pareja).
    swap: coseno en las columnas pares y seno en las impares.
    divide: ``False`` multiplica la posición por 10000^(…) en lugar de dividirla.
    halves: todos los senos primero y todos los cosenos después, sin intercalar.
    first: la primera posición (0 es lo correcto; 1 es empezar a contar en 1).
    """
    pos = torch.arange(first, first + max_len, dtype=torch.float64).unsqueeze(1)  # (max_len, 1)
    column = torch.arange(d_model, dtype=torch.float64)  # (D,)
    pair = column - column % 2  # 2i de cada columna: 0, 0, 2, 2, 4, 4…
    if exponent == "i":
        pair = pair / 2
    elif exponent == "j":
        pair = column
    scale = 10000 ** (pair / d_model)  # (D,)
    angles = pos / scale if divide else pos * scale  # (max_len, D)
    even = (column % 2 == 0).unsqueeze(0)  # (1, D)
    if halves:
        n_sin = (d_model + 1) // 2
        freqs = 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (ceil(D/2),)
        base = pos / freqs if divide else pos * freqs
        pe = torch.cat([torch.sin(base), torch.cos(base[:, : d_model - n_sin])], dim=1)
    else:
        sin, cos = (torch.cos, torch.sin) if swap else (torch.sin, torch.cos)
        pe = torch.where(even, sin(angles), cos(angles))
    return pe.to(torch.float32)


def sinusoidal_mistakes(max_len: int, d_model: int) -> Mistakes:
    """Lo que daría ``sinusoidal_encoding(max_len, d_model)`` con cada error típico."""
    return Mistakes.from_outputs(
        {
            "parece que intercambiaste seno y coseno: las columnas pares (2i) llevan el seno y las "
            "impares (2i+1) el coseno. Fíjate en que la fila de la posición 0 debe ser [0, 1, 0, 1, …].": _table(
                max_len, d_model, swap=True
            ),
            "parece que el exponente es i/d_model: es 2i/d_model, donde 2i es el índice de la columna par "
            "de cada pareja (0, 2, 4, …). Usa `torch.arange(0, d_model, 2)`.": _table(max_len, d_model, exponent="i"),
            "parece que cada columna usa su propio índice en el exponente: las dos columnas de una pareja "
            "(2i y 2i+1) comparten la misma frecuencia, 10000^(2i/d_model).": _table(max_len, d_model, exponent="j"),
            "parece que multiplicas la posición por 10000^(2i/d_model): hay que dividirla, "
            "pos / 10000^(2i/d_model), para que las frecuencias bajen columna a columna.": _table(
                max_len, d_model, divide=False
            ),
            "parece que pones todos los senos primero y todos los cosenos después: en la fórmula del "
            "artículo se intercalan (columnas pares seno, impares coseno): `pe[:, 0::2]` y `pe[:, 1::2]`.": _table(
                max_len, d_model, halves=True
            ),
            "parece que las posiciones empiezan en 1: la primera posición es 0, `torch.arange(max_len)`.": _table(
                max_len, d_model, first=1
            ),
        }
    )


def positional_encoding_mistakes(x: Tensor, pe: Tensor) -> Mistakes:
    """Lo que daría ``PositionalEncoding`` (en modo evaluación) con cada error típico.

    x: entrada ``(B, T, D)``; pe: la tabla completa ``(max_len, D)``.
    """
    B, T, _ = x.shape
    outputs = {}
    if B <= pe.size(0):
        # pe[:x.size(0)] con x (B, T, D): el ejemplo b recibe la fila pe[b] en todas sus posiciones.
        outputs[
            "parece que tomas la posición de la dimensión 0 de x: x tiene forma (B, T, D), así que "
            "T = x.size(1), y cada posición t recibe la fila pe[t]."
        ] = x + pe[:B].unsqueeze(1)
    outputs.update(
        {
            "parece que no sumas la codificación posicional: devuelve dropout(x + self.pe[:T]).": x,
            "parece que multiplicas x por la tabla: la codificación posicional se SUMA a los embeddings.": (x * pe[:T]),
            "parece que sumas a todas las posiciones la misma fila de la tabla: cada posición t recibe su "
            "fila pe[t]; suma `self.pe[:T]`, de forma (T, D).": x + pe[:1],
        }
    )
    return Mistakes.from_outputs(outputs)


def token_embedding_mistakes(weight: Tensor, tokens: Tensor) -> Mistakes:
    """Lo que daría ``TokenEmbedding`` con cada error típico.

    weight: los pesos del embedding ``(V, D)``; tokens: índices ``(B, T)``.
    """
    d_model = weight.size(1)
    looked_up = weight[tokens]  # (B, T, D)
    return Mistakes.from_outputs(
        {
            "parece que no multiplicas por √d_model: devuelve self.embedding(tokens) * math.sqrt(d_model).": (
                looked_up
            ),
            "parece que divides entre √d_model: el artículo MULTIPLICA los embeddings por √d_model.": (
                looked_up / math.sqrt(d_model)
            ),
            "parece que multiplicas por d_model en vez de por √d_model: usa math.sqrt(d_model).": (looked_up * d_model),
        }
    )
