"""El contenedor común de los errores frecuentes."""

from __future__ import annotations

from typing import NamedTuple

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
