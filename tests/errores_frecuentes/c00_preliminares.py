"""Errores frecuentes sembrados en 00_preliminares: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "coseno_sin_normas",
        "cosine_similarity",
        "return dot / (norm_a * norm_b)",
        "return dot",
        "no divides entre las normas",
    ),
    Mistake(
        "coseno_normas_al_cuadrado",
        "cosine_similarity",
        "return dot / (norm_a * norm_b)",
        "return dot / (norm_a**2 * norm_b**2)",
        "divides entre las normas al cuadrado",
    ),
    Mistake(
        "coseno_vector_nulo",
        "cosine_similarity",
        ".clamp_min(eps)",
        "",
        "un vector nulo tiene norma 0",
    ),
    Mistake(
        "softmax_sin_maximo",
        "softmax",
        "x - x.max(dim=dim, keepdim=True).values",
        "x",
        "resta el máximo de cada fila antes de exponenciar",
    ),
    Mistake(
        "softmax_ignora_dim",
        "softmax",
        "dim=dim",
        "dim=-1",
        "ignoras el argumento `dim`",
    ),
    Mistake(
        "softmax_sin_keepdim",
        "softmax",
        "exp.sum(dim=dim, keepdim=True)",
        "exp.sum(dim=dim)",
        "sumas sin keepdim=True",
    ),
]
