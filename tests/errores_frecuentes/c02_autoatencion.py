"""Errores frecuentes sembrados en 02_autoatencion: cada uno debe perder puntos y mostrar su pista."""

from tests.cuadernos import Mistake

MISTAKES = [
    Mistake(
        "softmax_dim",
        "scaled_dot_product_attention",
        "torch.softmax(scores, dim=-1)",
        "torch.softmax(scores, dim=-2)",
        "dimensión de las consultas (dim=-2)",
    ),
    Mistake(
        "sin_escala",
        "scaled_dot_product_attention",
        " / math.sqrt(d_k)",
        "",
        "no divides las puntuaciones entre √d_k",
    ),
    Mistake(
        "mascara_tras_softmax",
        "scaled_dot_product_attention",
        """    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., T_q, T_k)
""",
        """    weights = torch.softmax(scores, dim=-1)  # (..., T_q, T_k)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
""",
        "DESPUÉS de la softmax",
    ),
    Mistake(
        "mascara_multiplicando",
        "scaled_dot_product_attention",
        'scores = scores.masked_fill(~mask, float("-inf"))',
        "scores = scores * mask",
        "enmascaras multiplicando las puntuaciones por la máscara",
    ),
    Mistake(
        "sin_proyecciones",
        "SelfAttention",
        "q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)",
        "q, k, v = x, x, x",
        "calcula q, k y v con W_q, W_k y W_v",
    ),
]
