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


def plot_attention(
    weights: torch.Tensor | np.ndarray,
    queries: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    title: str = "Pesos de atención",
    ax: Axes | None = None,
    annotate: bool | None = None,
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

    Returns:
        Los ejes de matplotlib, para añadir o ajustar lo que haga falta.
    """
    matrix = _as_matrix(weights)
    t_q, t_k = matrix.shape
    for name, labels, size in (("queries", queries, t_q), ("keys", keys, t_k)):
        if labels is not None and len(labels) != size:
            raise ValueError(
                f"`{name}` tiene {len(labels)} etiquetas, pero `weights` tiene forma "
                f"{tuple(matrix.shape)} (T_q, T_k): hacen falta {size}."
            )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * t_k + 2.5, 0.5 * t_q + 1.8))
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=max(1e-9, float(matrix.max())))
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="peso")
    ax.set_xticks(range(t_k), labels=list(keys) if keys is not None else range(t_k), rotation=45, ha="right")
    ax.set_yticks(range(t_q), labels=list(queries) if queries is not None else range(t_q))
    ax.set_xlabel("Claves (a qué token se atiende)")
    ax.set_ylabel("Consultas (qué token atiende)")
    ax.set_title(title)
    if annotate is None:
        annotate = t_q * t_k <= 100
    if annotate:
        threshold = 0.6 * float(matrix.max())
        for i in range(t_q):
            for j in range(t_k):
                color = "black" if matrix[i, j] > threshold else "white"
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", color=color, fontsize=8)
    return ax


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
