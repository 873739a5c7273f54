"""Errores frecuentes, reproducidos a propósito para reconocerlos en las pruebas.

Las pruebas comparan la respuesta con la referencia; si no coincide pero sí
coincide con uno de estos errores conocidos, el mensaje nombra ese error (véase
``mistakes=`` en :func:`course_lib.checks.check_close`). Por ejemplo:
``checks.check_close(out, expected_out, "out", mistakes=attention_mistakes(q, k, v).out)``.

Un módulo por cuaderno; aquí se reúnen sus funciones.
"""

from course_lib.mistakes.attention import attention_mistakes, self_attention_mistakes
from course_lib.mistakes.base import Mistakes
from course_lib.mistakes.basics import cosine_mistakes, softmax_mistakes
from course_lib.mistakes.masks import causal_mask_mistakes, decoder_mask_mistakes, padding_mask_mistakes
from course_lib.mistakes.multihead import merge_heads_mistakes, multihead_mistakes, split_heads_mistakes
from course_lib.mistakes.positional import (
    positional_encoding_mistakes,
    sinusoidal_mistakes,
    token_embedding_mistakes,
)
from course_lib.mistakes.seq2seq import additive_attention_mistakes, attention_context_mistakes, dot_scores_mistakes

__all__ = [
    "Mistakes",
    "additive_attention_mistakes",
    "attention_context_mistakes",
    "attention_mistakes",
    "causal_mask_mistakes",
    "cosine_mistakes",
    "decoder_mask_mistakes",
    "dot_scores_mistakes",
    "merge_heads_mistakes",
    "multihead_mistakes",
    "padding_mask_mistakes",
    "positional_encoding_mistakes",
    "self_attention_mistakes",
    "sinusoidal_mistakes",
    "softmax_mistakes",
    "split_heads_mistakes",
    "token_embedding_mistakes",
]
