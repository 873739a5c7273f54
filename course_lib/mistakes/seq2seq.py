"""Errores frecuentes de la atención en seq2seq (cuaderno 01).

Cada función devuelve :class:`~course_lib.mistakes.base.Mistakes`: lo que daría cada
error conocido, para que ``checks.check_close(..., mistakes=...)`` muestre su pista.
Formas como en :mod:`course_lib.seq2seq`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from course_lib.mistakes.base import Mistakes, masking_mistakes
from course_lib.seq2seq import attention_context


def dot_scores_mistakes(query: Tensor, keys: Tensor) -> Mistakes:
    """Errores típicos de ``dot_scores(query (B, D), keys (B, T, D)) → (B, T)``."""
    scores = (keys * query.unsqueeze(1)).sum(dim=-1)  # (B, T)
    d = query.size(-1)
    outputs = {
        "parece que divides entre √D: el producto escalar de Luong no se escala "
        "(dividir entre √d_k es cosa del Transformer, cuaderno 02).": scores / math.sqrt(d),
        "parece que divides entre D: el producto escalar de Luong no se escala.": scores / d,
        "parece que normalizas las puntuaciones con una softmax: dot_scores devuelve las puntuaciones "
        "crudas; la softmax la aplica attention_context.": torch.softmax(scores, dim=-1),
    }
    if keys.size(1) == d:  # solo entonces sumar sobre T da la misma forma
        outputs["parece que sumas sobre la dimensión de las posiciones (dim=1) en vez de sobre D (la última)."] = (
            keys * query.unsqueeze(1)
        ).sum(dim=1)
    return Mistakes.from_outputs(outputs)


def attention_context_mistakes(scores: Tensor, values: Tensor, mask: Tensor | None = None) -> Mistakes:
    """Errores típicos de ``attention_context(scores (B, T), values (B, T, D_v), mask)``."""

    def masked(s: Tensor) -> Tensor:
        return s if mask is None else s.masked_fill(~mask, float("-inf"))

    def finish(weights: Tensor) -> tuple[Tensor, Tensor]:
        return torch.bmm(weights.unsqueeze(1), values).squeeze(1), weights

    results: dict[str, tuple[Tensor, Tensor]] = {
        "parece que aplicas la softmax sobre la dimensión del lote (dim=0): cada ejemplo reparte "
        "su atención entre sus posiciones, `dim=-1`.": finish(torch.softmax(masked(scores), dim=0).nan_to_num(0.0)),
        "parece que no aplicas la softmax: los pesos deben ser positivos y sumar 1 en cada fila.": finish(
            masked(scores).nan_to_num(0.0, neginf=0.0)
        ),
        "parece que el contexto es la media de los valores, sin usar los pesos: "
        "`context = Σ_j weights[:, j] · values[:, j]`.": (
            values.mean(dim=1),
            torch.softmax(masked(scores), dim=-1),
        ),
    }
    if mask is not None:
        results.update(masking_mistakes(scores, mask, finish, "posición real"))
    return Mistakes.from_results(results)


def additive_attention_mistakes(
    layer: nn.Module, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None = None
) -> Mistakes:
    """Errores típicos de una capa ``AdditiveAttention`` con atributos ``W_q``, ``W_k`` y ``v``.

    Usa la referencia de ``attention_context``, como las pruebas calificadas.
    """
    q = layer.W_q(query).unsqueeze(1)  # (B, 1, d_hidden)
    k = layer.W_k(keys)  # (B, T, d_hidden)

    def scores(hidden: Tensor) -> Tensor:
        return layer.v(hidden).squeeze(-1)  # (B, T)

    results = {
        "parece que falta la tanh: `score = vᵀ tanh(W_q q + W_k k)`.": attention_context(scores(q + k), values, mask),
        "parece que usas `relu` en lugar de `tanh`: `score = vᵀ tanh(W_q q + W_k k)`.": attention_context(
            scores(torch.relu(q + k)), values, mask
        ),
        "parece que multiplicas W_q q y W_k k en vez de sumarlos: la atención aditiva los suma.": attention_context(
            scores(torch.tanh(q * k)), values, mask
        ),
    }
    if mask is not None:
        results["parece que olvidas la máscara: pásala a attention_context."] = attention_context(
            scores(torch.tanh(q + k)), values
        )
    if keys.shape == values.shape:
        results["parece que el contexto se calcula con `keys`: la suma ponderada es de `values`."] = attention_context(
            scores(torch.tanh(q + k)), keys, mask
        )
    return Mistakes.from_results(results)
