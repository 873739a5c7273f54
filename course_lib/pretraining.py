"""Entrenar los modelos de lenguaje del cuaderno 08 con el mismo :func:`course_lib.train.fit` y los mismos datos del 07.

:func:`course_lib.train.fit` entrena cualquier modelo con ``forward(src, tgt_in) → logits`` sobre lotes
:class:`~course_lib.tokens.Batch` con la pérdida de ``tgt_out``. Los lotes del traductor inglés → español
(:func:`course_lib.translate.prepare_data`) ya traen el español dos veces, desplazado una posición:
``tgt_in = <sos> y₁ … y_n`` y ``tgt_out = y₁ … y_n <eos>``. Para GPT basta con no mirar ``src`` (el
inglés): :class:`ForFit` hace eso. Para BERT, :func:`masked_batches` cambia cada lote por su versión
tapada (:func:`course_lib.bert.mask_tokens`): entra la frase con huecos y se predicen solo los tokens
elegidos (los demás quedan como relleno, que la pérdida ignora).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch
from torch import Tensor, nn

from course_lib.bert import IGNORE_INDEX, mask_tokens
from course_lib.tokens import Batch


class ForFit(nn.Module):
    """Envuelve un modelo de lenguaje ``tokens (B, T) → logits`` con la interfaz que espera ``fit``.

    ``forward(src, tgt_in)`` no usa ``src`` y devuelve ``model(tgt_in)``; ``pad_id`` y ``d_model`` son
    los del modelo. Los parámetros son los del modelo envuelto: entrenar esto lo entrena a él.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.pad_id, self.d_model = model.pad_id, model.d_model

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:  # noqa: ARG002 (src: el inglés, que no se usa)
        return self.model(tgt_in)


def masked_batch(
    batch: Batch, mask_id: int, vocab_size: int, special_ids: Iterable[int], p: float, generator: torch.Generator
) -> Batch:
    """Un lote del traductor → el de BERT: la frase ``tgt_out`` (``y₁ … y_n <eos>``) tapada con
    :func:`mask_tokens`; ``tgt_in`` = la frase con huecos, ``tgt_out`` = lo que hay que adivinar y
    ``pad_id`` en el resto (la pérdida de ``fit`` ignora el relleno).
    """
    tokens = batch.tgt_out
    inputs, labels = mask_tokens(tokens, mask_id, vocab_size, special_ids, p, generator)
    pad = torch.zeros_like(labels)  # el relleno del curso es el 0 (course_lib.tokens.PAD_ID)
    return Batch(tokens, inputs, torch.where(labels == IGNORE_INDEX, pad, labels))


def masked_batches(
    batches: Callable[[int], Iterable[Batch]],
    mask_id: int,
    vocab_size: int,
    special_ids: Sequence[int],
    p: float = 0.15,
    seed: int = 0,
) -> Callable[[int], Iterator[Batch]]:
    """``batches(epoch)`` del traductor → ``masked(epoch)`` para BERT, con los huecos sorteados de
    nuevo en cada época (semilla ``seed`` y la época: la misma época da siempre los mismos huecos).
    """

    def masked(epoch: int = 0) -> Iterator[Batch]:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        for batch in batches(epoch):
            yield masked_batch(batch, mask_id, vocab_size, special_ids, p, generator)

    return masked


def perplexity(loss: float) -> float:
    """La perplejidad de una pérdida media por token (en nats): ``exp(loss)``."""
    return math.exp(loss)


__all__ = ["ForFit", "masked_batch", "masked_batches", "perplexity"]
