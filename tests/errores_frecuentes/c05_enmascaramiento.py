"""Errores frecuentes sembrados en 05_enmascaramiento: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "relleno_invertido",
        "padding_mask",
        "real = tokens != pad_id",
        "real = tokens == pad_id",
        "la comparación está invertida",
    ),
    Mistake(
        "relleno_en_consultas",
        "padding_mask",
        "return real[:, None, None, :]",
        "return real[:, None, :, None]",
        "enmascaras las consultas (filas) en vez de las claves (columnas)",
    ),
    Mistake(
        "causal_sin_diagonal",
        "causal_mask",
        "torch.tril(ones)",
        "torch.tril(ones, diagonal=-1)",
        "excluyes la diagonal",
    ),
    Mistake(
        "causal_triangulo_superior",
        "causal_mask",
        "torch.tril(ones)",
        "torch.triu(ones)",
        "usas el triángulo superior",
    ),
    Mistake(
        "decodificador_con_or",
        "decoder_mask",
        "padding_mask(tgt_tokens, pad_id) & causal",
        "padding_mask(tgt_tokens, pad_id) | causal",
        "combinas las máscaras con OR",
    ),
]
