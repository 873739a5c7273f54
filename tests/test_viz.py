"""Pruebas de course_lib.viz.plot_attention (sin pantalla: backend Agg)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

from course_lib import viz
from course_lib.viz import plot_attention

matplotlib.use("Agg")  # sin pantalla; pyplot aún no ha elegido backend, así que basta con fijarlo aquí

QUERIES = ["el", "gato", "duerme"]
KEYS = ["<s>", "el", "gato", "duerme"]


@pytest.fixture(autouse=True)
def close_figures():
    """Cierra todas las figuras después de cada prueba."""
    yield
    plt.close("all")


def tick_texts(labels) -> list[str]:
    return [label.get_text() for label in labels]


def test_plot_attention_labels_and_titles():
    """Devuelve unos ejes con título, etiquetas de ejes en español y los tokens como marcas."""
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    ax = plot_attention(weights, QUERIES, KEYS)
    assert isinstance(ax, Axes), "debe devolver unos ejes de matplotlib"
    assert ax.get_title() == "Pesos de atención", "el título por defecto debe estar en español"
    assert "Claves" in ax.get_xlabel(), "el eje x son las claves"
    assert "Consultas" in ax.get_ylabel(), "el eje y son las consultas"
    assert tick_texts(ax.get_xticklabels()) == KEYS, "las marcas del eje x deben ser las claves"
    assert tick_texts(ax.get_yticklabels()) == QUERIES, "las marcas del eje y deben ser las consultas"


def test_plot_attention_custom_title_and_given_axes():
    """Usa los ejes que se le pasan y el título pedido."""
    _, ax = plt.subplots()
    result = plot_attention(np.full((2, 2), 0.5), ["a", "b"], ["c", "d"], title="Cabeza 0", ax=ax)
    assert result is ax, "debe dibujar en los ejes dados"
    assert ax.get_title() == "Cabeza 0"


def test_plot_attention_default_ticks_are_indices():
    """Sin etiquetas, las marcas son los índices de las posiciones."""
    ax = plot_attention(np.eye(3)[:2])  # (2, 3)
    assert tick_texts(ax.get_xticklabels()) == ["0", "1", "2"]
    assert tick_texts(ax.get_yticklabels()) == ["0", "1"]


@pytest.mark.parametrize(
    "weights",
    [
        torch.softmax(torch.randn(1, 3, 4), dim=-1),
        torch.softmax(torch.randn(1, 1, 3, 4), dim=-1),
        np.full((3, 4), 0.25),
        np.full((1, 3, 4), 0.25),
        torch.softmax(torch.randn(3, 4, requires_grad=True), dim=-1),  # con grafo: no debe hacer falta detach()
    ],
    ids=["tensor_1x3x4", "tensor_1x1x3x4", "numpy_3x4", "numpy_1x3x4", "tensor_grad"],
)
def test_plot_attention_accepts_leading_ones(weights):
    """Acepta tensores y arrays con dimensiones iniciales de tamaño 1, y dibuja la matriz (T_q, T_k)."""
    ax = plot_attention(weights, QUERIES, KEYS)
    image = ax.get_images()[0]
    expected = weights.detach().numpy() if isinstance(weights, torch.Tensor) else weights
    np.testing.assert_allclose(image.get_array(), expected.reshape(3, 4), rtol=1e-6)


def test_plot_attention_annotates_small_matrices():
    """En matrices pequeñas escribe el valor de cada casilla con dos decimales."""
    weights = np.array([[0.25, 0.75], [1.0, 0.0]])
    ax = plot_attention(weights)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["0.25", "0.75", "1.00", "0.00"])
    ax_plain = plot_attention(weights, annotate=False)
    assert not ax_plain.texts, "con annotate=False no hay textos"


@pytest.mark.parametrize(
    ("queries", "keys", "bad_name", "count"),
    [(["a", "b"], KEYS, "queries", "2"), (QUERIES, ["a", "b", "c"], "keys", "3"), (QUERIES, [*KEYS, "x"], "keys", "5")],
)
def test_plot_attention_label_count_mismatch(queries, keys, bad_name, count):
    """Un número de etiquetas que no cuadra con la forma: ValueError en español con la forma."""
    with pytest.raises(ValueError) as info:
        plot_attention(np.full((3, 4), 0.25), queries, keys)
    message = str(info.value)
    assert f"`{bad_name}`" in message and f"{count} etiquetas" in message, "el mensaje debe nombrar el argumento"
    assert "(3, 4)" in message, "el mensaje debe incluir la forma de weights"


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 4), (4,)])
def test_plot_attention_rejects_non_matrix(shape):
    """Una entrada que no se reduce a (T_q, T_k): ValueError en español con la forma."""
    with pytest.raises(ValueError) as info:
        plot_attention(torch.rand(shape))
    message = str(info.value)
    assert "`weights`" in message and str(shape) in message, "el mensaje debe incluir la forma recibida"
    assert "matriz" in message, "el mensaje debe estar en español"


def test_plot_attention_heads_grid() -> None:
    """Una casilla por cabeza, con su título; las sobrantes de la rejilla se ocultan."""
    weights = torch.softmax(torch.randn(1, 3, 4, 5), dim=-1)
    fig = viz.plot_attention_heads(weights, list("abcd"), list("vwxyz"), cols=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == ["Cabeza 1", "Cabeza 2", "Cabeza 3"]
    assert [t.get_text() for t in visible[0].get_xticklabels()] == list("vwxyz")
    assert len(fig.axes) == 4 and fig._suptitle.get_text() == "Pesos de atención por cabeza"
    plt.close(fig)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4, 5)])
def test_plot_attention_heads_rejects_bad_shapes(shape) -> None:
    with pytest.raises(ValueError, match="H, T_q, T_k"):
        viz.plot_attention_heads(torch.rand(shape))


def test_plot_mask_draws_allowed_cells_and_checks_labels() -> None:
    from course_lib.viz import plot_mask

    mask = torch.tril(torch.ones(3, 3, dtype=torch.bool))[None, None]  # (1, 1, T, T), como causal_mask
    ax = plot_mask(mask, ["a", "b", "c"], ["a", "b", "c"], title="causal")
    image = ax.get_images()[0].get_array()
    assert image.tolist() == mask[0, 0].float().tolist()
    assert ax.get_title() == "causal"
    with pytest.raises(ValueError, match=r"`keys` tiene 2 etiquetas.*\(3, 3\)"):
        plot_mask(mask, ["a", "b", "c"], ["a", "b"])
    plt.close("all")
