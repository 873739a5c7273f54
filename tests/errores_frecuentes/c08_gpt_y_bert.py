"""Errores frecuentes sembrados en 08_gpt_y_bert: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "perdida_sin_desplazar",
        "lm_loss",
        "predicted = logits[:, :-1]  # (B, T-1, V): la posición t…\n    target = tokens[:, 1:]",
        "predicted = logits  # (B, T, V)\n    target = tokens",
        "parece que no desplazas",
    ),
    Mistake(
        "perdida_con_relleno",
        "lm_loss",
        ", ignore_index=pad_id)",
        ")",
        "parece que el relleno cuenta en la pérdida",
    ),
    Mistake(
        "gpt_sin_mascara_causal",
        "DecoderOnlyLM",
        "mask = self.mask(tokens)  # (B, 1, T, T)",
        "mask = padding_mask(tokens, self.pad_id)  # (B, 1, 1, T)",
        "la posición t cambia cuando cambia un token posterior",
    ),
    Mistake(
        "gpt_post_ln",
        "DecoderOnlyLM",
        "norm_first=True) for _ in range(n_layers)",
        "norm_first=False) for _ in range(n_layers)",
        "las capas deben ser pre-LN",
    ),
    Mistake(
        "temperatura_multiplicada",
        "sample_next_token",
        "scaled = logits / temperature",
        "scaled = logits * temperature",
        "parece que multiplicas por la temperatura",
    ),
    Mistake(
        "sin_top_k",
        "sample_next_token",
        'scaled = scaled.masked_fill(scaled < kth, float("-inf"))',
        "scaled = scaled",
        "sale un token que no está entre los `top_k` más probables",
    ),
    Mistake(
        "generar_sin_parar_en_eos",
        "generate",
        "            if next_id == eos_id:\n                break\n",
        "",
        "sigue generando después de `<eos>`",
    ),
    Mistake(
        "generar_con_la_primera_posicion",
        "generate",
        "sample_next_token(logits[:, -1],",
        "sample_next_token(logits[:, 0],",
        "el token siguiente lo predice la ÚLTIMA posición",
    ),
    Mistake(
        "tapar_todos",
        "mask_tokens",
        "inputs = torch.where(chosen & (action < 0.8), mask_id, tokens)",
        "inputs = torch.where(chosen, mask_id, tokens)",
        "todos los elegidos pasan a `<mask>`",
    ),
    Mistake(
        "etiquetas_de_la_entrada",
        "mask_tokens",
        "labels = torch.where(chosen, tokens, -100)",
        "labels = torch.where(chosen, inputs, -100)",
        "lleva el token ORIGINAL",
    ),
    Mistake(
        "especiales_elegidos",
        "mask_tokens",
        "< p) & candidates",
        "< p)",
        "se eligen tokens especiales o de relleno",
    ),
]
