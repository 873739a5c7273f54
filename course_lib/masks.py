"""Máscaras de relleno y causal para la atención (cuaderno 05).

Convención de todo el curso, la misma que ``torch.nn.functional.scaled_dot_product_attention``
y :func:`course_lib.attention.scaled_dot_product_attention`: una máscara es **booleana**,
``True`` = «puede atender», y se difunde (broadcast) a ``(B, H, T_q, T_k)``.

- :func:`padding_mask`: oculta las **claves** (columnas) de relleno → ``(B, 1, 1, T)``.
- :func:`causal_mask`: cada posición ve solo las anteriores y a sí misma → ``(1, 1, T, T)``.
- :func:`decoder_mask`: las dos a la vez, para el decodificador → ``(B, 1, T, T)``.

El relleno se enmascara en las claves y no en las consultas: la salida de una fila de
relleno nadie la lee después (ni las demás posiciones, que no pueden atenderla, ni la
pérdida, que ignora esas posiciones), mientras que una clave de relleno visible
contaminaría la salida de los tokens reales.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor


def padding_mask(tokens: Tensor, pad_id: int) -> Tensor:
    """Máscara de relleno: ``True`` donde hay un token real, ``False`` donde hay relleno.

    Args:
        tokens: identificadores de tokens ``(B, T)``, de tipo entero.
        pad_id: identificador del token de relleno.

    Returns:
        Máscara booleana ``(B, 1, 1, T)``. Las dos dimensiones de tamaño 1 se difunden a
        las cabezas ``H`` y a las consultas ``T_q``: se enmascaran las **claves** de relleno
        para todas las consultas y todas las cabezas.
    """
    _check_tokens(tokens, "tokens")
    _check_pad_id(pad_id)
    real = tokens != pad_id  # (B, T)
    return real[:, None, None, :]  # (B, 1, 1, T)


def causal_mask(size: int) -> Tensor:
    """Máscara causal: la posición ``i`` puede atender a las posiciones ``j ≤ i``.

    Args:
        size: longitud ``T`` de la secuencia (entero positivo).

    Returns:
        Máscara booleana ``(1, 1, T, T)``: triángulo inferior con la diagonal a ``True``
        (cada posición se ve a sí misma) y ``False`` por encima (el futuro).
    """
    if not isinstance(size, numbers.Integral) or isinstance(size, bool):
        raise TypeError(
            f"`size` debe ser un entero (la longitud T de la secuencia); recibí {type(size).__name__} ({size!r})."
        )
    if size <= 0:
        raise ValueError(
            f"`size` debe ser un entero positivo: la máscara causal tiene forma (1, 1, T, T) con T = `size` ≥ 1; "
            f"recibí {size!r}."
        )
    ones = torch.ones(int(size), int(size), dtype=torch.bool)  # (T, T)
    return torch.tril(ones)[None, None, :, :]  # (1, 1, T, T)


def decoder_mask(tgt_tokens: Tensor, pad_id: int) -> Tensor:
    """Máscara de la autoatención del decodificador: relleno **y** causal a la vez.

    Args:
        tgt_tokens: tokens de la secuencia de salida ``(B, T)``, de tipo entero.
        pad_id: identificador del token de relleno.

    Returns:
        Máscara booleana ``(B, 1, T, T)``: ``mask[b, 0, i, j]`` es ``True`` si ``j ≤ i`` y
        el token ``j`` de la frase ``b`` no es relleno.
    """
    _check_tokens(tgt_tokens, "tgt_tokens")
    _check_pad_id(pad_id)
    causal = causal_mask(tgt_tokens.size(1)).to(tgt_tokens.device)  # (1, 1, T, T)
    return padding_mask(tgt_tokens, pad_id) & causal  # (B, 1, 1, T) & (1, 1, T, T) → (B, 1, T, T)


def _check_tokens(tokens: Tensor, name: str) -> None:
    """Errores claros, en español, para un lote de tokens mal formado."""
    if not isinstance(tokens, Tensor):
        raise TypeError(f"`{name}` debe ser un torch.Tensor de enteros (B, T); recibí {type(tokens).__name__}.")
    if tokens.dtype == torch.bool or tokens.dtype.is_floating_point or tokens.dtype.is_complex:
        raise TypeError(
            f"`{name}` debe contener identificadores enteros (p. ej. torch.long); recibí el tipo {tokens.dtype} "
            f"con forma {tuple(tokens.shape)}. Si son índices, conviértelos con `.long()`."
        )
    if tokens.dim() != 2:
        raise ValueError(
            f"`{name}` debe tener forma (B, T): un lote de frases de T tokens; tiene forma {tuple(tokens.shape)}. "
            "Para una sola frase, añade la dimensión del lote con `.unsqueeze(0)`."
        )
    if tokens.size(1) == 0:
        raise ValueError(f"`{name}` tiene forma {tuple(tokens.shape)}: hace falta al menos un token por frase (T ≥ 1).")


def _check_pad_id(pad_id: int) -> None:
    if not isinstance(pad_id, numbers.Integral) or isinstance(pad_id, bool):
        raise TypeError(
            f"`pad_id` debe ser un entero (el identificador del relleno); recibí {type(pad_id).__name__} ({pad_id!r})."
        )
