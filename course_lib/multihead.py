"""Atención de múltiples cabezas (cuaderno 03).

    MultiHead(Q, K, V) = Concat(head_1, …, head_H) W_O
    head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)          (Vaswani et al., 2017, sección 3.2.2)

Las H proyecciones de las cabezas (cada una ``D → d_k``, con ``d_k = D / H``) se guardan
juntas en una sola capa ``nn.Linear(D, D)``: su salida se parte en H trozos con
:func:`split_heads`, la atención se calcula en todas las cabezas a la vez (la cabeza es
una dimensión de lote más) y :func:`merge_heads` vuelve a ponerlas una tras otra antes de
``W_o``. :meth:`MultiHeadAttention.forward` hace esos pasos con dos métodos,
:meth:`~MultiHeadAttention.keys_values` (claves y valores) y :meth:`~MultiHeadAttention.attend`
(el resto), que también usa la caché al generar texto (:mod:`course_lib.kv_cache`).

Formas: ``B`` lote, ``H`` cabezas, ``T_q``/``T_k`` longitudes de consultas y claves,
``D`` = ``d_model``, ``d_k = D / H``. Las máscaras son booleanas (``True`` = puede
atender) y se difunden a ``(B, H, T_q, T_k)``: ``(B, 1, 1, T_k)`` para el relleno,
``(1, 1, T, T)`` o ``(T, T)`` para la máscara causal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_lib.attention import scaled_dot_product_attention

_PROJECTIONS = ("W_q", "W_k", "W_v", "W_o")


def split_heads(x: Tensor, n_heads: int) -> Tensor:
    """Parte el último eje en ``n_heads`` cabezas: ``(B, T, D)`` → ``(B, H, T, d_k)``.

    La cabeza ``h`` del token ``t`` es el trozo ``x[b, t, h*d_k:(h+1)*d_k]``. Funciona
    también con entradas no contiguas en memoria (el resultado, en general, no lo es).

    Args:
        x: tensor ``(B, T, D)``, con ``D`` divisible entre ``n_heads``.
        n_heads: número de cabezas ``H``.

    Returns:
        Tensor ``(B, H, T, d_k)`` con ``d_k = D / H``.
    """
    _check_positive_int("n_heads", n_heads)
    _check_tensor("x", x, 3, "(B, T, D)")
    B, T, D = x.shape
    if D % n_heads != 0:
        raise ValueError(
            f"La última dimensión de `x` (D={D}) no es divisible entre n_heads={n_heads}: "
            f"cada cabeza necesita d_k = D / H entero. `x` tiene forma {tuple(x.shape)}."
        )
    # Partir un eje nunca obliga a copiar; `transpose` solo cambia cómo se recorre la memoria.
    return x.reshape(B, T, n_heads, D // n_heads).transpose(1, 2)  # (B, H, T, d_k)


def merge_heads(x: Tensor) -> Tensor:
    """Junta las cabezas una tras otra, la inversa de :func:`split_heads`: ``(B, H, T, d_k)`` → ``(B, T, H·d_k)``.

    Args:
        x: tensor ``(B, H, T, d_k)``.

    Returns:
        Tensor ``(B, T, D)`` con ``D = H·d_k``; sus columnas ``h*d_k:(h+1)*d_k`` son la cabeza ``h``.
    """
    _check_tensor("x", x, 4, "(B, H, T, d_k)")
    B, H, T, d_k = x.shape
    # Tras `transpose` el tensor no es contiguo: `reshape` copia si hace falta (`view` fallaría).
    return x.transpose(1, 2).reshape(B, T, H * d_k)  # (B, T, D)


class MultiHeadAttention(nn.Module):
    """Atención de múltiples cabezas (cuaderno 03).

    Proyecta consultas, claves y valores con ``W_q``, ``W_k`` y ``W_v`` (``nn.Linear(D, D)``,
    que equivalen a H proyecciones ``D → d_k``), calcula la atención por producto escalar
    escalado en cada cabeza (dividiendo entre ``√d_k``, el tamaño de la cabeza), junta las
    cabezas y las mezcla con ``W_o``.

    Args:
        d_model: tamaño ``D`` de los vectores de entrada y de salida.
        n_heads: número de cabezas ``H``; ``d_model`` debe ser divisible entre él.
        dropout: probabilidad de anular cada peso de atención durante el entrenamiento
            (como ``nn.MultiheadAttention``). En modo ``eval()`` no hace nada.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        _check_positive_int("d_model", d_model)
        _check_positive_int("n_heads", n_heads)
        if d_model % n_heads != 0:
            raise ValueError(
                f"d_model={d_model} no es divisible entre n_heads={n_heads}: cada cabeza "
                f"necesita d_k = d_model / n_heads entero (prueba con n_heads divisor de {d_model})."
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"`dropout` debe ser un número en [0, 1); recibí {dropout!r}.")
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_k = d_model // n_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        mask: Tensor | None = None,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """``query (B, T_q, D)``, ``key`` y ``value (B, T_k, D)`` → ``out (B, T_q, D)``.

        Con ``return_attention=True`` devuelve ``(out, weights)``, con ``weights`` de forma
        ``(B, H, T_q, T_k)`` (una matriz de pesos por cabeza). ``mask`` es booleana y
        difundible a ``(B, H, T_q, T_k)``.
        """
        self._check_inputs(query, key, value)
        # 1) Proyecciones de las claves y los valores, partidas en cabezas.
        k, v = self.keys_values(key, value)  # (B, H, T_k, d_k) cada uno
        # 2) a 4) Proyección de las consultas, atención en cada cabeza y mezcla de las cabezas.
        return self.attend(query, k, v, mask, return_attention)  # (B, T_q, D)

    def keys_values(self, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Proyecta ``key`` y ``value (B, T_k, D)`` y los parte en cabezas: ``k``, ``v (B, H, T_k, d_k)``.

        Es el paso 1 de :meth:`forward`. Va aparte porque al generar texto las claves y los
        valores de los tokens ya vistos no cambian: se calculan una vez y se guardan
        (:mod:`course_lib.kv_cache`).
        """
        k = split_heads(self.W_k(key), self.n_heads)  # (B, H, T_k, d_k)
        v = split_heads(self.W_v(value), self.n_heads)  # (B, H, T_k, d_k)
        return k, v

    def attend(
        self, query: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Los pasos 2 a 4 de :meth:`forward`, con ``k`` y ``v (B, H, T_k, d_k)`` ya proyectados.

        ``query (B, T_q, D)`` sin proyectar → ``out (B, T_q, D)``; con ``return_attention=True``,
        ``(out, weights)`` con ``weights (B, H, T_q, T_k)``.
        """
        # 2) Proyección de las consultas, partida en cabezas.
        q = split_heads(self.W_q(query), self.n_heads)  # (B, H, T_q, d_k)
        # 3) Atención en todas las cabezas a la vez. Si no hay pesos que devolver, la versión
        #    fusionada de PyTorch (que también aplica el dropout) es más rápida y gasta menos memoria.
        if return_attention:
            _, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T_q, T_k)
            heads = self.dropout(weights) @ v  # (B, H, T_q, d_k)
        else:
            p = self.dropout.p if self.training else 0.0
            heads, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=False, dropout_p=p)
        # 4) Concatenar las cabezas y mezclarlas.
        out = self.W_o(merge_heads(heads))  # (B, T_q, D)
        return (out, weights) if return_attention else out

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        """Errores claros, en español, para entradas con formas incompatibles."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            _check_tensor(name, t, 3, f"(B, T, d_model={self.d_model})")
            if t.size(-1) != self.d_model:
                raise ValueError(f"`{name}` debe tener forma (B, T, d_model={self.d_model}); recibí {tuple(t.shape)}.")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(
                "`key` y `value` deben tener el mismo lote y la misma longitud T_k: "
                f"`key` tiene forma {tuple(key.shape)} y `value` {tuple(value.shape)}."
            )
        if query.size(0) != key.size(0):
            raise ValueError(
                f"`query` {tuple(query.shape)} y `key` {tuple(key.shape)} deben tener el mismo tamaño de lote B."
            )


def reference_copy(layer: nn.Module, n_heads: int) -> MultiHeadAttention:
    """Una :class:`MultiHeadAttention` de referencia con los mismos pesos que ``layer``, en modo ``eval()``.

    ``layer`` debe tener ``W_q``, ``W_k``, ``W_v`` y ``W_o`` (``nn.Linear(D, D)``, con o sin
    sesgo: si no lo tiene, se usa 0). Sirve para comparar una implementación con la de
    referencia sin depender de cómo inicializa sus pesos.
    """
    weights, biases = _projections_of(layer)
    copy = MultiHeadAttention(weights[0].size(1), n_heads).eval()
    with torch.no_grad():
        for name, weight, bias in zip(_PROJECTIONS, weights, biases, strict=True):
            getattr(copy, name).weight.copy_(weight)
            getattr(copy, name).bias.copy_(bias)
    return copy


def as_torch_multihead(layer: nn.Module, n_heads: int) -> nn.MultiheadAttention:
    """El ``nn.MultiheadAttention(batch_first=True)`` de PyTorch con los pesos de ``layer``, en modo ``eval()``.

    PyTorch guarda ``W_q``, ``W_k`` y ``W_v`` apiladas en ``in_proj_weight`` (``3D × D``) y
    ``W_o`` en ``out_proj``. Ojo con sus máscaras: en ``attn_mask`` y ``key_padding_mask``,
    ``True`` significa «NO puede atender», al revés que en este curso.
    """
    weights, biases = _projections_of(layer)
    torch_layer = nn.MultiheadAttention(weights[0].size(1), n_heads, batch_first=True).eval()
    with torch.no_grad():
        torch_layer.in_proj_weight.copy_(torch.cat(weights[:3]))  # (3D, D): W_q, W_k, W_v apiladas
        torch_layer.in_proj_bias.copy_(torch.cat(biases[:3]))
        torch_layer.out_proj.weight.copy_(weights[3])
        torch_layer.out_proj.bias.copy_(biases[3])
    return torch_layer


def _projections_of(layer: nn.Module) -> tuple[list[Tensor], list[Tensor]]:
    """Pesos y sesgos de ``W_q``, ``W_k``, ``W_v`` y ``W_o`` (sesgo 0 si la capa no tiene)."""
    weights, biases = [], []
    for name in _PROJECTIONS:
        linear = getattr(layer, name, None)
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"`layer.{name}` debe ser un nn.Linear; recibí {type(linear).__name__}.")
        d_model = linear.in_features
        if linear.weight.shape != (d_model, d_model):
            raise ValueError(
                f"`layer.{name}` debe ser nn.Linear(d_model, d_model); "
                f"su peso tiene forma {tuple(linear.weight.shape)}."
            )
        weights.append(linear.weight.detach())
        biases.append(linear.bias.detach() if linear.bias is not None else torch.zeros(d_model))
    if len({w.size(0) for w in weights}) != 1:
        raise ValueError("`W_q`, `W_k`, `W_v` y `W_o` deben tener todas el mismo d_model.")
    return weights, biases


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")


def _check_tensor(name: str, t: object, ndim: int, shape: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"`{name}` debe ser un torch.Tensor; recibí {type(t).__name__}.")
    if t.dim() != ndim:
        raise ValueError(f"`{name}` debe tener {ndim} dimensiones {shape}; tiene forma {tuple(t.shape)}.")
