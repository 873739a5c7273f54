"""Pruebas de course_lib.masks y course_lib.mistakes.masks.

Las referencias independientes son construcciones a mano (bucles sobre i, j), ``torch.tril``
y ``torch.nn.functional.scaled_dot_product_attention``; nunca la salida de la propia biblioteca.
"""

from __future__ import annotations

import pkgutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course_lib
from course_lib import masks
from course_lib.masks import causal_mask, decoder_mask, padding_mask
from course_lib.mistakes import forbidden
from course_lib.mistakes import masks as mask_mistakes

ATOL = 1e-5
RTOL = 1e-4


def by_hand(tokens: torch.Tensor, pad_id: int, causal: bool) -> torch.Tensor:
    """``mask[b, 0, i, j]`` elemento a elemento: j no es relleno (y j <= i si ``causal``)."""
    B, T = tokens.shape
    rows = T if causal else 1
    mask = torch.zeros(B, 1, rows, T, dtype=torch.bool)
    for b in range(B):
        for i in range(rows):
            for j in range(T):
                mask[b, 0, i, j] = bool(tokens[b, j] != pad_id) and (not causal or j <= i)
    return mask


TOKEN_CASES = [  # (tokens, pad_id): relleno a la derecha, a la izquierda, todo relleno, pad_id != 0, lote de 1, T = 1
    (torch.tensor([[1, 4, 5, 2, 0, 0], [1, 6, 7, 8, 9, 2]]), 0),
    (torch.tensor([[3, 3, 1, 0, 2], [1, 0, 5, 2, 3], [3, 3, 3, 3, 3]]), 3),
    (torch.tensor([[1, 4, 2]]), 0),
    (torch.tensor([[7]]), 0),
    (torch.tensor([[0]]), 0),
    (torch.tensor([[1, 4, 2, 0]], dtype=torch.int32), 0),
    (torch.tensor([[2, 9, 9], [9, 9, 9]], dtype=torch.uint8), 9),
]


# --- padding_mask -------------------------------------------------------------------------------


@pytest.mark.parametrize(("tokens", "pad_id"), TOKEN_CASES)
def test_padding_mask_matches_hand_construction(tokens, pad_id):
    """Forma (B, 1, 1, T), tipo booleano y True exactamente en los tokens reales."""
    mask = padding_mask(tokens, pad_id)
    assert mask.dtype == torch.bool, "la máscara debe ser booleana"
    assert mask.shape == (tokens.size(0), 1, 1, tokens.size(1)), "la forma debe ser (B, 1, 1, T)"
    assert torch.equal(mask, by_hand(tokens, pad_id, causal=False))


def test_padding_mask_does_not_modify_tokens():
    """La función no modifica los tokens."""
    tokens = torch.tensor([[1, 4, 0], [1, 0, 0]])
    before = tokens.clone()
    padding_mask(tokens, 0)
    assert torch.equal(tokens, before), "padding_mask modificó `tokens`"


def test_padding_mask_accepts_numpy_integer_pad_id():
    """Un pad_id de NumPy (p. ej. leído de un vocabulario) también vale."""
    tokens = torch.tensor([[1, 4, 3, 3]])
    assert torch.equal(padding_mask(tokens, np.int64(3)), padding_mask(tokens, 3))


def test_padding_mask_makes_output_independent_of_batch_mates():
    """Con la máscara, una frase da la misma salida sola que rellenada en un lote (con la atención de PyTorch)."""
    gen = torch.Generator().manual_seed(0)
    d = 8
    alone = torch.randn(1, 1, 4, d, generator=gen)  # (B, H, T, D): 4 tokens reales
    padded = torch.cat([alone, torch.randn(1, 1, 3, d, generator=gen)], dim=2)  # + 3 posiciones de relleno
    tokens = torch.tensor([[1, 5, 6, 2, 0, 0, 0]])
    expected = F.scaled_dot_product_attention(alone, alone, alone)
    out = F.scaled_dot_product_attention(padded, padded, padded, attn_mask=padding_mask(tokens, 0))
    torch.testing.assert_close(out[:, :, :4], expected, atol=ATOL, rtol=RTOL)
    unmasked = F.scaled_dot_product_attention(padded, padded, padded)
    assert not torch.allclose(unmasked[:, :, :4], expected, atol=1e-3), "sin máscara el relleno sí debería influir"


def test_padding_mask_broadcasts_over_cross_attention_queries():
    """(B, 1, 1, T_k) se difunde a (B, H, T_q, T_k) con T_q != T_k, como en la atención cruzada."""
    tokens = torch.tensor([[1, 4, 2, 0, 0], [1, 4, 5, 6, 2]])
    q = torch.randn(2, 3, 7, 4)  # T_q = 7
    k, v = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 6)
    out, weights = course_lib.scaled_dot_product_attention(q, k, v, padding_mask(tokens, 0))
    assert weights.shape == (2, 3, 7, 5)
    assert (weights[0, :, :, 3:] == 0).all(), "las claves de relleno deben recibir peso 0 en todas las consultas"
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=padding_mask(tokens, 0))
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=RTOL)


# --- causal_mask --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 5, 16])
def test_causal_mask_matches_tril_and_loops(size):
    """Forma (1, 1, T, T), booleana, True exactamente en j <= i."""
    mask = causal_mask(size)
    assert mask.dtype == torch.bool, "la máscara debe ser booleana"
    assert mask.shape == (1, 1, size, size), "la forma debe ser (1, 1, T, T)"
    loops = torch.tensor([[j <= i for j in range(size)] for i in range(size)])
    assert torch.equal(mask[0, 0], loops)
    assert torch.equal(mask[0, 0], torch.tril(torch.ones(size, size)).bool())


def test_causal_mask_equals_is_causal_in_pytorch():
    """La atención de PyTorch con causal_mask coincide con la de is_causal=True."""
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 4, generator=gen) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(6))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("t", [0, 2, 5])
def test_causal_mask_future_does_not_change_past(t):
    """Cambiar los tokens posteriores a t no cambia ninguna salida hasta t."""
    torch.manual_seed(2)
    layer = course_lib.SelfAttention(4, 4)
    x = torch.randn(2, 1, 7, 4)
    changed = x.clone()
    changed[:, :, t + 1 :] = 5 * torch.randn_like(changed[:, :, t + 1 :])
    with torch.no_grad():
        out, out_changed = layer(x, causal_mask(7)), layer(changed, causal_mask(7))
        plain, plain_changed = layer(x), layer(changed)
    torch.testing.assert_close(out[:, :, : t + 1], out_changed[:, :, : t + 1])
    assert not torch.allclose(plain[:, :, : t + 1], plain_changed[:, :, : t + 1]), "sin máscara el futuro sí influye"


# --- decoder_mask -------------------------------------------------------------------------------


@pytest.mark.parametrize(("tokens", "pad_id"), TOKEN_CASES)
def test_decoder_mask_matches_hand_construction(tokens, pad_id):
    """Forma (B, 1, T, T), booleana, True exactamente si j <= i y el token j no es relleno."""
    mask = decoder_mask(tokens, pad_id)
    T = tokens.size(1)
    assert mask.dtype == torch.bool, "la máscara debe ser booleana"
    assert mask.shape == (tokens.size(0), 1, T, T), "la forma debe ser (B, 1, T, T)"
    assert torch.equal(mask, by_hand(tokens, pad_id, causal=True))
    independent = (tokens != pad_id)[:, None, None, :] & torch.tril(torch.ones(T, T)).bool()
    assert torch.equal(mask, independent), "decoder_mask debe ser `padding & causal`"


def test_decoder_mask_all_padding_and_left_padding_rows_are_empty():
    """Una frase todo relleno no ve nada; con relleno a la izquierda, las filas de relleno quedan vacías."""
    tokens = torch.tensor([[0, 0, 0], [0, 1, 2]])
    mask = decoder_mask(tokens, 0)
    assert not mask[0].any(), "una frase toda de relleno no debe poder atender a nada"
    assert not mask[1, 0, 0].any(), "la fila de un relleno a la izquierda no ve nada"
    assert mask[1, 0, 1].tolist() == [False, True, False]


def test_decoder_mask_with_library_attention_has_no_nan_and_ignores_future_and_padding():
    """Con relleno a ambos lados: sin NaN, y ni el futuro ni el relleno cambian las salidas anteriores."""
    torch.manual_seed(3)
    tokens = torch.tensor([[1, 4, 5, 2, 0, 0], [0, 0, 1, 6, 7, 2]])
    layer = course_lib.SelfAttention(8, 8)
    x = torch.randn(2, 1, 6, 8)
    mask = decoder_mask(tokens, 0)
    padding = (tokens == 0)[:, None, :]  # (B, 1, T)
    with torch.no_grad():
        out = layer(x, mask)
        assert torch.isfinite(out).all(), "las filas vacías no deben producir NaN"
        for t in range(6):
            changed = x.clone()
            changed[:, :, t + 1 :] = torch.randn_like(changed[:, :, t + 1 :])
            torch.testing.assert_close(layer(changed, mask)[:, :, : t + 1], out[:, :, : t + 1])
        noisy = x.clone()
        noisy[padding] = 10 * torch.randn_like(noisy[padding])
        torch.testing.assert_close(layer(noisy, mask)[~padding], out[~padding])


def test_decoder_mask_follows_token_device():
    """La máscara se crea en el dispositivo de los tokens (meta: sin GPU, sin memoria)."""
    tokens = torch.empty(2, 5, dtype=torch.long, device="meta")
    mask = decoder_mask(tokens, 0)
    assert mask.device.type == "meta" and mask.shape == (2, 1, 5, 5)


# --- errores en español ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "error"),
    [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("4", TypeError), (True, TypeError), (None, TypeError)],
)
def test_causal_mask_rejects_bad_size(size, error):
    """Tamaños no enteros o no positivos: error en español que nombra `size` y lo recibido."""
    with pytest.raises(error) as info:
        causal_mask(size)
    message = str(info.value)
    assert "`size`" in message and repr(size) in message, "el mensaje debe nombrar `size` y enseñar lo recibido"
    assert "entero" in message, "el mensaje debe estar en español"


@pytest.mark.parametrize("fn", [padding_mask, decoder_mask], ids=["padding_mask", "decoder_mask"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bool])
def test_masks_reject_non_integer_tokens(fn, dtype):
    """Tokens de tipo `float` o `bool`: `TypeError` que nombra el argumento, el tipo y la forma."""
    tokens = torch.zeros(2, 3, dtype=dtype)
    with pytest.raises(TypeError) as info:
        fn(tokens, 0)
    message = str(info.value)
    name = "`tokens`" if fn is padding_mask else "`tgt_tokens`"
    assert name in message and str(dtype) in message and "(2, 3)" in message
    assert "enteros" in message, "el mensaje debe estar en español"


@pytest.mark.parametrize("fn", [padding_mask, decoder_mask], ids=["padding_mask", "decoder_mask"])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), (2, 0)])
def test_masks_reject_wrong_token_shapes(fn, shape):
    """Tokens que no son (B, T) con T >= 1: `ValueError` con la forma recibida."""
    with pytest.raises(ValueError) as info:
        fn(torch.zeros(shape, dtype=torch.long), 0)
    message = str(info.value)
    assert str(shape) in message and "forma" in message, "el mensaje debe enseñar la forma en español"


def test_masks_reject_non_tensor_tokens_and_bad_pad_id():
    """Una lista como tokens o un pad_id no entero: `TypeError` que nombra el argumento."""
    with pytest.raises(TypeError, match="`tokens`.*list"):
        padding_mask([[1, 2, 0]], 0)
    for bad in (0.0, "0", None, True):
        with pytest.raises(TypeError, match="`pad_id`"):
            padding_mask(torch.tensor([[1, 2, 0]]), bad)
        with pytest.raises(TypeError, match="`pad_id`"):
            decoder_mask(torch.tensor([[1, 2, 0]]), bad)


# --- Rutas prohibidas (course_lib.mistakes.forbidden) ---------------------------------------------


@pytest.mark.parametrize("path", forbidden.MASKS)
def test_reference_paths_resolve(path):
    """Cada ruta se importa (con `pkgutil`, no con `checks._resolve`) y apunta a la función de referencia."""
    expected = {"padding_mask": padding_mask, "causal_mask": causal_mask, "decoder_mask": decoder_mask}
    assert pkgutil.resolve_name(path) is expected[path.rpartition(".")[2]]


def test_top_level_exports_are_forbidden_too():
    """Si course_lib exporta las máscaras, sus rutas cortas deben estar en las rutas prohibidas."""
    for name in ("padding_mask", "causal_mask", "decoder_mask"):
        if getattr(course_lib, name, None) is getattr(masks, name):
            assert f"course_lib.{name}" in forbidden.MASKS, f"añade 'course_lib.{name}' a las rutas prohibidas"


def test_reference_paths_do_not_forbid_tril():
    """torch.tril y torch.triu son una forma legítima de resolver el ejercicio: no se prohíben."""
    assert not any("tril" in p or "triu" in p for p in forbidden.MASKS)


# --- errores típicos -----------------------------------------------------------------------------------


def assert_mistakes_differ(found, expected: torch.Tensor, count: int) -> None:
    assert len(found.out) == count, f"se esperaban {count} errores típicos"
    assert found.weights == {}, "las máscaras son una sola salida: `weights` debe quedar vacío"
    for hint, wrong in found.out.items():
        assert "parece" in hint, f"la pista debe estar en español: {hint!r}"
        assert wrong.dtype == torch.bool
        assert wrong.shape != expected.shape or not torch.equal(wrong, expected), f"«{hint}» no se distingue"


@pytest.mark.parametrize(("pad_id", "count"), [(0, 3), (3, 4)])
def test_padding_mask_mistakes_differ(pad_id, count):
    """Cada error típico de padding_mask da otra máscara; «comparar con 0» solo si pad_id != 0."""
    tokens = torch.tensor([[1, 0, 4, 3, 3], [1, 2, pad_id, pad_id, pad_id]])
    found = mask_mistakes.padding_mask_mistakes(tokens, pad_id)
    assert_mistakes_differ(found, (tokens != pad_id)[:, None, None, :], count)
    assert (mask_mistakes.PADDING_AGAINST_ZERO in found.out) == (pad_id != 0)


def test_causal_mask_mistakes_differ():
    """Cada error típico de causal_mask da otra máscara."""
    found = mask_mistakes.causal_mask_mistakes(5)
    assert_mistakes_differ(found, torch.tril(torch.ones(5, 5)).bool()[None, None], 4)


def test_decoder_mask_mistakes_differ():
    """Cada error típico de decoder_mask da otra máscara."""
    tokens = torch.tensor([[1, 4, 2, 0], [1, 5, 6, 2]])
    found = mask_mistakes.decoder_mask_mistakes(tokens, 0)
    expected = (tokens != 0)[:, None, None, :] & torch.tril(torch.ones(4, 4)).bool()
    assert_mistakes_differ(found, expected, 4)
    either = (tokens != 0)[:, None, None, :] | torch.tril(torch.ones(4, 4)).bool()
    torch.testing.assert_close(found.out[mask_mistakes.DECODER_OR], either)


def test_shape_hint_picks_mistake_by_shape():
    """shape_hint elige la pista cuya forma coincide con la obtenida, o la de por defecto."""
    tokens = torch.tensor([[1, 4, 2, 0, 0], [1, 5, 6, 7, 2], [1, 2, 0, 0, 0]])  # B = 3 != T = 5
    found = mask_mistakes.padding_mask_mistakes(tokens, 0)
    on_queries = (tokens != 0)[:, None, :, None]
    assert mask_mistakes.shape_hint(on_queries, found, "otra") == mask_mistakes.PADDING_ON_QUERIES
    assert mask_mistakes.shape_hint(tokens != 0, found, "otra") == mask_mistakes.PADDING_NOT_EXPANDED
    assert mask_mistakes.shape_hint(torch.ones(7), found, "otra") == "otra"
    assert mask_mistakes.shape_hint(None, found, "otra") == "otra"
    causal = mask_mistakes.causal_mask_mistakes(4)
    assert mask_mistakes.shape_hint(torch.ones(4, 4), causal, "otra") == mask_mistakes.CAUSAL_NOT_EXPANDED
