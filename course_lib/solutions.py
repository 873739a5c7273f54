"""Las soluciones de referencia de los ejercicios, para quien estudia sin profesor.

Tras cada ejercicio, el cuaderno dice cómo verla, pero no la enseña: hay que pedirla con
``solutions.show("beam_search")`` (tras ``from course_lib import solutions``).

:func:`show` imprime el código de la implementación de referencia de ``course_lib`` (la misma que
las pruebas prohíben llamar), con el archivo de donde sale. Es la versión de la biblioteca: hace
lo que pide el ejercicio, a veces con más comprobaciones de entrada o para lotes enteros.
"""

from __future__ import annotations

import importlib
import inspect

from torch import nn

# Ejercicio (el nombre de la función o clase que se pide) → su referencia en course_lib.
REFERENCES = {
    "cosine_similarity": "course_lib.basics.cosine_similarity",
    "softmax": "course_lib.basics.softmax",
    "dot_scores": "course_lib.seq2seq.dot_scores",
    "attention_context": "course_lib.seq2seq.attention_context",
    "AdditiveAttention": "course_lib.seq2seq.AdditiveAttention",
    "scaled_dot_product_attention": "course_lib.attention.scaled_dot_product_attention",
    "SelfAttention": "course_lib.attention.SelfAttention",
    "split_heads": "course_lib.multihead.split_heads",
    "merge_heads": "course_lib.multihead.merge_heads",
    "MultiHeadAttention": "course_lib.multihead.MultiHeadAttention",
    "sinusoidal_encoding": "course_lib.positional.sinusoidal_encoding",
    "PositionalEncoding": "course_lib.positional.PositionalEncoding",
    "TokenEmbedding": "course_lib.positional.TokenEmbedding",
    "padding_mask": "course_lib.masks.padding_mask",
    "causal_mask": "course_lib.masks.causal_mask",
    "decoder_mask": "course_lib.masks.decoder_mask",
    "FeedForward": "course_lib.transformer_layers.FeedForward",
    "EncoderLayer": "course_lib.transformer_layers.EncoderLayer",
    "DecoderLayer": "course_lib.transformer_layers.DecoderLayer",
    "Transformer": "course_lib.transformer.Transformer",
    "label_smoothing_loss": "course_lib.losses.label_smoothing_loss",
    "noam_lr": "course_lib.schedule.noam_lr",
    "greedy_decode": "course_lib.decode.greedy_decode",
    "beam_search": "course_lib.decode.beam_search",
    "lm_loss": "course_lib.gpt.lm_loss",
    "DecoderOnlyLM": "course_lib.gpt.DecoderOnlyLM",
    "sample_next_token": "course_lib.gpt.sample_next_token",
    "mask_tokens": "course_lib.bert.mask_tokens",
    "generate": "course_lib.gpt.generate",
}


def reference(exercise: str) -> object:
    """La función o clase de referencia de ``exercise`` (un nombre de :data:`REFERENCES`)."""
    if exercise not in REFERENCES:
        raise ValueError(
            f"No conozco el ejercicio {exercise!r}. Ejercicios: {', '.join(sorted(REFERENCES, key=str.lower))}."
        )
    module, _, name = REFERENCES[exercise].rpartition(".")
    return getattr(importlib.import_module(module), name)


def source(exercise: str) -> str:
    """El código de la referencia de ``exercise`` y, si es una clase, el de sus bases de ``course_lib``."""
    obj = reference(exercise)
    parts = [obj]
    if inspect.isclass(obj):
        parts = [base for base in reversed(obj.__mro__) if base.__module__.startswith("course_lib")]
    return "\n\n".join(inspect.getsource(part) for part in parts if part is not nn.Module)


def show(exercise: str) -> None:
    """Imprime la solución de referencia de ``exercise``. Mírala solo después de intentarlo."""
    obj = reference(exercise)
    path = inspect.getsourcefile(inspect.unwrap(obj)) or "?"
    short = path[path.rfind("course_lib") :] if "course_lib" in path else path
    print(f"Solución de referencia de «{exercise}»: {REFERENCES[exercise]} ({short}).")
    print("Es la versión de la biblioteca: hace lo que pide el ejercicio, a veces con más comprobaciones")
    print("de entrada o para lotes enteros. Las pruebas calificadas no te dejan llamarla: la tienes que escribir tú.\n")
    print(source(exercise))


__all__ = ["REFERENCES", "reference", "show", "source"]
