"""Errores frecuentes al construir máscaras de relleno y causales (cuaderno 05).

Cada función devuelve ``Mistakes.from_outputs({pista: máscara que daría ese error})``. Algunos
errores cambian la forma de la máscara: como :func:`course_lib.checks.check_close` comprueba la
forma antes que los valores, :func:`shape_hint` elige la pista por la forma obtenida.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from course_lib.mistakes.base import Mistakes

# Las pistas, con nombre, para que el cuaderno y las pruebas las reutilicen.
INVERTED_PADDING = (
    "parece que la comparación está invertida: True significa «puede atender», así que la "
    "máscara vale True en los tokens reales: `tokens != pad_id`."
)
PADDING_ON_QUERIES = (
    "parece que enmascaras las consultas (filas) en vez de las claves (columnas): la forma es "
    "(B, 1, 1, T), con T en la ÚLTIMA dimensión, para que ninguna consulta atienda al relleno."
)
PADDING_AGAINST_ZERO = "parece que comparas con 0 en lugar de con `pad_id`: el relleno no tiene por qué ser el 0."
PADDING_NOT_EXPANDED = (
    "parece que devuelves la máscara (B, T) sin las dimensiones de cabezas y consultas: "
    "añádelas para obtener (B, 1, 1, T)."
)
CAUSAL_WITHOUT_DIAGONAL = (
    "parece que excluyes la diagonal: cada posición debe poder atenderse a sí misma "
    "(`torch.tril` con la diagonal por defecto, diagonal=0). Sin ella, la fila 0 no ve nada."
)
CAUSAL_UPPER = (
    "parece que usas el triángulo superior: la fila i (consulta) debe ver las columnas j ≤ i "
    "(el pasado), es decir, el triángulo INFERIOR."
)
CAUSAL_INVERTED = (
    "parece que la máscara causal está invertida: deja ver el futuro (j > i) y oculta el pasado. "
    "True debe quedar en el triángulo inferior, diagonal incluida."
)
CAUSAL_NOT_EXPANDED = (
    "parece que devuelves la máscara (T, T) sin las dos dimensiones de delante: la forma pedida es (1, 1, T, T)."
)
DECODER_OR = (
    "parece que combinas las máscaras con OR (`|`): una posición se puede atender solo si es "
    "pasado Y no es relleno, así que se combinan con AND (`&`)."
)
DECODER_ONLY_CAUSAL = (
    "parece que devuelves solo la máscara causal: falta combinarla (con `&`) con la de relleno, que da la dimensión B."
)
DECODER_ONLY_PADDING = (
    "parece que devuelves solo la máscara de relleno: falta combinarla (con `&`) con la causal, "
    "que da las dimensiones (T, T)."
)
DECODER_PADDING_ON_QUERIES = (
    "parece que el relleno enmascara las consultas (filas) y no las claves (columnas): "
    "usa padding_mask, que da (B, 1, 1, T)."
)
NOT_BOOL = (
    "la máscara debe ser booleana (`torch.bool`): compara (`!=`) o usa `dtype=torch.bool`; "
    "una máscara de ceros y unos numéricos no es lo mismo."
)


def padding_mask_mistakes(tokens: Tensor, pad_id: int) -> Mistakes:
    """Errores típicos de ``padding_mask``; ``tokens`` tiene forma ``(B, T)``."""
    real = tokens != pad_id  # (B, T)
    outputs = {
        INVERTED_PADDING: (tokens == pad_id)[:, None, None, :],
        PADDING_ON_QUERIES: real[:, None, :, None],  # (B, 1, T, 1)
        PADDING_NOT_EXPANDED: real,  # (B, T)
    }
    if pad_id != 0:
        outputs[PADDING_AGAINST_ZERO] = (tokens != 0)[:, None, None, :]
    return Mistakes.from_outputs(outputs)


def causal_mask_mistakes(size: int) -> Mistakes:
    """Errores típicos de ``causal_mask``, para una longitud ``size``."""
    ones = torch.ones(size, size, dtype=torch.bool)  # (T, T)
    return Mistakes.from_outputs(
        {
            CAUSAL_WITHOUT_DIAGONAL: torch.tril(ones, diagonal=-1)[None, None],
            CAUSAL_UPPER: torch.triu(ones)[None, None],
            CAUSAL_INVERTED: torch.triu(ones, diagonal=1)[None, None],  # `~tril`: justo al revés
            CAUSAL_NOT_EXPANDED: torch.tril(ones),  # (T, T)
        }
    )


def decoder_mask_mistakes(tgt_tokens: Tensor, pad_id: int) -> Mistakes:
    """Errores típicos de ``decoder_mask``; ``tgt_tokens`` tiene forma ``(B, T)``."""
    size = tgt_tokens.size(1)
    real = tgt_tokens != pad_id  # (B, T)
    padding = real[:, None, None, :]  # (B, 1, 1, T)
    causal = torch.ones(size, size, dtype=torch.bool).tril()[None, None]  # (1, 1, T, T)
    return Mistakes.from_outputs(
        {
            DECODER_OR: padding | causal,
            DECODER_PADDING_ON_QUERIES: real[:, None, :, None] & causal,
            DECODER_ONLY_CAUSAL: causal,
            DECODER_ONLY_PADDING: padding,
        }
    )


def shape_hint(obtained: Any, found: Mistakes, default: str) -> str:
    """La pista del primer error conocido que da la misma forma que ``obtained``; si no, ``default``.

    Sirve como ``hint`` de :func:`course_lib.checks.check_shape`: cuando la forma ya es
    incorrecta, los valores no se llegan a comparar.
    """
    if isinstance(obtained, Tensor):
        for hint, wrong in found.out.items():
            if tuple(wrong.shape) == tuple(obtained.shape):
                return hint
    return default
