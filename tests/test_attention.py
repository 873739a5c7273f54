"""Pruebas de course_lib.attention y course_lib.mistakes.

La referencia independiente es ``torch.nn.functional.scaled_dot_product_attention``
o un cálculo hecho a mano en la propia prueba; nunca la salida de la biblioteca.
"""

from __future__ import annotations

import math
import pkgutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib
from course_lib import mistakes
from course_lib.attention import SelfAttention, scaled_dot_product_attention
from course_lib.mistakes import forbidden

ATOL = 1e-5
RTOL = 1e-4


def random_mask(*shape: int, seed: int = 0) -> torch.Tensor:
    """Máscara booleana aleatoria en la que cada fila deja ver al menos la primera clave."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.rand(*shape, generator=gen) > 0.4
    mask[..., 0] = True
    return mask


def make_qkv(shape_q: tuple[int, ...], t_k: int, d_v: int, seed: int = 0):
    """q ``(..., T_q, d_k)``, k ``(..., T_k, d_k)`` y v ``(..., T_k, d_v)`` aleatorios."""
    gen = torch.Generator().manual_seed(seed)
    *batch, _, d_k = shape_q
    q = torch.randn(*shape_q, generator=gen)
    k = torch.randn(*batch, t_k, d_k, generator=gen)
    v = torch.randn(*batch, t_k, d_v, generator=gen)
    return q, k, v


# (forma de q, T_k, d_v): 3-D y 4-D, T_q != T_k, lote de 1, sin lote.
SHAPES = [
    ((2, 3, 4), 5, 6),
    ((3, 2, 6, 8), 4, 3),
    ((1, 4, 7), 9, 5),
    ((1, 1, 3), 1, 2),
    ((5, 16), 7, 4),
]


# --- scaled_dot_product_attention: valores ---------------------------------------------------


@pytest.mark.parametrize(("shape_q", "t_k", "d_v"), SHAPES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_matches_torch_without_mask(shape_q, t_k, d_v, need_weights):
    """Sin máscara, la salida coincide con la de PyTorch."""
    q, k, v = make_qkv(shape_q, t_k, d_v)
    out, weights = scaled_dot_product_attention(q, k, v, need_weights=need_weights)
    expected = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == expected.shape, "la forma de la salida debe ser (..., T_q, d_v)"
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)
    if need_weights:
        assert weights.shape == (*shape_q[:-1], t_k), "los pesos deben tener forma (..., T_q, T_k)"
    else:
        assert weights is None, "con need_weights=False no se devuelven pesos"


@pytest.mark.parametrize(
    ("shape_q", "t_k", "d_v", "mask_shape"),
    [
        ((2, 4, 8), 6, 3, (4, 6)),  # (T_q, T_k)
        ((3, 4, 8), 5, 2, (3, 1, 5)),  # (B, 1, T_k)
        ((2, 3, 5, 8), 7, 4, (2, 1, 1, 7)),  # (B, 1, 1, T_k)
        ((2, 3, 5, 8), 7, 4, (5, 7)),  # (T_q, T_k) sobre 4-D
        ((2, 4, 8), 6, 3, (2, 4, 6)),  # forma completa
        ((1, 3, 4), 5, 6, (1, 5)),  # (1, T_k)
    ],
)
@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_matches_torch_with_mask(shape_q, t_k, d_v, mask_shape, need_weights):
    """Con máscaras de varias formas difundibles, la salida coincide con la de PyTorch."""
    q, k, v = make_qkv(shape_q, t_k, d_v, seed=1)
    mask = random_mask(*mask_shape, seed=2)
    out, _ = scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)


def test_sdpa_weights_match_manual_softmax():
    """Los pesos coinciden con softmax(q kᵀ / √d_k) calculado a mano, con -inf en lo enmascarado."""
    q, k, v = make_qkv((2, 3, 4), 5, 6, seed=3)
    mask = random_mask(2, 3, 5, seed=4)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = torch.einsum("bqd,bkd->bqk", q, k) / 2.0  # √4 = 2
    scores = torch.where(mask, scores, torch.full_like(scores, -math.inf))
    expected = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)
    torch.testing.assert_close(weights, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("with_mask", [False, True])
def test_sdpa_weight_rows_sum_to_one(with_mask):
    """Cada fila de pesos es una distribución: no negativa y suma 1; lo enmascarado pesa 0."""
    q, k, v = make_qkv((3, 4, 8), 6, 2, seed=5)
    mask = random_mask(3, 4, 6, seed=6) if with_mask else None
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert (weights >= 0).all(), "los pesos no pueden ser negativos"
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(3, 4))
    if with_mask:
        assert (weights[~mask] == 0).all(), "las posiciones enmascaradas deben pesar exactamente 0"


@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_fully_masked_row_gives_zeros(need_weights):
    """Una fila sin ninguna clave visible da pesos 0 y salida 0, sin NaN; el resto no cambia."""
    q, k, v = make_qkv((2, 3, 4), 5, 6, seed=7)
    mask = random_mask(2, 3, 5, seed=8)
    mask[0, 1] = False  # la consulta 1 del ejemplo 0 no ve nada
    out, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
    assert not torch.isnan(out).any(), "una fila toda enmascarada no debe producir NaN"
    assert (out[0, 1] == 0).all(), "la salida de una fila toda enmascarada debe ser 0"
    if need_weights:
        assert not torch.isnan(weights).any(), "los pesos no deben tener NaN"
        assert (weights[0, 1] == 0).all(), "los pesos de una fila toda enmascarada deben ser 0"
    # Las demás filas, como en PyTorch.
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    visible = mask.any(dim=-1)
    torch.testing.assert_close(out[visible], expected[visible], atol=ATOL, rtol=RTOL)


def test_sdpa_need_weights_false_matches_explicit_path():
    """need_weights=False devuelve (out, None) con la misma salida que la ruta explícita."""
    q, k, v = make_qkv((2, 2, 5, 8), 7, 3, seed=9)
    mask = random_mask(2, 1, 1, 7, seed=10)
    explicit, _ = scaled_dot_product_attention(q, k, v, mask)
    result = scaled_dot_product_attention(q, k, v, mask, need_weights=False)
    assert isinstance(result, tuple) and len(result) == 2, "debe devolver una tupla (out, None)"
    assert result[1] is None, "con need_weights=False el segundo elemento debe ser None"
    torch.testing.assert_close(result[0], explicit, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_does_not_modify_inputs(need_weights):
    """La función no modifica q, k, v ni la máscara."""
    q, k, v = make_qkv((2, 3, 4), 5, 6, seed=11)
    mask = random_mask(2, 3, 5, seed=12)
    mask[1, 2] = False
    copies = [t.clone() for t in (q, k, v, mask)]
    scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
    for name, before, after in zip(("q", "k", "v", "mask"), copies, (q, k, v, mask), strict=True):
        assert torch.equal(before, after), f"se modificó la entrada `{name}`"


@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_large_inputs_are_finite(need_weights):
    """Con puntuaciones enormes (miles) el resultado sigue siendo finito y correcto."""
    q, k, v = make_qkv((2, 4, 8), 6, 3, seed=13)
    q, k = 300 * q, 300 * k
    out, weights = scaled_dot_product_attention(q, k, v, need_weights=need_weights)
    assert torch.isfinite(out).all(), "la salida debe ser finita con entradas grandes"
    if need_weights:
        assert torch.isfinite(weights).all(), "los pesos deben ser finitos con entradas grandes"
        torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 4))
    expected = F.scaled_dot_product_attention(q.double(), k.double(), v.double()).float()
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-3)


def test_sdpa_classic_example_d_k_64():
    """Ejemplo clásico: d_k=64, puntuaciones 112 y 96 → 14 y 12 tras escalar → pesos ≈ 0.8808 / 0.1192."""
    q = torch.ones(1, 64)
    k = torch.stack([torch.full((64,), 112 / 64), torch.full((64,), 96 / 64)])  # q·k = 112 y 96
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out, weights = scaled_dot_product_attention(q, k, v)
    expected = torch.tensor([[math.exp(2) / (1 + math.exp(2)), 1 / (1 + math.exp(2))]])
    torch.testing.assert_close(weights, expected, atol=1e-4, rtol=0)
    assert abs(weights[0, 0].item() - 0.8808) < 1e-4, "el primer peso debe ser ≈ 0.8808"
    assert abs(weights[0, 1].item() - 0.1192) < 1e-4, "el segundo peso debe ser ≈ 0.1192"
    # Con v = identidad, la salida son los propios pesos.
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("need_weights", [True, False])
def test_sdpa_rejects_mask_that_enlarges_scores(need_weights):
    """Una máscara (2, T_q, T_k) con q de lote 1 no se puede difundir a (1, T_q, T_k): ValueError en español."""
    q, k, v = make_qkv((1, 3, 4), 5, 6)
    mask = random_mask(2, 3, 5)
    with pytest.raises(ValueError, match=r"\(2, 3, 5\)"):
        scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)


# --- scaled_dot_product_attention: errores -----------------------------------------------------


def test_sdpa_error_on_mismatched_d_k():
    """d_k distinto en q y k: ValueError que nombra `q` y enseña ambas formas."""
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 3), torch.randn(2, 5, 6)
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(q, k, v)
    message = str(info.value)
    assert "`q`" in message, "el mensaje debe nombrar el argumento q"
    assert "(2, 3, 4)" in message and "(2, 5, 3)" in message, "el mensaje debe incluir ambas formas"
    assert "forma" in message, "el mensaje debe estar en español"


def test_sdpa_error_on_k_v_length_mismatch():
    """k y v con distinta T_k: ValueError que nombra `k` y `v` con sus formas."""
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(q, k, v)
    message = str(info.value)
    assert "`k`" in message and "`v`" in message, "el mensaje debe nombrar k y v"
    assert "(2, 5, 4)" in message and "(2, 6, 4)" in message, "el mensaje debe incluir ambas formas"
    assert "longitud" in message, "el mensaje debe estar en español"


@pytest.mark.parametrize(
    "mask",
    [torch.ones(3, 5), torch.ones(3, 5, dtype=torch.long), [[True] * 5] * 3],
    ids=["float", "long", "list"],
)
def test_sdpa_error_on_non_bool_mask(mask):
    """Una máscara que no es un tensor booleano: TypeError en español que nombra `mask`."""
    q, k, v = make_qkv((2, 3, 4), 5, 6)
    with pytest.raises(TypeError) as info:
        scaled_dot_product_attention(q, k, v, mask)
    message = str(info.value)
    assert "`mask`" in message and "booleano" in message, "el mensaje debe decir que mask ha de ser booleana"


@pytest.mark.parametrize("mask_shape", [(5, 3), (3, 4), (3, 3, 5), (2, 4, 3, 5)])
def test_sdpa_error_on_non_broadcastable_mask(mask_shape):
    """Una máscara que no se puede difundir: ValueError con la forma de la máscara."""
    q, k, v = make_qkv((2, 3, 4), 5, 6)
    mask = torch.ones(mask_shape, dtype=torch.bool)
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(q, k, v, mask)
    message = str(info.value)
    assert "`mask`" in message and str(mask_shape) in message, "el mensaje debe incluir la forma de la máscara"
    assert "difundir" in message, "el mensaje debe estar en español"


@pytest.mark.parametrize(("shape_k", "shape_v"), [((3, 5, 4), (3, 5, 6)), ((2, 5, 4), (3, 5, 6))])
def test_sdpa_error_on_incompatible_batches(shape_k, shape_v):
    """Lotes que no se pueden combinar: ValueError en español con las dos formas."""
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(torch.randn(2, 3, 4), torch.randn(shape_k), torch.randn(shape_v))
    message = str(info.value)
    assert "lote" in message and str(shape_v if shape_k[0] == 2 else shape_k) in message


@pytest.mark.parametrize("position", [0, 1, 2])
def test_sdpa_error_on_non_tensor_input(position):
    """Un argumento que no es tensor: TypeError que lo nombra."""
    args = list(make_qkv((2, 3, 4), 5, 6))
    args[position] = args[position].tolist()
    name = "qkv"[position]
    with pytest.raises(TypeError) as info:
        scaled_dot_product_attention(*args)
    message = str(info.value)
    assert f"`{name}`" in message and "torch.Tensor" in message, f"el mensaje debe nombrar `{name}`"
    assert "list" in message, "el mensaje debe decir qué tipo se recibió"


@pytest.mark.parametrize("position", [0, 1, 2])
def test_sdpa_error_on_1d_input(position):
    """Un argumento 1-D: ValueError que lo nombra y enseña su forma."""
    args = [torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)]
    args[position] = torch.randn(4)
    name = "qkv"[position]
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(*args)
    message = str(info.value)
    assert f"`{name}`" in message and "(4,)" in message, "el mensaje debe nombrar el argumento y su forma"
    assert "dimensiones" in message, "el mensaje debe estar en español"


# --- SelfAttention -------------------------------------------------------------------------------


@pytest.mark.parametrize(("d_model", "d_k"), [(8, 4), (5, 5), (3, 7)])
def test_self_attention_has_projections(d_model, d_k):
    """W_q, W_k y W_v son nn.Linear(d_model, d_k) distintas entre sí."""
    layer = SelfAttention(d_model, d_k)
    for name in ("W_q", "W_k", "W_v"):
        linear = getattr(layer, name)
        assert isinstance(linear, nn.Linear), f"{name} debe ser nn.Linear"
        assert (linear.in_features, linear.out_features) == (d_model, d_k), f"{name} debe ir de d_model a d_k"
    assert len({id(layer.W_q), id(layer.W_k), id(layer.W_v)}) == 3, "cada proyección debe ser una capa propia"


def manual_self_attention(layer: SelfAttention, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Referencia independiente: proyecciones a mano (x Wᵀ + b) y la atención de PyTorch."""
    q = x @ layer.W_q.weight.T + layer.W_q.bias
    k = x @ layer.W_k.weight.T + layer.W_k.bias
    v = x @ layer.W_v.weight.T + layer.W_v.bias
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@pytest.mark.parametrize("with_mask", [False, True])
def test_self_attention_forward_matches_manual(with_mask):
    """La salida coincide con proyectar x con W_q, W_k, W_v y aplicar la atención."""
    torch.manual_seed(0)
    layer = SelfAttention(6, 3)
    x = torch.randn(3, 7, 6)
    mask = random_mask(3, 7, 7) if with_mask else None
    with torch.no_grad():
        out = layer(x, mask)
        expected = manual_self_attention(layer, x, mask)
    assert isinstance(out, torch.Tensor), "sin return_attention debe devolver solo un tensor"
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)


def test_self_attention_return_attention():
    """return_attention=True devuelve (out, weights) con pesos (B, T, T) que suman 1 por fila."""
    torch.manual_seed(1)
    layer = SelfAttention(8, 4)
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        result = layer(x, return_attention=True)
        plain = layer(x)
        q, k = layer.W_q(x), layer.W_k(x)
        expected_weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(4), dim=-1)
    assert isinstance(result, tuple) and len(result) == 2, "debe devolver la tupla (out, weights)"
    out, weights = result
    torch.testing.assert_close(out, plain)
    assert weights.shape == (2, 5, 5), "los pesos deben tener forma (B, T, T)"
    torch.testing.assert_close(weights, expected_weights, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("t", [0, 2, 4])
def test_self_attention_causal_mask_ignores_future(t):
    """Con máscara causal, la salida en la posición t no depende de los tokens posteriores a t."""
    torch.manual_seed(2)
    layer = SelfAttention(4, 4)
    x = torch.randn(2, 6, 4)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    changed = x.clone()
    changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :]) * 5
    with torch.no_grad():
        out, weights = layer(x, causal, return_attention=True)
        out_changed = layer(changed, causal)
        out_no_mask = layer(x)
        out_no_mask_changed = layer(changed)
    torch.testing.assert_close(out[:, : t + 1], out_changed[:, : t + 1])
    assert (weights[:, ~causal] == 0).all(), "los pesos por encima de la diagonal deben ser 0"
    # Control: sin máscara, cambiar el futuro sí cambia el pasado (la prueba podría fallar).
    assert not torch.allclose(out_no_mask[:, : t + 1], out_no_mask_changed[:, : t + 1]), (
        "sin máscara, el cambio de los tokens futuros debería notarse"
    )


@pytest.mark.parametrize("shape", [(2, 5, 7), (2, 5, 9), (8,)])
def test_self_attention_error_on_wrong_d_model(shape):
    """x con d_model incorrecto (o 1-D): ValueError en español con la forma recibida."""
    layer = SelfAttention(8, 4)
    with pytest.raises(ValueError) as info:
        layer(torch.randn(shape))
    message = str(info.value)
    assert "d_model=8" in message and str(shape) in message, "el mensaje debe decir el d_model esperado y la forma"
    assert "forma" in message, "el mensaje debe estar en español"


@pytest.mark.parametrize(
    ("d_model", "d_k", "bad_name"),
    [
        (0, 4, "d_model"),
        (-3, 4, "d_model"),
        (2.5, 4, "d_model"),
        ("8", 4, "d_model"),
        (True, 4, "d_model"),
        (8, 0, "d_k"),
        (8, None, "d_k"),
    ],
)
def test_self_attention_invalid_constructor_args(d_model, d_k, bad_name):
    """Tamaños no enteros o no positivos: ValueError que nombra el argumento."""
    with pytest.raises(ValueError) as info:
        SelfAttention(d_model, d_k)
    message = str(info.value)
    assert f"`{bad_name}`" in message and "entero positivo" in message, "el mensaje debe nombrar el argumento"


# --- Rutas prohibidas (course_lib.mistakes.forbidden) ---------------------------------------------


@pytest.mark.parametrize("path", forbidden.ATTENTION)
def test_reference_paths_resolve(path):
    """Cada ruta de las rutas prohibidas se importa (con pkgutil, no con checks._resolve) y es invocable."""
    target = pkgutil.resolve_name(path)
    assert callable(target), f"{path} debe ser invocable"
    expected = {
        "scaled_dot_product_attention": (F.scaled_dot_product_attention, course_lib.scaled_dot_product_attention),
        "SelfAttention": (course_lib.SelfAttention,),
    }[path.rpartition(".")[2]]
    assert any(target is obj for obj in expected), f"{path} no apunta a la referencia esperada"


# --- mistakes ------------------------------------------------------------------------------------


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True si los tensores tienen otra forma o valores claramente distintos."""
    return a.shape != b.shape or not torch.allclose(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("with_mask", [False, True])
def test_attention_mistakes_differ_from_reference(with_mask):
    """Cada error típico da una salida y unos pesos distintos de la referencia de PyTorch."""
    q, k, v = make_qkv((2, 4, 16), 6, 3, seed=20)
    mask = None
    if with_mask:
        mask = random_mask(2, 4, 6, seed=21)
        mask[..., -1] = False  # seguro que hay posiciones enmascaradas en cada fila
    found = mistakes.attention_mistakes(q, k, v, mask)
    assert set(found.out) == set(found.weights), "out y weights deben tener las mismas pistas"
    assert len(found.out) == (6 if with_mask else 3), "con máscara hay 6 errores típicos; sin ella, 3"
    expected_out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = q @ k.transpose(-2, -1) / 4  # √16 = 4
    if with_mask:
        scores = scores.masked_fill(~mask, -math.inf)
    expected_weights = torch.softmax(scores, dim=-1)
    for hint, out in found.out.items():
        assert isinstance(hint, str) and hint.strip(), "cada clave debe ser una pista no vacía"
        assert "parece" in hint, f"la pista debe estar en español: {hint!r}"
        assert differs(out, expected_out), f"la salida del error «{hint}» no se distingue de la correcta"
        assert differs(found.weights[hint], expected_weights), f"los pesos del error «{hint}» no se distinguen"


def test_attention_mistakes_single_query_skips_dim_minus_2():
    """Con T_q=1 la softmax sobre dim=-2 no es un error distinguible y no se incluye."""
    q, k, v = make_qkv((2, 1, 4), 5, 3, seed=22)
    found = mistakes.attention_mistakes(q, k, v)
    assert not any("dim=-2" in hint for hint in found.out), "con T_q=1 no debe haber pista de dim=-2"
    assert len(found.out) == 2, "sin máscara y con T_q=1 quedan los dos errores de escala"


def test_attention_mistakes_no_scale_is_unscaled_softmax():
    """El error «no divides entre √d_k» es exactamente softmax(q kᵀ) v."""
    q, k, v = make_qkv((2, 3, 8), 4, 5, seed=23)
    found = mistakes.attention_mistakes(q, k, v)
    hint = next(h for h in found.out if "√d_k" in h and "en vez de" not in h)
    out = found.out[hint]
    expected = torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize(("d_model", "d_k"), [(6, 6), (6, 3)])
@pytest.mark.parametrize("with_mask", [False, True])
def test_self_attention_mistakes_differ_from_reference(d_model, d_k, with_mask):
    """Cada error típico de SelfAttention da una salida distinta de la correcta."""
    torch.manual_seed(24)
    layer = SelfAttention(d_model, d_k)
    x = torch.randn(3, 5, d_model)
    mask = random_mask(3, 5, 5, seed=25) if with_mask else None
    with torch.no_grad():
        expected_out = manual_self_attention(layer, x, mask)
        found = mistakes.self_attention_mistakes(layer, x, mask)
    assert len(found.out) == 4, "hay 4 errores típicos de SelfAttention"
    assert set(found.out) == set(found.weights), "out y weights deben tener las mismas pistas"
    for hint, out in found.out.items():
        assert isinstance(hint, str) and hint.strip(), "cada clave debe ser una pista no vacía"
        assert "parece" in hint, f"la pista debe estar en español: {hint!r}"
        assert differs(out, expected_out), f"la salida del error «{hint}» no se distingue de la correcta"
