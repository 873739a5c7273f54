"""Gráficos del curso: un único mapa de calor para todos los pesos de atención.

Filas = consultas (quién mira), columnas = claves (a quién mira), como en la
matriz ``weights`` de forma ``(T_q, T_k)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_attention(
    weights: torch.Tensor | np.ndarray,
    queries: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    title: str = "Pesos de atención",
    ax: Axes | None = None,
    annotate: bool | None = None,
    colorbar: bool = True,
) -> Axes:
    """Dibuja una matriz de pesos de atención ``(T_q, T_k)`` como mapa de calor.

    Args:
        weights: pesos ``(T_q, T_k)``; se aceptan dimensiones iniciales de tamaño 1
            (p. ej. ``(1, T_q, T_k)``).
        queries: etiquetas de las filas (tokens que consultan), longitud ``T_q``.
        keys: etiquetas de las columnas (tokens consultados), longitud ``T_k``.
        title: título del gráfico.
        ax: ejes donde dibujar; si no se dan, se crea una figura.
        annotate: escribe el valor en cada casilla (por defecto, si la matriz es pequeña).
        colorbar: añade la barra de color.

    Returns:
        Los ejes de matplotlib, para añadir o ajustar lo que haga falta.
    """
    matrix = _as_matrix(weights)
    t_q, t_k = matrix.shape
    _check_labels(matrix, queries, keys, "weights")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * t_k + 2.5, 0.5 * t_q + 1.8))
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=max(1e-9, float(matrix.max())))
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="peso")
    _label_axes(ax, t_q, t_k, queries, keys, title)
    if annotate is None:
        annotate = t_q * t_k <= 100
    if annotate:
        threshold = 0.6 * float(matrix.max())
        for i in range(t_q):
            for j in range(t_k):
                color = "black" if matrix[i, j] > threshold else "white"
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", color=color, fontsize=8)
    return ax


def plot_attention_heads(
    weights: torch.Tensor | np.ndarray,
    queries: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    title: str = "Pesos de atención por cabeza",
    cols: int = 4,
) -> Figure:
    """Una rejilla de mapas de calor, uno por cabeza (cuaderno 03 en adelante).

    Args:
        weights: pesos ``(H, T_q, T_k)``; se acepta ``(1, H, T_q, T_k)`` (un ejemplo del lote).
        queries: etiquetas de las filas, longitud ``T_q``.
        keys: etiquetas de las columnas, longitud ``T_k``.
        title: título de la figura.
        cols: cabezas por fila de la rejilla.

    Returns:
        La figura de matplotlib.
    """
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().float().cpu().numpy()
    array = np.asarray(weights, dtype=float)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(
            f"`weights` debe tener forma (H, T_q, T_k) o (1, H, T_q, T_k); tiene forma {tuple(np.shape(weights))}. "
            "Si tienes un lote, elige un ejemplo: `weights[0]`."
        )
    if not isinstance(cols, int) or cols < 1:
        raise ValueError(f"`cols` debe ser un entero positivo; recibí {cols!r}.")
    n_heads, t_q, t_k = array.shape
    cols = min(cols, n_heads)
    rows = -(-n_heads // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * (0.4 * t_k + 1.5), rows * (0.4 * t_q + 1.3)), squeeze=False)
    for head, ax in enumerate(axes.flat):
        if head < n_heads:
            plot_attention(
                array[head], queries, keys, title=f"Cabeza {head + 1}", ax=ax, annotate=False, colorbar=False
            )
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mask(
    mask: torch.Tensor | np.ndarray,
    queries: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    title: str = "Máscara de atención",
    ax: Axes | None = None,
) -> Axes:
    """Dibuja una máscara booleana ``(T_q, T_k)``: verde = puede atender, blanco = oculto (05 y 08).

    Se aceptan dimensiones iniciales de tamaño 1, como la ``(1, 1, T, T)`` de ``causal_mask``.
    """
    matrix = _as_matrix(mask)
    t_q, t_k = matrix.shape
    _check_labels(matrix, queries, keys, "mask")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * t_k + 2.0, 0.5 * t_q + 1.8))
    ax.imshow(matrix, cmap="Greens", vmin=0, vmax=1.2)
    _label_axes(ax, t_q, t_k, queries, keys, title)
    return ax


def _check_labels(matrix: np.ndarray, queries: Sequence[str] | None, keys: Sequence[str] | None, what: str) -> None:
    """Una etiqueta por fila (``queries``) y por columna (``keys``) de ``matrix`` ``(T_q, T_k)``."""
    for name, labels, size in (("queries", queries, matrix.shape[0]), ("keys", keys, matrix.shape[1])):
        if labels is not None and len(labels) != size:
            raise ValueError(
                f"`{name}` tiene {len(labels)} etiquetas, pero `{what}` tiene forma {tuple(matrix.shape)} "
                f"(T_q, T_k): hacen falta {size}."
            )


def _label_axes(
    ax: Axes, t_q: int, t_k: int, queries: Sequence[str] | None, keys: Sequence[str] | None, title: str
) -> None:
    """Etiquetas de filas (consultas) y columnas (claves), nombres de los ejes y título."""
    ax.set_xticks(range(t_k), labels=list(keys) if keys is not None else range(t_k), rotation=45, ha="right")
    ax.set_yticks(range(t_q), labels=list(queries) if queries is not None else range(t_q))
    ax.set_xlabel("Claves (a qué token se atiende)")
    ax.set_ylabel("Consultas (qué token atiende)")
    ax.set_title(title)


def _as_matrix(weights: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().float().cpu().numpy()
    array = np.asarray(weights, dtype=float)
    squeezed = array
    while squeezed.ndim > 2 and squeezed.shape[0] == 1:
        squeezed = squeezed[0]
    if squeezed.ndim != 2:
        raise ValueError(
            f"`weights` debe ser una matriz (T_q, T_k) (se admiten dimensiones iniciales de tamaño 1); "
            f"tiene forma {tuple(array.shape)}. Elige un ejemplo y una cabeza, p. ej. `weights[0, 0]`."
        )
    return squeezed
