"""Las capas del Transformer: red prealimentada, capa del codificador y capa del decodificador (cuaderno 06).

    FeedForward:   x → W_2 · ReLU(W_1 x + b_1) + b_2, en cada posición por separado
    EncoderLayer:  x → Add&Norm(x, SelfAttn(x)) → Add&Norm(·, FFN(·))
    DecoderLayer:  y → Add&Norm(y, MaskedSelfAttn(y)) → Add&Norm(·, CrossAttn(·, memory)) → Add&Norm(·, FFN(·))

(Vaswani et al., 2017, secciones 3.1 y 3.3). Por defecto la normalización va **después** de
sumar la conexión residual (*post-LN*, como en el artículo); con ``norm_first=True`` va
**antes** de cada subcapa (*pre-LN*). El modelo que las apila está en
:mod:`course_lib.transformer`, que también las exporta (``transformer.EncoderLayer``…).

Formas: ``B`` lote, ``T_src``/``T_tgt`` longitudes de origen y destino, ``D`` = ``d_model``,
``H`` cabezas. Máscaras booleanas (``True`` = puede atender), difundibles a ``(B, H, T_q, T_k)``.

Nombres de los atributos (las pruebas los usan para copiar pesos entre implementaciones):
``self_attn``, ``cross_attn`` (solo decodificador), ``feed_forward`` (con ``W_1`` y ``W_2``),
``norm1``, ``norm2``, ``norm3`` (solo decodificador) y ``dropout``. Con
``return_attention=True`` las capas devuelven también sus pesos de atención.

:meth:`DecoderLayer.step` es la misma capa aplicada a una sola posición nueva, con las claves y
los valores de las anteriores guardados en una :class:`course_lib.kv_cache.LayerCache`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from course_lib.kv_cache import LayerCache
from course_lib.multihead import MultiHeadAttention


def check_positive_int(name: str, value: object) -> None:
    """Error en español si ``value`` no es un entero positivo."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")


def check_dropout(value: object) -> None:
    """Error en español si ``value`` no es una probabilidad de dropout válida, en [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`dropout` debe ser un número en [0, 1); recibí {value!r}.")


def check_input(name: str, x: object, d_model: int) -> None:
    """Error en español si ``x`` no es un tensor ``(B, T, d_model)``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"`{name}` debe ser un torch.Tensor (B, T, d_model={d_model}); recibí {type(x).__name__}.")
    if x.dim() != 3 or x.size(-1) != d_model:
        raise ValueError(f"`{name}` debe tener forma (B, T, d_model={d_model}); recibí {tuple(x.shape)}.")


class FeedForward(nn.Module):
    """Red prealimentada (``feed-forward``), la misma en cada posición: ``W_2 · ReLU(W_1 x + b_1) + b_2``.

    Es la única parte no lineal de cada capa aparte de la softmax, y trabaja token a token:
    mezcla las características de cada posición (la atención ya mezcló las posiciones).

    Args:
        d_model: tamaño ``D`` de entrada y de salida.
        d_ff: tamaño de la capa oculta (2048 en el modelo base, 4·``D``).
        dropout: probabilidad de dropout tras la ReLU.
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1) -> None:
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("d_ff", d_ff)
        check_dropout(dropout)
        self.d_model = d_model
        self.W_1 = nn.Linear(d_model, d_ff)
        self.W_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, T, D)`` → ``(B, T, D)``."""
        check_input("x", x, self.d_model)
        return self.W_2(self.dropout(torch.relu(self.W_1(x))))  # (B, T, d_ff) → (B, T, D)


class _Sublayers(nn.Module):
    """Lo común a las capas: «Add & Norm» alrededor de cada subcapa y, si se piden, sus pesos de atención."""

    norm_first: bool

    def _residual(self, x: Tensor, norm: nn.LayerNorm, sublayer: Callable[[Tensor], Tensor]) -> Tensor:
        """Post-LN: ``norm(x + drop(sub(x)))``. Pre-LN: ``x + drop(sub(norm(x)))``."""
        if self.norm_first:
            return x + self.dropout(sublayer(norm(x)))
        return norm(x + self.dropout(sublayer(x)))

    @staticmethod
    def _attend(
        attn: MultiHeadAttention,
        q: Tensor,
        kv: Tensor,
        mask: Tensor | None,
        weights: dict[str, Tensor] | None,
        key: str,
    ) -> Tensor:
        """``attn(q, kv, kv, mask)``; con ``weights``, guarda los pesos ``(B, H, T_q, T_k)`` en ``weights[key]``."""
        if weights is None:
            return attn(q, kv, kv, mask)
        out, weights[key] = attn(q, kv, kv, mask, return_attention=True)
        return out


class EncoderLayer(_Sublayers):
    """Una capa del codificador: autoatención y red prealimentada, cada una con «Add & Norm».

    Args:
        d_model: tamaño ``D`` de los vectores.
        n_heads: cabezas de la autoatención (``d_model`` divisible entre ellas).
        d_ff: tamaño oculto de la red prealimentada.
        dropout: dropout de las salidas de cada subcapa (antes de sumar) y de los pesos de atención.
        norm_first: ``False`` = post-LN (artículo); ``True`` = pre-LN.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:
        super().__init__()
        check_dropout(dropout)
        self.d_model = d_model
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: Tensor, src_mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """``x (B, T_src, D)``, ``src_mask`` difundible a ``(B, H, T_src, T_src)`` → ``(B, T_src, D)``.

        Con ``return_attention=True`` devuelve ``(out, {"self": weights (B, H, T_src, T_src)})``.
        """
        check_input("x", x, self.d_model)
        weights: dict[str, Tensor] | None = {} if return_attention else None
        x = self._residual(x, self.norm1, lambda h: self._attend(self.self_attn, h, h, src_mask, weights, "self"))
        x = self._residual(x, self.norm2, self.feed_forward)
        return (x, weights) if return_attention else x


class DecoderLayer(_Sublayers):
    """Una capa del decodificador: autoatención enmascarada, atención cruzada y red prealimentada.

    En la atención cruzada las consultas salen del decodificador y las claves y los valores de
    la salida del codificador (``memory``): así cada palabra que se genera mira la frase de origen.

    Args:
        d_model: tamaño ``D`` de los vectores.
        n_heads: cabezas de cada atención.
        d_ff: tamaño oculto de la red prealimentada.
        dropout: como en :class:`EncoderLayer`.
        norm_first: ``False`` = post-LN (artículo); ``True`` = pre-LN.
    """

    supports_incremental_decoding: ClassVar[bool] = True
    """:meth:`step` da lo mismo que la última posición de :meth:`forward`. Una subclase que redefine
    ``forward`` o ``step`` pasa a ``False`` (véase :meth:`__init_subclass__`) salvo que lo declare ella."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        disable_cache_if_redefined(cls, ("forward", "step", "start_cache"))

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:
        super().__init__()
        check_dropout(dropout)
        self.d_model = d_model
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        memory: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """``x (B, T_tgt, D)``, ``memory (B, T_src, D)`` → ``(B, T_tgt, D)``.

        ``tgt_mask`` (difundible a ``(B, H, T_tgt, T_tgt)``) debe ser causal; ``src_mask``
        (difundible a ``(B, H, T_tgt, T_src)``) oculta el relleno de la frase de origen. Con
        ``return_attention=True`` devuelve ``(out, {"self": (B, H, T_tgt, T_tgt), "cross": (B, H, T_tgt, T_src)})``.
        """
        check_input("x", x, self.d_model)
        check_input("memory", memory, self.d_model)
        if memory.size(0) != x.size(0):
            raise ValueError(
                f"`x` {tuple(x.shape)} y `memory` {tuple(memory.shape)} deben tener el mismo tamaño de lote B."
            )
        weights: dict[str, Tensor] | None = {} if return_attention else None
        x = self._residual(x, self.norm1, lambda h: self._attend(self.self_attn, h, h, tgt_mask, weights, "self"))
        x = self._residual(
            x, self.norm2, lambda h: self._attend(self.cross_attn, h, memory, src_mask, weights, "cross")
        )
        x = self._residual(x, self.norm3, self.feed_forward)
        return (x, weights) if return_attention else x

    def start_cache(self, memory: Tensor) -> LayerCache:
        """La caché vacía de esta capa: proyecta una sola vez las claves y los valores de ``memory (N, T_src, D)``."""
        check_input("memory", memory, self.d_model)
        return LayerCache.empty(*self.cross_attn.keys_values(memory, memory))  # (N, H, T_src, d_k) cada uno

    def step(self, x: Tensor, cache: LayerCache, src_mask: Tensor | None = None) -> Tensor:
        """Un paso incremental: ``x (N, 1, D)``, la entrada de la posición nueva → ``(N, 1, D)``.

        Las mismas subcapas que :meth:`forward`, pero la consulta nueva atiende a las claves
        guardadas en ``cache`` más la suya, que se añade a ``cache``. ``src_mask`` es difundible
        a ``(N, H, 1, T_src)``.
        """
        check_input("x", x, self.d_model)
        if x.size(1) != 1:
            raise ValueError(f"`x` debe ser una sola posición (N, 1, d_model); recibí {tuple(x.shape)}.")
        x = self._residual(x, self.norm1, lambda h: self._self_attend_step(h, cache))
        x = self._residual(x, self.norm2, lambda h: self.cross_attn.attend(h, cache.cross_k, cache.cross_v, src_mask))
        return self._residual(x, self.norm3, self.feed_forward)

    def _self_attend_step(self, h: Tensor, cache: LayerCache) -> Tensor:
        """Autoatención de la posición nueva ``h (N, 1, D)`` sobre ella misma y las anteriores."""
        k, v = cache.append(*self.self_attn.keys_values(h, h))  # (N, H, t + 1, d_k) cada uno
        # Sin máscara: todas las posiciones guardadas son anteriores (o la misma), así que son visibles.
        return self.self_attn.attend(h, k, v)  # (N, 1, D)


def disable_cache_if_redefined(cls: type, methods: tuple[str, ...]) -> None:
    """Si la subclase ``cls`` redefine alguno de ``methods`` sin declarar ``supports_incremental_decoding``,
    la pone a ``False``: la caché solo se usa cuando se sabe que da lo mismo."""
    if "supports_incremental_decoding" not in vars(cls) and any(name in vars(cls) for name in methods):
        cls.supports_incremental_decoding = False
