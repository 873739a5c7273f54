"""Pruebas de course_lib.positional y course_lib.mistakes.positional.

La referencia independiente es un cálculo con bucles y ``math`` (en float64) hecho en la
propia prueba, o identidades trigonométricas; nunca la salida de la biblioteca.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_lib import checks, positional
from course_lib.mistakes import forbidden
from course_lib.mistakes import positional as positional_mistakes
from course_lib.positional import PositionalEncoding, TokenEmbedding, sinusoidal_encoding


def table_with_loops(max_len: int, d_model: int) -> torch.Tensor:
    """La fórmula del artículo, columna a columna, con ``math`` en float64."""
    rows = []
    for pos in range(max_len):
        row = []
        for j in range(d_model):
            angle = pos / 10000 ** ((j - j % 2) / d_model)  # 2i es el índice par de la pareja de j
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64)


# --- sinusoidal_encoding ---------------------------------------------------------------------


@pytest.mark.parametrize(("max_len", "d_model"), [(1, 1), (1, 4), (7, 2), (20, 8), (50, 16), (9, 5), (30, 33)])
def test_sinusoidal_matches_loop_formula(max_len, d_model):
    """Coincide con la fórmula calculada con bucles, también con d_model impar."""
    pe = sinusoidal_encoding(max_len, d_model)
    assert pe.shape == (max_len, d_model), "la tabla debe tener forma (max_len, d_model)"
    assert pe.dtype == torch.float32, "la tabla debe ser float32"
    torch.testing.assert_close(pe.double(), table_with_loops(max_len, d_model), atol=1e-6, rtol=0)


def test_sinusoidal_known_values():
    """Fila 0 = [0, 1, 0, 1, …]; la fila 1 empieza por sin(1), cos(1); con d_model impar, la última es un seno."""
    pe = sinusoidal_encoding(4, 6)
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(pe[1, :2], torch.tensor([math.sin(1.0), math.cos(1.0)]))
    torch.testing.assert_close(pe[3, 2], torch.tensor(math.sin(3 / 10000 ** (2 / 6))))
    odd = sinusoidal_encoding(6, 7)
    expected_last = torch.tensor([math.sin(p / 10000 ** (6 / 7)) for p in range(6)])
    torch.testing.assert_close(odd[:, 6], expected_last)


def test_sinusoidal_range_dtype_and_precision_at_large_positions():
    """Tamaño del artículo: valores en [-1, 1], float32, y exactos incluso en posiciones altas."""
    pe = sinusoidal_encoding(5000, 512)
    assert pe.shape == (5000, 512) and pe.dtype == torch.float32
    assert pe.abs().max() <= 1.0, "seno y coseno están en [-1, 1]"
    # `sin² + cos² = 1` en cada pareja: cada fila tiene norma √(d_model / 2) = 16.
    torch.testing.assert_close(pe.norm(dim=1), torch.full((5000,), 16.0))
    assert math.isclose(pe[4999, 0].item(), math.sin(4999), abs_tol=1e-6)


def test_sinusoidal_dot_product_depends_only_on_offset():
    """PE[p]·PE[p+k] no depende de p: es Σ cos(ω_i k)."""
    pe = sinusoidal_encoding(80, 32).double()
    gram = pe @ pe.T  # (80, 80)
    for k in (0, 1, 5, 17):
        diagonal = torch.diagonal(gram, offset=k)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-5, rtol=0)
        omegas = 1 / 10000 ** (torch.arange(0, 32, 2, dtype=torch.float64) / 32)
        assert math.isclose(diagonal[0].item(), torch.cos(omegas * k).sum().item(), abs_tol=1e-5)


def test_sinusoidal_shift_is_a_fixed_rotation():
    """PE[pos + k] = PE[pos] · M_kᵀ con una matriz M_k que solo depende de k (rotaciones por parejas)."""
    d_model, k = 8, 3
    pe = sinusoidal_encoding(40, d_model).double()
    rotation = torch.zeros(d_model, d_model, dtype=torch.float64)
    for i in range(0, d_model, 2):
        theta = k / 10000 ** (i / d_model)
        # `(sin(a+θ), cos(a+θ)) = (sin a cos θ + cos a sin θ, cos a cos θ − sin a sin θ)`
        rotation[i : i + 2, i : i + 2] = torch.tensor(
            [[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]]
        )
    torch.testing.assert_close(pe[k:], pe[:-k] @ rotation.T, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("max_len", "d_model", "name"),
    [
        (0, 8, "max_len"),
        (-3, 8, "max_len"),
        (2.5, 8, "max_len"),
        (True, 8, "max_len"),
        (10, 0, "d_model"),
        (10, -1, "d_model"),
    ],
)
def test_sinusoidal_bad_sizes_give_spanish_errors(max_len, d_model, name):
    """Tamaños no positivos o no enteros: `ValueError` en español que nombra el argumento."""
    with pytest.raises(ValueError, match=rf"`{name}` debe ser un entero positivo"):
        sinusoidal_encoding(max_len, d_model)


# --- `PositionalEncoding` --------------------------------------------------------------------


def test_positional_encoding_buffer_is_not_a_parameter():
    """`pe` es un búfer no persistente (max_len, d_model), sin gradiente, y la capa no tiene parámetros."""
    layer = PositionalEncoding(12, max_len=30)
    buffers = dict(layer.named_buffers())
    assert "pe" in buffers and buffers["pe"].shape == (30, 12)
    assert list(layer.parameters()) == [], "la codificación sinusoidal no tiene parámetros"
    assert not layer.pe.requires_grad
    assert "pe" not in layer.state_dict(), "persistent=False: la tabla no va al state_dict"
    torch.testing.assert_close(layer.pe.double(), table_with_loops(30, 12), atol=1e-6, rtol=0)
    assert layer.double().pe.dtype == torch.float64, "el búfer viaja con el módulo (`.to`, `.double`, `.cuda`)"


@pytest.mark.parametrize(("batch", "T", "max_len"), [(2, 5, 20), (1, 1, 20), (1, 20, 20), (3, 7, 5000)])
def test_positional_encoding_eval_adds_table_rows(batch, T, max_len):
    """En evaluación (sin dropout) la salida es exactamente x + PE[:T]."""
    d_model = 6
    layer = PositionalEncoding(d_model, max_len=max_len, dropout=0.3).eval()
    x = torch.randn(batch, T, d_model, generator=torch.Generator().manual_seed(T))
    expected = x.double() + table_with_loops(T, d_model)
    torch.testing.assert_close(layer(x).double(), expected, atol=1e-6, rtol=0)


def test_positional_encoding_dropout_after_sum():
    """En entrenamiento, el dropout actúa sobre la suma: lo que sobrevive es (x + PE)/(1 - p)."""
    torch.manual_seed(0)
    layer = PositionalEncoding(16, max_len=50, dropout=0.5).train()
    x = torch.randn(4, 30, 16)
    out = layer(x)
    kept = out != 0
    assert 0.4 < kept.float().mean().item() < 0.6, "con p = 0,5 debe anularse la mitad"
    expected = 2 * (x + table_with_loops(30, 16).float())
    torch.testing.assert_close(out[kept], expected[kept], atol=1e-5, rtol=1e-5)


def test_positional_encoding_spanish_errors():
    """T > max_len, d_model equivocado y dropout fuera de rango: errores en español."""
    layer = PositionalEncoding(8, max_len=10)
    with pytest.raises(ValueError, match=r"T=11 posiciones.*max_len=10"):
        layer(torch.zeros(1, 11, 8))
    with pytest.raises(ValueError, match=r"`x` debe tener forma \(B, T, d_model=8\)"):
        layer(torch.zeros(1, 5, 7))
    with pytest.raises(ValueError, match=r"`dropout` debe ser un número en \[0, 1\)"):
        PositionalEncoding(8, dropout=1.5)
    with pytest.raises(ValueError, match=r"`max_len` debe ser un entero positivo"):
        PositionalEncoding(8, max_len=0)


def test_positional_encoding_offset_adds_the_rows_from_there():
    """Con `offset=t`, la posición del primer vector es t: un token suelto recibe la fila t de la tabla."""
    layer = PositionalEncoding(6, max_len=12, dropout=0.0)
    x = torch.randn(2, 9, 6)
    whole = layer(x)
    for t in (0, 4, 8):
        torch.testing.assert_close(layer(x[:, t : t + 1], offset=t), whole[:, t : t + 1])
    torch.testing.assert_close(layer(x[:, 3:], offset=3), whole[:, 3:])
    torch.testing.assert_close(layer(x[:, :1], offset=11)[0, 0], x[0, 0] + table_with_loops(12, 6)[11].float())
    with pytest.raises(ValueError, match=r"posiciones hasta la 12.*max_len=12"):
        layer(x[:, :2], offset=11)
    with pytest.raises(ValueError, match="`offset` debe ser un entero no negativo"):
        layer(x, offset=-1)


# --- `TokenEmbedding` ------------------------------------------------------------------------


@pytest.mark.parametrize(("vocab_size", "d_model", "shape"), [(50, 16, (2, 5)), (7, 9, (1, 1)), (100, 512, (3, 4))])
def test_token_embedding_scales_rows_by_sqrt_d_model(vocab_size, d_model, shape):
    """Salida = fila del embedding · √d_model, con los pesos de la propia capa."""
    layer = TokenEmbedding(vocab_size, d_model)
    assert isinstance(layer.embedding, nn.Embedding)
    assert layer.embedding.weight.shape == (vocab_size, d_model)
    tokens = torch.randint(vocab_size, shape, generator=torch.Generator().manual_seed(1))
    out = layer(tokens)
    assert out.shape == (*shape, d_model)
    expected = layer.embedding.weight.detach()[tokens] * d_model**0.5
    torch.testing.assert_close(out.detach(), expected)


def test_token_embedding_initial_scale_matches_positional_encoding():
    """Con N(0, 1/d_model) y el factor √d_model, la norma es ≈ √d_model, del orden de la de PE (√(d_model/2))."""
    torch.manual_seed(0)
    d_model = 512
    layer = TokenEmbedding(1000, d_model)
    std = layer.embedding.weight.std().item()
    assert abs(std - d_model**-0.5) < 0.05 * d_model**-0.5, f"desviación típica inicial {std}"
    norms = layer(torch.arange(1000)).norm(dim=-1)
    assert abs(norms.mean().item() - math.sqrt(d_model)) < 1.0
    assert math.isclose(sinusoidal_encoding(1, d_model)[0].norm().item(), math.sqrt(d_model / 2), rel_tol=1e-6)


def test_token_embedding_spanish_errors():
    """Índices fuera del vocabulario, tokens no enteros y tamaños no válidos."""
    layer = TokenEmbedding(10, 4)
    with pytest.raises(ValueError, match=r"\[0, vocab_size=10\)"):
        layer(torch.tensor([[3, 10]]))
    with pytest.raises(TypeError, match=r"`tokens` debe ser un tensor de enteros"):
        layer(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"`vocab_size` debe ser un entero positivo"):
        TokenEmbedding(0, 4)


@pytest.mark.parametrize("bad", [[[3, 10]], [[-1, 2]], [[0], [12]]])
def test_token_embedding_out_of_range_error_on_cpu(bad):
    """En CPU, un índice fuera del vocabulario da el error en español con el rango encontrado."""
    layer = TokenEmbedding(10, 4)
    tokens = torch.tensor(bad)
    with pytest.raises(ValueError, match=rf"entre {int(tokens.min())} y {int(tokens.max())}.*\[0, vocab_size=10\)"):
        layer(tokens)


def test_token_embedding_does_not_read_values_back_off_the_cpu():
    """Fuera de la CPU no se leen el mínimo y el máximo (obligaría a esperar a la GPU en cada llamada).

    En el dispositivo «meta» los tensores no tienen valores: leer uno falla, así que si la capa lo
    intentara, esta prueba fallaría."""
    layer = TokenEmbedding(10, 4).to("meta")
    tokens = torch.zeros(2, 3, dtype=torch.long, device="meta")
    with pytest.raises(RuntimeError):
        int(tokens.max())  # lo que la comprobación haría
    assert layer(tokens).shape == (2, 3, 4)


# --- Referencias prohibidas y errores frecuentes ---------------------------------------------


def test_reference_paths_can_be_forbidden():
    """Cada ruta de las rutas prohibidas existe y checks.forbid la bloquea durante el bloque."""
    with checks.forbid(forbidden.POSITIONAL, namespace={}):
        with pytest.raises(checks.ForbiddenCallError):
            positional.sinusoidal_encoding(4, 4)
        with pytest.raises(checks.ForbiddenCallError):
            positional.PositionalEncoding(4)
        with pytest.raises(checks.ForbiddenCallError):
            positional.TokenEmbedding(4, 4)
    assert positional.sinusoidal_encoding(2, 2).shape == (2, 2), "al salir del bloque todo vuelve a funcionar"


def test_sinusoidal_mistakes_reproduce_each_error():
    """Cada error sembrado difiere de la fórmula, y las implementaciones erróneas típicas caen en su pista."""
    max_len, d_model = 12, 8
    correct = table_with_loops(max_len, d_model).float()
    wrong = positional_mistakes.sinusoidal_mistakes(max_len, d_model).out
    assert len(wrong) == 6
    for hint, table in wrong.items():
        assert table.shape == correct.shape, hint
        assert not torch.allclose(table, correct, atol=1e-4), f"no es un error: {hint}"

    def find(hint_part: str) -> torch.Tensor:
        return next(t for h, t in wrong.items() if hint_part in h)

    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    i = torch.arange(d_model // 2, dtype=torch.float64)
    swapped = torch.zeros(max_len, d_model, dtype=torch.float64)
    swapped[:, 0::2] = torch.cos(pos / 10000 ** (2 * i / d_model))
    swapped[:, 1::2] = torch.sin(pos / 10000 ** (2 * i / d_model))
    torch.testing.assert_close(find("intercambiaste seno y coseno"), swapped.float())
    exponent_i = torch.zeros(max_len, d_model, dtype=torch.float64)
    exponent_i[:, 0::2] = torch.sin(pos / 10000 ** (i / d_model))
    exponent_i[:, 1::2] = torch.cos(pos / 10000 ** (i / d_model))
    torch.testing.assert_close(find("exponente es i/d_model"), exponent_i.float())
    multiplied = torch.zeros(max_len, d_model, dtype=torch.float64)
    multiplied[:, 0::2] = torch.sin(pos * 10000 ** (2 * i / d_model))
    multiplied[:, 1::2] = torch.cos(pos * 10000 ** (2 * i / d_model))
    torch.testing.assert_close(find("multiplicas la posición"), multiplied.float())
    halves = torch.cat([torch.sin(pos / 10000 ** (2 * i / d_model)), torch.cos(pos / 10000 ** (2 * i / d_model))], 1)
    torch.testing.assert_close(find("todos los senos primero"), halves.float())


def test_positional_encoding_mistakes_reproduce_each_error():
    """Sin sumar = x; tomar T de la dimensión 0 = cada ejemplo b recibe pe[b] en todas sus posiciones."""
    x = torch.randn(3, 5, 4)
    pe = table_with_loops(10, 4).float()
    wrong = positional_mistakes.positional_encoding_mistakes(x, pe).out
    assert torch.equal(next(t for h, t in wrong.items() if "no sumas" in h), x)
    dim0 = next(t for h, t in wrong.items() if "dimensión 0" in h)
    for b in range(3):
        torch.testing.assert_close(dim0[b], x[b] + pe[b])
    for hint, out in wrong.items():
        assert not torch.allclose(out, x + pe[:5]), f"no es un error: {hint}"


def test_token_embedding_mistakes_reproduce_each_error():
    """Sin factor, dividir y multiplicar por d_model dan salidas distintas de la correcta."""
    weight = torch.randn(10, 9)
    tokens = torch.tensor([[1, 2, 3]])
    wrong = positional_mistakes.token_embedding_mistakes(weight, tokens).out
    correct = weight[tokens] * 3.0
    assert torch.allclose(next(t for h, t in wrong.items() if "divides" in h), weight[tokens] / 3.0)
    assert torch.allclose(next(t for h, t in wrong.items() if "por d_model en vez" in h), weight[tokens] * 9.0)
    for hint, out in wrong.items():
        assert not torch.allclose(out, correct), f"no es un error: {hint}"
