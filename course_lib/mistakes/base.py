"""El contenedor común de los errores frecuentes."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor


class Mistakes(NamedTuple):
    """Lo que daría cada error conocido: ``{pista en español: tensor}`` para ``out`` y ``weights``.

    Para ejercicios con una sola salida, ``weights`` queda vacío y se usa ``out``.
    """

    out: dict[str, Tensor]
    weights: dict[str, Tensor]

    @classmethod
    def from_results(cls, results: dict[str, tuple[Tensor, Tensor]]) -> Mistakes:
        """``{pista: (out, weights)}`` → ``Mistakes``."""
        return cls(
            out={hint: out for hint, (out, _) in results.items()},
            weights={hint: weights for hint, (_, weights) in results.items()},
        )

    @classmethod
    def from_outputs(cls, outputs: dict[str, Tensor]) -> Mistakes:
        """``{pista: salida}`` → ``Mistakes`` (ejercicios con una sola salida)."""
        return cls(out=dict(outputs), weights={})


def masking_mistakes(
    scores: Tensor,
    mask: Tensor,
    finish: Callable[[Tensor], tuple[Tensor, Tensor]],
    true_means: str,
) -> dict[str, tuple[Tensor, Tensor]]:
    """Los tres errores de enmascarado, comunes a toda atención con máscara (cuadernos 01, 02, 05).

    Args:
        scores: puntuaciones ya escaladas, ``(..., T_k)``.
        mask: booleana difundible a ``scores``; ``True`` = se puede atender.
        finish: de los pesos a ``(salida, pesos)``, según el ejercicio.
        true_means: qué significa ``True`` en la máscara de ese ejercicio (para la pista).

    Returns:
        ``{pista: (salida, pesos)}`` para :meth:`Mistakes.from_results`.
    """
    return {
        "parece que aplicas la máscara DESPUÉS de la softmax: las filas ya no suman 1. "
        "Pon -inf en las puntuaciones enmascaradas ANTES de la softmax.": finish(
            torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
        ),
        "parece que enmascaras multiplicando las puntuaciones por la máscara: una puntuación 0 "
        "sigue recibiendo peso tras la softmax. Usa `masked_fill(~mask, float('-inf'))`.": finish(
            torch.softmax(scores * mask, dim=-1)
        ),
        f"parece que la máscara está invertida: True significa «{true_means}», así que hay que "
        "anular las posiciones donde la máscara es False (`~mask`).": finish(
            torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1).nan_to_num(0.0)
        ),
    }
