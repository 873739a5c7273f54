"""Errores frecuentes de la softmax y de la similitud coseno (cuaderno 00).

Cada función devuelve :class:`~course_lib.mistakes.base.Mistakes` con
``{pista en español: lo que daría ese error}`` en ``out``, para pasarlo como
``mistakes=`` a :func:`course_lib.checks.check_close`.

La softmax sin restar el máximo no está aquí: con entradas moderadas da el
resultado correcto y con entradas grandes da NaN, que no se puede comparar con
nada. Las pruebas la detectan con :func:`course_lib.checks.check_finite` y la pista
:data:`HINT_SOFTMAX_OVERFLOW`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from course_lib.mistakes.base import Mistakes

HINT_SOFTMAX_OVERFLOW = (
    "con entradas grandes, exp(x) se desborda (exp(1000) = inf y inf/inf = NaN): "
    "resta el máximo de cada fila antes de exponenciar, `x - x.max(dim=dim, keepdim=True).values`; "
    "el resultado no cambia."
)
HINT_COSINE_ZERO = (
    "un vector nulo tiene norma 0 y 0/0 da NaN: limita cada norma por abajo con "
    "`.clamp_min(eps)` (eps=1e-8, como F.cosine_similarity), así la similitud con un vector nulo vale 0."
)


def softmax_mistakes(x: Tensor, dim: int = -1) -> Mistakes:
    """Errores típicos de una softmax hecha a mano; ``x`` de cualquier forma, normalizada en ``dim``."""
    dim = dim % x.dim()
    exp = (x - x.amax(dim=dim, keepdim=True)).exp()
    no_exp = (
        "parece que no aplicas la exponencial: la softmax divide exp(x) entre la suma de exp(x), "
        "no x entre la suma de x."
    )
    whole_sum = "parece que divides entre la suma de TODO el tensor: suma solo a lo largo de `dim`, con `keepdim=True`."
    outputs: dict[str, Tensor] = {no_exp: x / x.sum(dim=dim, keepdim=True), whole_sum: exp / exp.sum()}
    if dim != x.dim() - 1:
        ignores_dim = (
            "parece que ignoras el argumento `dim` y normalizas siempre la última dimensión: "
            "usa `dim=dim` al buscar el máximo y al sumar."
        )
        outputs[ignores_dim] = torch.softmax(x, dim=-1)
    try:
        without_keepdim = exp / exp.sum(dim=dim)
    except RuntimeError:
        without_keepdim = None
    correct = exp / exp.sum(dim=dim, keepdim=True)
    # Con dim=0 (o en 1-D) la difusión cae justo en su sitio y el resultado es correcto: no es un error.
    if (
        without_keepdim is not None
        and without_keepdim.shape == x.shape
        and not torch.allclose(without_keepdim, correct, equal_nan=True)
    ):
        no_keepdim = (
            "parece que sumas sin keepdim=True: la suma pierde la dimensión `dim` y, al dividir, "
            "se difunde (broadcast) sobre otra dimensión. Usa `exp.sum(dim=dim, keepdim=True)`."
        )
        outputs[no_keepdim] = without_keepdim
    return Mistakes.from_outputs(outputs)


def cosine_mistakes(a: Tensor, b: Tensor, dim: int = -1, eps: float = 1e-8) -> Mistakes:
    """Errores típicos de una similitud coseno hecha a mano; ``a`` y ``b`` difundibles, ``(..., D)``."""
    a, b = torch.broadcast_tensors(a, b)
    dot = (a * b).sum(dim=dim)  # (...)
    norm_a = torch.linalg.vector_norm(a, dim=dim).clamp_min(eps)  # (...)
    norm_b = torch.linalg.vector_norm(b, dim=dim).clamp_min(eps)  # (...)
    no_norms = (
        "parece que no divides entre las normas: U·V = |U| |V| cos θ, así que cos θ = U·V / (|U| |V|). "
        "El producto escalar solo es el coseno si los dos vectores miden 1."
    )
    squared = (
        "parece que divides entre las normas al cuadrado: |U|² = U·U, pero cos θ = U·V / (|U| |V|), "
        "con las normas sin elevar."
    )
    only_a = "parece que divides solo entre la norma de `a`: falta |b| en el denominador."
    only_b = "parece que divides solo entre la norma de `b`: falta |a| en el denominador."
    added = "parece que sumas las normas en vez de multiplicarlas: cos θ = U·V / (|U| · |V|)."
    return Mistakes.from_outputs(
        {
            no_norms: dot,
            squared: dot / (norm_a**2 * norm_b**2),
            only_a: dot / norm_a,
            only_b: dot / norm_b,
            added: dot / (norm_a + norm_b),
        }
    )
