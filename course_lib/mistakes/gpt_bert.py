"""Errores frecuentes del cuaderno 08: la pérdida del token siguiente, GPT, el muestreo, BERT y la generación.

Las funciones devuelven ``Mistakes.from_outputs({pista: lo que daría ese error})`` para
:func:`course_lib.checks.check_close`; las demás pistas, con nombre, las usan las pruebas que
miran una propiedad (el futuro, el relleno, el número de parámetros, cuándo se para).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from course_lib.mistakes.base import Mistakes

# lm_loss
NO_SHIFT = (
    "parece que no desplazas: la posición t predice el token t + 1, así que se comparan "
    "`logits[:, :-1]` con `tokens[:, 1:]` (sin desplazar, cada posición «predice» el token que ya ve)."
)
SHIFT_BACKWARDS = (
    "parece que desplazas al revés: `logits[:, 1:]` con `tokens[:, :-1]` pide a cada posición el token "
    "ANTERIOR. Es `logits[:, :-1]` con `tokens[:, 1:]`."
)
PADDING_COUNTED = (
    "parece que el relleno cuenta en la pérdida: las posiciones cuyo token a predecir es `pad_id` no "
    "cuentan (`ignore_index=pad_id` en `F.cross_entropy`)."
)
PADDING_AGAINST_ZERO = "parece que ignoras el 0 en lugar de `pad_id`: el relleno no tiene por qué ser el 0."

# `DecoderOnlyLM`
SEES_FUTURE = (
    "la posición t cambia cuando cambia un token posterior: la máscara debe ser causal además de "
    "ocultar el relleno (`decoder_mask(tokens, self.pad_id)`)."
)
SEES_PADDING = (
    "lo que hay en el relleno cambia las posiciones reales: la máscara debe ocultar también el relleno "
    "(`decoder_mask` combina la causal y la de relleno; la causal sola no basta si el relleno va delante)."
)
NOT_PRE_LN = "las capas deben ser pre-LN: `EncoderLayer(d_model, n_heads, d_ff, dropout, norm_first=True)`."
PARAMETERS = (
    "revisa las piezas: `TokenEmbedding`, `PositionalEncoding`, n_layers `EncoderLayer`, una `nn.LayerNorm` "
    "final y `nn.Linear(d_model, vocab_size)` (con sesgo); ni más ni menos."
)

# sample_next_token
TEMPERATURE_MULTIPLIED = (
    "parece que multiplicas por la temperatura: se DIVIDE, `logits / temperature` (con T < 1 la "
    "distribución se concentra; con T > 1 se aplana)."
)
TEMPERATURE_ON_PROBS = (
    "parece que aplicas la temperatura a las probabilidades o después de la softmax: se dividen los "
    "*logits*, y luego softmax."
)
ZERO_TEMPERATURE = (
    "con `temperature == 0` no se puede dividir: devuelve directamente el más probable, `logits.argmax(dim=-1)`."
)
OUTSIDE_TOP_K = (
    "sale un token que no está entre los `top_k` más probables: pon −∞ en los logits menores que el "
    "k-ésimo mayor (`torch.topk(…).values[:, -1:]`) antes de la softmax."
)
NOT_SAMPLED = (
    "con temperatura > 0 hay que muestrear (`torch.multinomial(probs, 1, generator=generator)`), no elegir el máximo."
)
GENERATOR_IGNORED = (
    "con el mismo `generator` (la misma semilla) debe salir lo mismo: pásalo a "
    "`torch.multinomial(…, generator=generator)`."
)

# mask_tokens
SPECIALS_CHOSEN = "se eligen tokens especiales o de relleno: nunca se eligen los de `special_ids` (`torch.isin`)."
LABELS_EVERYWHERE = "`labels` debe valer −100 donde NO se eligió el token: la pérdida solo mira los elegidos."
LABELS_FROM_INPUTS = (
    "`labels` lleva el token ORIGINAL de las posiciones elegidas, no el que entra (`<mask>` o uno al azar)."
)
ALL_MASKED = (
    "todos los elegidos pasan a `<mask>`: la regla es 80 % `<mask>`, 10 % un token al azar y 10 % sin cambiar "
    "(si no, el modelo solo aprende algo en las posiciones con `<mask>`, que no verá al usarlo)."
)
WRONG_FRACTION = "la fracción de tokens elegidos no es `p`: elige cada token con `torch.rand(…) < p`."
RECIPE_ORDER = (
    "con la misma semilla no sale lo mismo que la receta: sorteos en este orden, todos con "
    "`generator=generator`: `torch.rand` (elegir), `torch.rand` (qué hacer con cada uno) y "
    "`torch.randint(vocab_size, …)` (los tokens al azar)."
)

# `generate`
NO_EOS_STOP = "sigue generando después de `<eos>`: para en cuanto el token elegido sea `eos_id` (incluido)."
FIRST_POSITION = (
    "el token siguiente lo predice la ÚLTIMA posición: usa `logits[:, -1]`, no la primera (`logits[:, 0]`)."
)
ONLY_LAST_TOKEN = (
    "el modelo debe recibir la secuencia ENTERA en cada paso (el comienzo y lo generado), no solo el último token."
)
TOO_MANY = "genera como mucho `max_new_tokens` tokens nuevos (y el resultado empieza por el comienzo dado)."
PROMPT_DROPPED = "el resultado es la secuencia completa: el comienzo dado y, detrás, los tokens nuevos."


def lm_loss_mistakes(logits: Tensor, tokens: Tensor, pad_id: int) -> Mistakes:
    """Lo que darían los errores típicos de ``lm_loss``."""
    V = logits.size(-1)

    def ce(predicted: Tensor, target: Tensor, ignore: int | None) -> Tensor:
        kwargs = {"ignore_index": ignore} if ignore is not None else {}
        return F.cross_entropy(predicted.reshape(-1, V), target.reshape(-1), **kwargs)

    outputs = {
        NO_SHIFT: ce(logits, tokens, pad_id),
        SHIFT_BACKWARDS: ce(logits[:, 1:], tokens[:, :-1], pad_id),
        PADDING_COUNTED: ce(logits[:, :-1], tokens[:, 1:], None),
    }
    if pad_id != 0:
        outputs[PADDING_AGAINST_ZERO] = ce(logits[:, :-1], tokens[:, 1:], 0)
    return Mistakes.from_outputs(outputs)


def sampling_mistakes(logits: Tensor, temperature: float, top_k: int | None) -> Mistakes:
    """Las probabilidades ``(B, V)`` con que muestrearían los errores típicos (``temperature > 0``)."""

    def keep_top(scores: Tensor) -> Tensor:
        if top_k is None or top_k >= scores.size(-1):
            return scores
        kth = torch.topk(scores, top_k, dim=-1).values[:, -1:]
        return scores.masked_fill(scores < kth, float("-inf"))

    probs = torch.softmax(logits, dim=-1)
    outputs = {
        TEMPERATURE_MULTIPLIED: torch.softmax(keep_top(logits * temperature), dim=-1),
        TEMPERATURE_ON_PROBS: torch.softmax(keep_top(probs / temperature), dim=-1),
        NOT_SAMPLED: torch.nn.functional.one_hot(logits.argmax(-1), logits.size(-1)).float(),
    }
    if top_k is not None:
        outputs[OUTSIDE_TOP_K] = torch.softmax(logits / temperature, dim=-1)
    return Mistakes.from_outputs(outputs)


__all__ = [
    "ALL_MASKED",
    "FIRST_POSITION",
    "GENERATOR_IGNORED",
    "LABELS_EVERYWHERE",
    "LABELS_FROM_INPUTS",
    "NOT_PRE_LN",
    "NOT_SAMPLED",
    "NO_EOS_STOP",
    "NO_SHIFT",
    "ONLY_LAST_TOKEN",
    "OUTSIDE_TOP_K",
    "PADDING_AGAINST_ZERO",
    "PADDING_COUNTED",
    "PARAMETERS",
    "PROMPT_DROPPED",
    "RECIPE_ORDER",
    "SEES_FUTURE",
    "SEES_PADDING",
    "SHIFT_BACKWARDS",
    "SPECIALS_CHOSEN",
    "TEMPERATURE_MULTIPLIED",
    "TEMPERATURE_ON_PROBS",
    "TOO_MANY",
    "WRONG_FRACTION",
    "ZERO_TEMPERATURE",
    "lm_loss_mistakes",
    "sampling_mistakes",
]
