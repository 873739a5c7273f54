"""Pruebas de course_lib.multihead y course_lib.mistakes.multihead.

Las referencias independientes son ``torch.nn.MultiheadAttention`` (con los mismos pesos),
``F.scaled_dot_product_attention`` y cortes hechos a mano en la propia prueba; nunca la
salida de la biblioteca.
"""

from __future__ import annotations

import math
import pkgutil

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib
from course_lib import checks, multihead
from course_lib.mistakes import forbidden
from course_lib.mistakes import multihead as mistakes
from course_lib.multihead import MultiHeadAttention, merge_heads, split_heads

ATOL = 1e-5
RTOL = 1e-4


def by_slices(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``(B, T, D)`` → ``(B, H, T, d_k)`` cortando a mano el trozo de cada cabeza."""
    d_k = x.size(-1) // n_heads
    return torch.stack([x[..., h * d_k : (h + 1) * d_k] for h in range(n_heads)], dim=1)


def torch_twin(layer: MultiHeadAttention) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention`` con los pesos de ``layer``, copiados aquí a mano (sin la biblioteca)."""
    twin = nn.MultiheadAttention(layer.d_model, layer.n_heads, batch_first=True).eval()
    with torch.no_grad():
        twin.in_proj_weight.copy_(torch.cat([layer.W_q.weight, layer.W_k.weight, layer.W_v.weight]))
        twin.in_proj_bias.copy_(torch.cat([layer.W_q.bias, layer.W_k.bias, layer.W_v.bias]))
        twin.out_proj.weight.copy_(layer.W_o.weight)
        twin.out_proj.bias.copy_(layer.W_o.bias)
    return twin


def torch_mask(mask: torch.Tensor, B: int, H: int, T_q: int, T_k: int) -> torch.Tensor:
    """Máscara del curso (True = puede atender) → ``attn_mask`` 3-D de PyTorch (True = NO puede)."""
    return ~mask.expand(B, H, T_q, T_k).reshape(B * H, T_q, T_k)


def padding_mask(lengths: list[int], T_k: int) -> torch.Tensor:
    """``(B, 1, 1, T_k)``: True en los tokens reales."""
    return (torch.arange(T_k) < torch.tensor(lengths)[:, None])[:, None, None, :]


# --- split_heads y merge_heads -------------------------------------------------------------------

SPLIT_CASES = [((2, 5, 8), 4), ((1, 1, 6), 3), ((3, 7, 6), 3), ((2, 4, 12), 1), ((2, 4, 5), 5)]


@pytest.mark.parametrize(("shape", "n_heads"), SPLIT_CASES)
def test_split_heads_matches_slices(shape, n_heads):
    """La cabeza h del token t es x[b, t, h*d_k:(h+1)*d_k]."""
    x = torch.randn(*shape)
    out = split_heads(x, n_heads)
    B, T, D = shape
    assert out.shape == (B, n_heads, T, D // n_heads), "la forma debe ser (B, H, T, d_k)"
    torch.testing.assert_close(out, by_slices(x, n_heads), rtol=0, atol=0)


@pytest.mark.parametrize(
    "make",
    [lambda: torch.randn(2, 10, 6)[:, ::2], lambda: torch.randn(2, 9, 4).transpose(1, 2)],
    ids=["saltos", "transpuesta"],
)
def test_split_heads_non_contiguous_input(make):
    """Con una entrada no contigua el resultado es el mismo que con su copia contigua."""
    x = make()
    assert not x.is_contiguous(), "la prueba necesita una entrada no contigua"
    n_heads = 3 if x.size(-1) % 3 == 0 else 2
    torch.testing.assert_close(split_heads(x, n_heads), by_slices(x.contiguous(), n_heads), rtol=0, atol=0)


@pytest.mark.parametrize(("shape", "n_heads"), SPLIT_CASES)
def test_merge_heads_inverts_split_heads(shape, n_heads):
    """merge_heads(split_heads(x)) == x, y merge_heads pone cada cabeza en sus columnas."""
    x = torch.randn(*shape)
    torch.testing.assert_close(merge_heads(split_heads(x, n_heads)), x, rtol=0, atol=0)
    heads = torch.randn(shape[0], n_heads, shape[1], 3)  # (B, H, T, d_k) contigua
    expected = torch.cat([heads[:, h] for h in range(n_heads)], dim=-1)
    torch.testing.assert_close(merge_heads(heads), expected, rtol=0, atol=0)


def test_split_and_merge_do_not_modify_inputs():
    """Ninguna de las dos modifica su entrada."""
    x = torch.randn(2, 5, 8)
    before = x.clone()
    heads = split_heads(x, 4)
    heads_before = heads.clone()
    merge_heads(heads)
    assert torch.equal(x, before) and torch.equal(heads, heads_before), "se modificó una entrada"


@pytest.mark.parametrize(
    ("args", "error", "fragment"),
    [
        ((torch.randn(2, 5, 6), 4), ValueError, "D=6"),
        ((torch.randn(5, 8), 2), ValueError, "(5, 8)"),
        ((torch.randn(2, 5, 8).tolist(), 2), TypeError, "list"),
        ((torch.randn(2, 5, 8), 0), ValueError, "`n_heads`"),
        ((torch.randn(2, 5, 8), 2.0), ValueError, "`n_heads`"),
        ((torch.randn(2, 5, 8), True), ValueError, "`n_heads`"),
    ],
    ids=["no_divisible", "2d", "lista", "cero", "float", "bool"],
)
def test_split_heads_errors(args, error, fragment):
    """Entradas inválidas: error en español que dice qué falla."""
    with pytest.raises(error) as info:
        split_heads(*args)
    message = str(info.value)
    assert fragment in message, f"el mensaje debe incluir {fragment!r}: {message}"
    assert "debe" in message or "divisible" in message, "el mensaje debe estar en español"


def test_merge_heads_error_on_3d_input():
    """merge_heads con un tensor 3-D: ValueError con la forma recibida."""
    with pytest.raises(ValueError, match=r"\(2, 5, 8\)") as info:
        merge_heads(torch.randn(2, 5, 8))
    assert "dimensiones" in str(info.value)


# --- MultiHeadAttention --------------------------------------------------------------------------

MHA_CASES = [  # (d_model, n_heads, B, T_q, T_k, máscara)
    (8, 2, 2, 5, 5, None),
    (6, 3, 1, 4, 4, None),  # lote de 1, tamaños impares
    (8, 4, 3, 3, 6, padding_mask([6, 2, 4], 6)),  # atención cruzada con relleno (B, 1, 1, T_k)
    (6, 2, 2, 5, 5, torch.ones(5, 5, dtype=torch.bool).tril()[None, None]),  # causal (1, 1, T, T)
    (12, 4, 2, 5, 5, torch.ones(5, 5, dtype=torch.bool).tril() & padding_mask([5, 3], 5)),  # (B, 1, T, T)
    (6, 6, 2, 2, 3, torch.tensor([[True, False, True], [False, True, True]])),  # (T_q, T_k)
    (4, 1, 1, 1, 1, None),
]


@pytest.mark.parametrize(("d_model", "n_heads", "B", "T_q", "T_k", "mask"), MHA_CASES)
@pytest.mark.parametrize("return_attention", [True, False])
def test_mha_matches_torch_multihead(d_model, n_heads, B, T_q, T_k, mask, return_attention):
    """Con los mismos pesos, coincide con nn.MultiheadAttention (salida y pesos por cabeza)."""
    torch.manual_seed(d_model + n_heads)
    layer = MultiHeadAttention(d_model, n_heads).eval()
    query, key, value = torch.randn(B, T_q, d_model), torch.randn(B, T_k, d_model), torch.randn(B, T_k, d_model)
    kwargs = {} if mask is None else {"attn_mask": torch_mask(mask, B, n_heads, T_q, T_k)}
    with torch.no_grad():
        expected_out, expected_weights = torch_twin(layer)(query, key, value, average_attn_weights=False, **kwargs)
        result = layer(query, key, value, mask, return_attention=return_attention)
    if return_attention:
        out, weights = result
        assert weights.shape == (B, n_heads, T_q, T_k), "los pesos deben ser (B, H, T_q, T_k)"
        torch.testing.assert_close(weights, expected_weights, atol=ATOL, rtol=RTOL)
        torch.testing.assert_close(weights.sum(dim=-1), torch.ones(B, n_heads, T_q))
    else:
        assert isinstance(result, torch.Tensor), "sin return_attention debe devolver solo out"
        out = result
    assert out.shape == (B, T_q, d_model), "out debe ser (B, T_q, D)"
    torch.testing.assert_close(out, expected_out, atol=ATOL, rtol=RTOL)


def test_mha_matches_manual_formula():
    """Coincide con Concat(head_1, …, head_H) W_O calculado cabeza a cabeza con F.scaled_dot_product_attention."""
    torch.manual_seed(3)
    layer = MultiHeadAttention(6, 3).eval()
    query, memory = torch.randn(2, 4, 6), torch.randn(2, 7, 6)
    heads = []
    with torch.no_grad():
        for h in range(3):
            rows = slice(2 * h, 2 * h + 2)
            q = query @ layer.W_q.weight[rows].T + layer.W_q.bias[rows]
            k = memory @ layer.W_k.weight[rows].T + layer.W_k.bias[rows]
            v = memory @ layer.W_v.weight[rows].T + layer.W_v.bias[rows]
            heads.append(F.scaled_dot_product_attention(q, k, v))
        expected = layer.W_o(torch.cat(heads, dim=-1))
        out = layer(query, memory, memory)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)


def test_mha_scales_by_sqrt_d_k_per_head():
    """Los pesos de cada cabeza son softmax(q_h k_hᵀ / √d_k), con d_k = d_model / H (no √d_model)."""
    torch.manual_seed(4)
    layer = MultiHeadAttention(16, 4).eval()
    x = torch.randn(1, 5, 16)
    with torch.no_grad():
        _, weights = layer(x, x, x, return_attention=True)
        q, k = by_slices(layer.W_q(x), 4), by_slices(layer.W_k(x), 4)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(4), dim=-1)
    torch.testing.assert_close(weights, expected, atol=ATOL, rtol=RTOL)
    wrong = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(16), dim=-1)
    assert not torch.allclose(weights, wrong, atol=1e-4), "dividir entre √d_model debe dar otros pesos"


def test_mha_uses_fused_attention_without_weights(monkeypatch: pytest.MonkeyPatch):
    """Usa la atención de course_lib: need_weights=False si no se piden los pesos (en eval); con pesos, si se piden."""
    calls: list[bool] = []
    original = multihead.scaled_dot_product_attention

    def spy(*args, need_weights=True, **kwargs):
        calls.append(need_weights)
        return original(*args, need_weights=need_weights, **kwargs)

    monkeypatch.setattr(multihead, "scaled_dot_product_attention", spy)
    layer = MultiHeadAttention(8, 2, dropout=0.3).eval()
    x = torch.randn(2, 4, 8)
    with torch.no_grad():
        fused = layer(x, x, x)
        explicit, _ = layer(x, x, x, return_attention=True)
    assert calls == [False, True], f"llamadas a la atención (need_weights): {calls}"
    torch.testing.assert_close(fused, explicit, atol=ATOL, rtol=RTOL)


def test_mha_dropout_only_in_training():
    """Con dropout, en entrenamiento dos pasadas difieren; en eval son iguales y como sin dropout."""
    torch.manual_seed(5)
    layer = MultiHeadAttention(8, 2, dropout=0.5)
    plain = MultiHeadAttention(8, 2)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(2, 6, 8)
    with torch.no_grad():
        layer.train()
        first, second = layer(x, x, x), layer(x, x, x)
        layer.eval()
        evaluated = layer(x, x, x)
        expected = plain.eval()(x, x, x)
    assert not torch.allclose(first, second), "en entrenamiento el dropout debe cambiar la salida"
    torch.testing.assert_close(evaluated, expected, atol=ATOL, rtol=RTOL)


def test_mha_fully_masked_row_is_finite():
    """Una consulta sin ninguna clave visible no produce NaN (su atención vale 0)."""
    layer = MultiHeadAttention(8, 2).eval()
    x = torch.randn(1, 3, 8)
    mask = torch.tensor([[True, True, True], [False, False, False], [True, False, False]])
    with torch.no_grad():
        out, weights = layer(x, x, x, mask, return_attention=True)
        fused = layer(x, x, x, mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all(), "no debe haber NaN"
    assert (weights[0, :, 1] == 0).all(), "la fila sin claves visibles debe tener pesos 0"
    torch.testing.assert_close(fused, out, atol=ATOL, rtol=RTOL)


def test_keys_values_and_attend_are_the_steps_of_forward():
    """`keys_values` proyecta y parte en cabezas K y V; `attend` hace el resto: juntos dan `forward`.

    Las claves y los valores se comprueban a mano (W_k, W_v y el reparto en cabezas), y la
    atención con claves guardadas de antes se compara con la de PyTorch."""
    torch.manual_seed(7)
    layer = MultiHeadAttention(8, 2).eval()
    query, key, value = torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])[:, None, None, :]  # (B, 1, 1, T_k)
    with torch.no_grad():
        k, v = layer.keys_values(key, value)
        by_hand = (key @ layer.W_k.weight.T + layer.W_k.bias).reshape(2, 5, 2, 4).transpose(1, 2)
        torch.testing.assert_close(k, by_hand)  # (B, H, T_k, d_k)
        assert v.shape == (2, 2, 5, 4)
        out, weights = layer.attend(query, k, v, mask, return_attention=True)
        expected, expected_weights = torch_twin(layer)(
            query, key, value, key_padding_mask=~mask[:, 0, 0], average_attn_weights=False
        )
        torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)
        torch.testing.assert_close(weights, expected_weights, atol=ATOL, rtol=RTOL)
        torch.testing.assert_close(layer.attend(query, k, v, mask), layer(query, key, value, mask))


def test_mha_gradients_flow_to_all_projections():
    """Las cuatro proyecciones reciben gradiente."""
    layer = MultiHeadAttention(8, 2)
    x = torch.randn(2, 4, 8)
    layer(x, x, x).sum().backward()
    for name in ("W_q", "W_k", "W_v", "W_o"):
        grad = getattr(layer, name).weight.grad
        assert grad is not None and grad.abs().sum() > 0, f"{name} no recibe gradiente"


def test_mha_structure():
    """Cuatro nn.Linear(D, D) distintas, d_k = D / H y atributos d_model, n_heads."""
    layer = MultiHeadAttention(12, 3)
    assert (layer.d_model, layer.n_heads, layer.d_k) == (12, 3, 4)
    linears = [getattr(layer, name) for name in ("W_q", "W_k", "W_v", "W_o")]
    assert all(isinstance(m, nn.Linear) and m.weight.shape == (12, 12) for m in linears)
    assert len({id(m) for m in linears}) == 4, "cada proyección debe ser una capa propia"
    assert sum(p.numel() for p in layer.parameters()) == 4 * (12 * 12 + 12)


def test_mha_not_divisible_error_in_spanish():
    """d_model no divisible entre n_heads: ValueError que dice ambos números."""
    with pytest.raises(ValueError) as info:
        MultiHeadAttention(10, 3)
    message = str(info.value)
    assert "d_model=10" in message and "n_heads=3" in message and "divisible" in message


@pytest.mark.parametrize(
    ("args", "name"),
    [((0, 2), "d_model"), ((8.0, 2), "d_model"), ((8, 0), "n_heads"), ((8, -2), "n_heads"), ((8, 2, 1.0), "dropout")],
)
def test_mha_invalid_constructor_args(args, name):
    """Argumentos no válidos: ValueError que nombra el argumento."""
    with pytest.raises(ValueError, match=f"`{name}`"):
        MultiHeadAttention(*args)


@pytest.mark.parametrize(
    ("shapes", "fragment"),
    [
        (((2, 5, 7), (2, 5, 8), (2, 5, 8)), "`query`"),
        (((2, 5, 8), (2, 6, 8), (2, 4, 8)), "`key` y `value`"),
        (((2, 5, 8), (3, 6, 8), (3, 6, 8)), "lote"),
        (((5, 8), (5, 8), (5, 8)), "3 dimensiones"),
    ],
    ids=["d_model", "t_k", "lote", "2d"],
)
def test_mha_forward_shape_errors(shapes, fragment):
    """Entradas con formas incompatibles: ValueError en español con las formas."""
    layer = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError) as info:
        layer(*(torch.randn(s) for s in shapes))
    assert fragment in str(info.value), str(info.value)


def test_mha_mask_error_names_shapes():
    """Una máscara que no se difunde a (B, H, T_q, T_k) da el error de la atención, con su forma."""
    layer = MultiHeadAttention(8, 2)
    x = torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        layer(x, x, x, torch.ones(3, 5, dtype=torch.bool))


# --- Copias de pesos -----------------------------------------------------------------------------


def test_as_torch_multihead_and_reference_copy():
    """as_torch_multihead y reference_copy reproducen la capa; sesgos ausentes cuentan como 0."""
    torch.manual_seed(6)
    layer = MultiHeadAttention(8, 4).eval()
    x, memory = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    with torch.no_grad():
        expected = layer(x, memory, memory)
        via_torch, _ = multihead.as_torch_multihead(layer, 4)(x, memory, memory)
        via_copy = multihead.reference_copy(layer, 4)(x, memory, memory)
    torch.testing.assert_close(via_torch, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(via_copy, expected, atol=ATOL, rtol=RTOL)

    class NoBias(nn.Module):
        def __init__(self):
            super().__init__()
            for name in ("W_q", "W_k", "W_v", "W_o"):
                setattr(self, name, nn.Linear(8, 8, bias=False))

    copy = multihead.reference_copy(NoBias(), 2)
    assert all((getattr(copy, n).bias == 0).all() for n in ("W_q", "W_k", "W_v", "W_o"))


def test_copies_reject_layers_without_projections():
    """Una capa sin W_o: TypeError que nombra el atributo."""

    class Incomplete(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_q, self.W_k, self.W_v = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

    for fn in (multihead.as_torch_multihead, multihead.reference_copy):
        with pytest.raises(TypeError, match="`layer.W_o`"):
            fn(Incomplete(), 2)


# --- Rutas prohibidas (course_lib.mistakes.forbidden) ---------------------------------------------


@pytest.mark.parametrize("path", forbidden.MULTIHEAD)
def test_reference_paths_resolve(path):
    """Cada ruta se importa (con pkgutil) y se puede llamar."""
    assert callable(pkgutil.resolve_name(path)), f"{path} debe poderse llamar"


def test_reference_paths_do_not_forbid_course_attention():
    """La atención de course_lib está permitida en este cuaderno: no puede estar en las rutas prohibidas."""
    assert not any("scaled_dot_product_attention" in p for p in forbidden.MULTIHEAD)


def test_reference_paths_cover_package_exports():
    """Si course_lib exporta una referencia de este módulo, su ruta corta también debe estar prohibida."""
    ours = {id(obj) for obj in (split_heads, merge_heads, MultiHeadAttention)}
    exported = [name for name in dir(course_lib) if id(getattr(course_lib, name)) in ours]
    missing = [f"course_lib.{name}" for name in exported if f"course_lib.{name}" not in forbidden.MULTIHEAD]
    assert not missing, f"añade a forbidden.MULTIHEAD: {missing}"


def test_forbid_blocks_torch_multihead_and_references():
    """Dentro de checks.forbid, nn.MultiheadAttention y las referencias fallan; la atención de course_lib no."""
    x = torch.randn(1, 3, 4)
    with checks.forbid(forbidden.MULTIHEAD, namespace={}):
        with pytest.raises(checks.ForbiddenCallError):
            nn.MultiheadAttention(4, 2)
        with pytest.raises(checks.ForbiddenCallError):
            multihead.split_heads(x, 2)
        course_lib.scaled_dot_product_attention(x, x, x)
    assert multihead.split_heads(x, 2).shape == (1, 2, 3, 2), "al salir todo vuelve a funcionar"


# --- mistakes ------------------------------------------------------------------------------------


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape != b.shape or not torch.allclose(a, b, atol=1e-4, rtol=1e-3)


def test_split_heads_mistakes_have_right_shape_and_wrong_values():
    """Los errores de split_heads tienen la forma correcta (por eso engañan) y valores distintos."""
    x = torch.randn(2, 5, 8)
    found = mistakes.split_heads_mistakes(x, 4)
    assert len(found.out) == 2 and not found.weights
    for hint, out in found.out.items():
        assert "parece" in hint
        assert out.shape == (2, 4, 5, 2), "el error debe tener la forma correcta"
        assert differs(out, by_slices(x, 4)), f"«{hint}» no se distingue de la respuesta correcta"


def test_merge_heads_mistakes_have_right_shape_and_wrong_values():
    """Los errores de merge_heads tienen la forma correcta y valores distintos."""
    x = torch.randn(2, 4, 5, 2)
    expected = torch.cat([x[:, h] for h in range(4)], dim=-1)
    found = mistakes.merge_heads_mistakes(x)
    assert len(found.out) == 2
    for hint, out in found.out.items():
        assert "parece" in hint and out.shape == expected.shape
        assert differs(out, expected), f"«{hint}» no se distingue de la respuesta correcta"


@pytest.mark.parametrize("mask", [None, padding_mask([6, 3], 6)], ids=["sin_mascara", "relleno"])
def test_multihead_mistakes_differ_from_reference(mask):
    """Cada error de MultiHeadAttention da una salida distinta de nn.MultiheadAttention."""
    torch.manual_seed(7)
    layer = MultiHeadAttention(8, 2).eval()
    query, memory = torch.randn(2, 4, 8), torch.randn(2, 6, 8)
    kwargs = {} if mask is None else {"attn_mask": torch_mask(mask, 2, 2, 4, 6)}
    with torch.no_grad():
        expected_out, _ = torch_twin(layer)(query, memory, memory, **kwargs)
    found = mistakes.multihead_mistakes(layer, 2, query, memory, memory, mask)
    assert len(found.out) == 4 and set(found.out) == set(found.weights)
    for hint, out in found.out.items():
        assert "parece" in hint
        assert found.weights[hint].shape == (2, 2, 4, 6), "los pesos de cada error deben ser (B, H, T_q, T_k)"
        assert differs(out, expected_out), f"«{hint}» no se distingue de la respuesta correcta"


def test_multihead_mistakes_single_head_skips_no_split():
    """Con una sola cabeza, «no partir en cabezas» no es un error y no se incluye."""
    layer = MultiHeadAttention(4, 1).eval()
    x = torch.randn(1, 3, 4)
    found = mistakes.multihead_mistakes(layer, 1, x, x, x)
    assert len(found.out) == 3 and not any("sin partir" in hint for hint in found.out)


def test_call_explaining_view_translates_view_error():
    """Un .view sobre un tensor no contiguo se convierte en CheckError con la pista en español."""
    t = torch.randn(2, 3, 4).transpose(1, 2)
    with pytest.raises(checks.CheckError, match="contiguo en memoria"):
        mistakes.call_explaining_view(lambda a: a.view(2, 12), t, name="merge_heads")
    assert mistakes.call_explaining_view(lambda a: a.reshape(2, 12), t, name="merge_heads").shape == (2, 12)
    with pytest.raises(RuntimeError, match="otro"):  # los demás errores pasan tal cual
        mistakes.call_explaining_view(lambda a: (_ for _ in ()).throw(RuntimeError("otro")), t, name="f")
