"""Pruebas de course_lib.basics (softmax y similitud coseno) y de course_lib.mistakes.basics.

Las referencias independientes son ``torch.softmax``, ``F.cosine_similarity`` o un cálculo
hecho a mano en la propia prueba (en float64 cuando hay números grandes).
"""

from __future__ import annotations

import math
import pkgutil

import pytest
import torch
import torch.nn.functional as F

from course_lib import basics, checks
from course_lib.basics import cosine_similarity, softmax
from course_lib.mistakes import forbidden
from course_lib.mistakes.basics import HINT_COSINE_ZERO, HINT_SOFTMAX_OVERFLOW, cosine_mistakes, softmax_mistakes

ATOL = 1e-6
RTOL = 1e-5


def randn(*shape: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=gen)


# --- softmax: valores ----------------------------------------------------------------------------

SOFTMAX_CASES = [  # (forma, dim): 1-D, lote de 1, 3-D y 4-D, dimensiones primera, intermedia y última
    ((6,), -1),
    ((1, 5), -1),
    ((3, 7), 0),
    ((2, 3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 3, 4), 2),
    ((3, 4, 5, 2), -2),
]


@pytest.mark.parametrize(("shape", "dim"), SOFTMAX_CASES)
def test_softmax_matches_torch(shape, dim):
    """Coincide con torch.softmax, conserva la forma y suma 1 a lo largo de ``dim``."""
    x = randn(*shape, seed=1, scale=3.0)
    out = softmax(x, dim=dim)
    assert out.shape == x.shape, "la softmax conserva la forma de la entrada"
    torch.testing.assert_close(out, torch.softmax(x, dim=dim), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(out.sum(dim=dim), torch.ones(out.sum(dim=dim).shape))
    assert (out >= 0).all(), "las probabilidades no pueden ser negativas"


def test_softmax_default_dim_is_last():
    """Sin ``dim``, normaliza la última dimensión."""
    x = randn(3, 4, seed=2)
    torch.testing.assert_close(softmax(x), softmax(x, dim=-1))
    torch.testing.assert_close(softmax(x), torch.softmax(x, dim=-1), atol=ATOL, rtol=RTOL)


def test_softmax_hand_example():
    """softmax([2, 1, 0.1]) ≈ [0.659, 0.242, 0.099], calculado a mano."""
    z = torch.tensor([2.0, 1.0, 0.1])
    total = math.exp(2.0) + math.exp(1.0) + math.exp(0.1)
    expected = torch.tensor([math.exp(2.0) / total, math.exp(1.0) / total, math.exp(0.1) / total])
    torch.testing.assert_close(softmax(z), expected, atol=1e-6, rtol=0)
    assert abs(softmax(z)[0].item() - 0.659) < 1e-3, "el primer valor debe ser ≈ 0.659"


def test_softmax_is_shift_invariant():
    """Sumar la misma constante a todos los ``logits`` no cambia la softmax."""
    x = randn(4, 6, seed=3)
    torch.testing.assert_close(softmax(x + 123.0), softmax(x), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize(("scale", "dim"), [(1000.0, -1), (1000.0, 0), (-1000.0, 1), (1e5, -1)])
def test_softmax_large_inputs_are_finite(scale, dim):
    """Con entradas enormes (x·1000) no hay NaN ni infinitos y el resultado es el correcto."""
    x = randn(3, 4, 5, seed=4, scale=scale) if dim != -1 else randn(4, 6, seed=4, scale=scale)
    out = softmax(x, dim=dim)
    assert torch.isfinite(out).all(), "la softmax no debe dar NaN ni inf con entradas grandes"
    x64 = x.double()
    shifted = x64 - x64.amax(dim=dim, keepdim=True)
    expected = shifted.exp() / shifted.exp().sum(dim=dim, keepdim=True)
    torch.testing.assert_close(out.double(), expected, atol=1e-6, rtol=1e-5)


def test_softmax_naive_formula_would_overflow():
    """Control: la fórmula sin restar el máximo sí da NaN con estas entradas (la prueba anterior puede fallar)."""
    x = torch.tensor([1000.0, 1001.0, 1002.0])
    naive = x.exp() / x.exp().sum()
    assert torch.isnan(naive).all(), "sin restar el máximo, exp(1000) = inf y inf/inf = NaN"
    assert torch.isfinite(softmax(x)).all()


def test_softmax_handles_minus_inf():
    """Una posición con -inf (enmascarada) recibe probabilidad 0 y el resto coincide con PyTorch."""
    x = randn(3, 5, seed=5)
    x[:, 1] = -math.inf
    out = softmax(x)
    assert (out[:, 1] == 0).all(), "las posiciones con -inf deben tener probabilidad 0"
    torch.testing.assert_close(out, torch.softmax(x, dim=-1), atol=ATOL, rtol=RTOL)


def test_softmax_keeps_dtype_and_input():
    """Funciona en float64, devuelve float64 y no modifica la entrada."""
    x = randn(2, 3, seed=6).double()
    before = x.clone()
    out = softmax(x, dim=0)
    assert out.dtype == torch.float64, "el tipo de la salida debe ser el de la entrada"
    assert torch.equal(x, before), "softmax no debe modificar su entrada"


# --- softmax: errores ----------------------------------------------------------------------------


def test_softmax_error_on_non_tensor():
    """Una lista en lugar de un tensor: ``TypeError`` en español que nombra `x`."""
    with pytest.raises(TypeError, match=r"`x` debe ser un torch.Tensor; recibí list"):
        softmax([1.0, 2.0])


def test_softmax_error_on_integer_tensor():
    """Un tensor de enteros: ``TypeError`` que dice cómo convertirlo."""
    with pytest.raises(TypeError) as info:
        softmax(torch.tensor([1, 2, 3]))
    message = str(info.value)
    assert "`x`" in message and "torch.int64" in message and "x.float()" in message


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_softmax_error_on_bad_dim(dim):
    """Una dimensión que no existe: ``IndexError`` en español con la forma y el rango válido."""
    with pytest.raises(IndexError) as info:
        softmax(torch.randn(3, 4), dim=dim)
    message = str(info.value)
    assert f"`dim`={dim}" in message and "(3, 4)" in message, "el mensaje debe nombrar `dim` y la forma"
    assert "de -2 a 1" in message, "el mensaje debe decir el rango válido"


def test_softmax_error_on_non_int_dim_and_scalar():
    """``dim`` no entero → ``TypeError``; un escalar → ``ValueError``; ambos en español."""
    with pytest.raises(TypeError, match="`dim` debe ser un entero"):
        softmax(torch.randn(3), dim=0.0)
    with pytest.raises(ValueError, match="al menos 1 dimensión"):
        softmax(torch.tensor(2.0))


# --- cosine_similarity: valores ------------------------------------------------------------------

COSINE_CASES = [  # (forma de a, forma de b, dim): lote de 1, 3-D, difusión, otras dimensiones
    ((1, 3), (1, 3), -1),
    ((2, 5, 8), (2, 5, 8), -1),
    ((2, 1, 7), (1, 3, 7), -1),
    ((5, 4), (4,), -1),
    ((5, 3), (5, 3), 0),
    ((2, 7, 3), (2, 7, 3), 1),
    ((3, 4, 5), (3, 1, 5), 2),
]


@pytest.mark.parametrize(("shape_a", "shape_b", "dim"), COSINE_CASES)
def test_cosine_matches_torch(shape_a, shape_b, dim):
    """Coincide con F.cosine_similarity en forma y valores, también con difusión."""
    a, b = randn(*shape_a, seed=7), randn(*shape_b, seed=8)
    out = cosine_similarity(a, b, dim=dim)
    expected = F.cosine_similarity(a, b, dim=dim)
    assert out.shape == expected.shape, "la forma es la común de a y b sin la dimensión `dim`"
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)
    assert (out.abs() <= 1 + 1e-6).all(), "el coseno está entre -1 y 1"


def test_cosine_hand_example():
    """U = (3, 4), V = (4, 3): 24 / (5 · 5) = 0.96; perpendiculares 0; opuestos -1."""
    u, v = torch.tensor([3.0, 4.0]), torch.tensor([4.0, 3.0])
    torch.testing.assert_close(cosine_similarity(u, v), torch.tensor(0.96))
    torch.testing.assert_close(cosine_similarity(u, torch.tensor([-4.0, 3.0])), torch.tensor(0.0))
    torch.testing.assert_close(cosine_similarity(u, -2 * u), torch.tensor(-1.0))


def test_cosine_all_pairs_by_broadcasting():
    """(N, 1, D) frente a (1, M, D) da la matriz (N, M) de todas las parejas."""
    a, b = randn(4, 6, seed=9), randn(3, 6, seed=10)
    out = cosine_similarity(a.unsqueeze(1), b.unsqueeze(0))
    assert out.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            expected = (a[i] @ b[j]) / (a[i].norm() * b[j].norm())
            torch.testing.assert_close(out[i, j], expected, atol=ATOL, rtol=RTOL)


def test_cosine_zero_vectors_give_zero_like_torch():
    """Un vector nulo da 0 (no NaN), como F.cosine_similarity con eps=1e-8."""
    a = randn(3, 5, seed=11)
    a[1] = 0.0
    b = randn(3, 5, seed=12)
    out = cosine_similarity(a, b)
    assert torch.isfinite(out).all(), "un vector nulo no debe dar NaN"
    assert out[1] == 0, "la similitud con un vector nulo vale 0"
    torch.testing.assert_close(out, F.cosine_similarity(a, b, dim=-1), atol=ATOL, rtol=RTOL)
    zeros = torch.zeros(2, 4)
    assert torch.equal(cosine_similarity(zeros, zeros), torch.zeros(2)), "dos vectores nulos dan 0"


def test_cosine_tiny_vectors_follow_torch_eps():
    """Con normas por debajo de ``eps`` se sigue la regla de PyTorch: cada norma se limita a ``eps`` por separado."""
    a = torch.tensor([[1e-10, 0.0, 0.0]])
    b = torch.tensor([[1.0, 0.0, 0.0]])
    torch.testing.assert_close(cosine_similarity(a, b), F.cosine_similarity(a, b, dim=-1))
    torch.testing.assert_close(cosine_similarity(a, b), torch.tensor([0.01]))  # 1e-10 / (1e-8 · 1)


def test_cosine_is_scale_invariant():
    """Escalar a por un positivo no cambia el coseno; por un negativo cambia el signo."""
    a, b = randn(4, 8, seed=13), randn(4, 8, seed=14)
    base = cosine_similarity(a, b)
    torch.testing.assert_close(cosine_similarity(1000 * a, 0.001 * b), base, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(cosine_similarity(a, -3 * b), -base, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(cosine_similarity(b, b), torch.ones(4))


def test_cosine_does_not_modify_inputs():
    """La función no modifica a ni b."""
    a, b = randn(3, 4, seed=15), randn(3, 4, seed=16)
    copies = a.clone(), b.clone()
    cosine_similarity(a, b)
    assert torch.equal(a, copies[0]) and torch.equal(b, copies[1]), "no se deben modificar las entradas"


# --- cosine_similarity: errores ------------------------------------------------------------------


def test_cosine_error_on_non_broadcastable():
    """Formas que no se pueden difundir: ``ValueError`` que enseña las dos formas."""
    with pytest.raises(ValueError) as info:
        cosine_similarity(torch.randn(3, 4), torch.randn(2, 4))
    message = str(info.value)
    assert "(3, 4)" in message and "(2, 4)" in message and "difundir" in message


@pytest.mark.parametrize("position", [0, 1])
def test_cosine_error_on_bad_input_type(position):
    """Un argumento que no es tensor de reales: ``TypeError`` que lo nombra."""
    args = [torch.randn(3), torch.randn(3)]
    args[position] = torch.arange(3)
    name = "ab"[position]
    with pytest.raises(TypeError, match=f"`{name}` debe ser un tensor de números reales"):
        cosine_similarity(*args)
    args[position] = [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match=f"`{name}` debe ser un torch.Tensor"):
        cosine_similarity(*args)


def test_cosine_error_on_bad_dim_and_eps():
    """``dim`` fuera de rango → ``IndexError``; ``eps`` negativo → ``ValueError``; ambos en español."""
    with pytest.raises(IndexError, match=r"`dim`=2 no existe para un tensor de forma \(3, 4\)"):
        cosine_similarity(torch.randn(3, 4), torch.randn(3, 4), dim=2)
    with pytest.raises(ValueError, match="`eps` debe ser un número no negativo"):
        cosine_similarity(torch.randn(3), torch.randn(3), eps=-1.0)
    with pytest.raises(ValueError, match="vectores"):
        cosine_similarity(torch.tensor(1.0), torch.tensor(2.0))


# --- Rutas prohibidas (course_lib.mistakes.forbidden) y checks.forbid -----------------------------


@pytest.mark.parametrize("path", forbidden.BASICS)
def test_reference_paths_resolve(path):
    """Cada ruta de las rutas prohibidas se importa (con ``pkgutil``, no con ``checks._resolve``) y se puede llamar."""
    target = pkgutil.resolve_name(path)
    assert callable(target), f"{path} debe poder llamarse"


def test_reference_paths_cover_the_builtins():
    """Las rutas prohibidas incluyen las funciones de PyTorch que resolverían los ejercicios."""
    needed = {
        "torch.softmax",
        "torch.nn.functional.softmax",
        "torch.Tensor.softmax",
        "torch.special.softmax",
        "torch.nn.functional.log_softmax",
        "torch.nn.functional.cosine_similarity",
        "torch.cosine_similarity",
        "course_lib.basics.softmax",
        "course_lib.basics.cosine_similarity",
    }
    assert needed <= set(forbidden.BASICS), needed - set(forbidden.BASICS)


def test_forbid_blocks_every_route_and_restores_them():
    """Dentro de ``checks.forbid``, softmax (también como método) y el coseno de PyTorch fallan; fuera, funcionan."""
    x = torch.randn(2, 3)
    routes = [
        lambda: torch.softmax(x, dim=-1),
        lambda: F.softmax(x, dim=-1),
        lambda: x.softmax(dim=-1),
        lambda: F.log_softmax(x, dim=-1),
        lambda: torch.nn.Softmax(dim=-1)(x),
        lambda: F.cosine_similarity(x, x),
        lambda: torch.cosine_similarity(x, x),
        lambda: basics.softmax(x),
        lambda: basics.cosine_similarity(x, x),
    ]
    with checks.forbid(forbidden.BASICS, namespace={}):
        for route in routes:
            with pytest.raises(checks.ForbiddenCallError):
                route()
        # Lo que necesita una solución hecha a mano sigue disponible.
        shifted = x - x.max(dim=-1, keepdim=True).values
        manual = shifted.exp() / shifted.exp().sum(dim=-1, keepdim=True)
    torch.testing.assert_close(manual, torch.softmax(x, dim=-1))
    for route in routes:
        route()  # fuera del bloque, todo vuelve a funcionar


# --- course_lib.mistakes.basics ------------------------------------------------------------------


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True si los tensores tienen otra forma o valores claramente distintos."""
    return a.shape != b.shape or not torch.allclose(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(
    ("shape", "dim", "expected"), [((4, 4), -1, 3), ((2, 3, 4), 0, 3), ((2, 3, 4), 1, 3), ((3, 3, 3), 1, 4)]
)
def test_softmax_mistakes_differ_from_reference(shape, dim, expected):
    """Cada error típico de la softmax da un resultado distinto del de torch.softmax."""
    x = randn(*shape, seed=17, scale=2.0)
    found = softmax_mistakes(x, dim=dim)
    assert found.weights == {}, "la softmax tiene una sola salida: todo va en `out`"
    assert len(found.out) == expected, list(found.out)
    reference = torch.softmax(x, dim=dim)
    for hint, out in found.out.items():
        assert "parece" in hint, f"la pista debe estar en español: {hint!r}"
        assert differs(out, reference), f"el error «{hint}» no se distingue de la softmax correcta"


def test_softmax_mistakes_skip_indistinguishable_ones():
    """Con ``dim=-1`` ignorar ``dim`` no es un error visible, y sin ``keepdim`` solo lo es si la división se difunde."""
    found = softmax_mistakes(randn(3, 5, seed=18), dim=-1)
    assert not any("ignoras" in hint for hint in found.out)
    assert not any("keepdim=True:" in hint for hint in found.out), "(3, 5) / (3,) no se puede difundir"
    square = softmax_mistakes(randn(4, 4, seed=19), dim=-1)
    hint = next(h for h in square.out if "sumas sin keepdim" in h)
    x = randn(4, 4, seed=19)
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    torch.testing.assert_close(square.out[hint], e / e.sum(dim=-1))


@pytest.mark.parametrize(("shape_a", "shape_b", "dim"), [((4, 6), (4, 6), -1), ((2, 1, 5), (1, 3, 5), -1)])
def test_cosine_mistakes_differ_from_reference(shape_a, shape_b, dim):
    """Cada error típico del coseno da un resultado distinto de F.cosine_similarity."""
    a, b = randn(*shape_a, seed=20, scale=3.0), randn(*shape_b, seed=21, scale=0.5)
    found = cosine_mistakes(a, b, dim)
    assert len(found.out) == 5
    reference = F.cosine_similarity(a, b, dim=dim)
    for hint, out in found.out.items():
        assert "parece" in hint, f"la pista debe estar en español: {hint!r}"
        assert differs(out, reference), f"el error «{hint}» no se distingue del coseno correcto"


def test_cosine_mistake_without_norms_is_the_dot_product():
    """El error «no divides entre las normas» es exactamente el producto escalar."""
    a, b = randn(3, 4, seed=22), randn(3, 4, seed=23)
    found = cosine_mistakes(a, b)
    hint = next(h for h in found.out if "no divides entre las normas" in h)
    torch.testing.assert_close(found.out[hint], (a * b).sum(dim=-1))


def test_hint_constants_point_to_the_fix():
    """Las pistas fijas nombran el arreglo: restar el máximo y limitar las normas con ``eps``."""
    assert "resta el máximo" in HINT_SOFTMAX_OVERFLOW and "NaN" in HINT_SOFTMAX_OVERFLOW
    assert "clamp_min(eps)" in HINT_COSINE_ZERO and "vector nulo" in HINT_COSINE_ZERO
