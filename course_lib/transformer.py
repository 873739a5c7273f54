"""El Transformer completo y su configuración (cuaderno 06).

    Transformer:   embeddings + posición → N codificadores → N decodificadores → Linear → logits

(Vaswani et al., 2017, sección 3.1 y figura 1). El modelo se describe una sola vez, con
:class:`TransformerConfig` (como ``GPTConfig`` en nanoGPT): ``Transformer.from_config(config)``
lo construye y ``model.config`` es lo que se guarda en los puntos de control para reconstruirlo.
Con ``norm_first=True`` (*pre-LN*) el codificador y el decodificador terminan con una
``LayerNorm`` más.

Formas: ``B`` lote, ``T_src``/``T_tgt`` longitudes de origen y destino, ``D`` = ``d_model``,
``H`` cabezas, ``V`` tamaño del vocabulario de destino. Máscaras booleanas (``True`` = puede
atender): ``src_mask (B, 1, 1, T_src)`` y ``tgt_mask (B, 1, T_tgt, T_tgt)``, como en
:mod:`course_lib.masks`.

**Decodificación incremental.** Al generar, :meth:`Transformer.start_decoding` proyecta una
sola vez las claves y los valores de la atención cruzada y :meth:`Transformer.decode_step`
procesa solo el token nuevo, con :meth:`DecoderLayer.step` y la caché de
:mod:`course_lib.kv_cache`. Da lo mismo que :meth:`Transformer.decode` en la última posición
(salvo el redondeo), pero cada paso pasa por las capas una sola posición en vez de todo el prefijo.

Este módulo reexporta, con el mismo nombre, las capas (:mod:`course_lib.transformer_layers`:
``FeedForward``, ``EncoderLayer``, ``DecoderLayer``) y las referencias para las pruebas
(:mod:`course_lib.transformer_reference`: ``as_torch_encoder_layer``,
``as_torch_decoder_layer``, ``count_parameters``, ``expected_parameter_count``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from course_lib.kv_cache import DecoderCache, LayerCache
from course_lib.masks import causal_mask, decoder_mask, padding_mask
from course_lib.positional import PositionalEncoding, TokenEmbedding
from course_lib.transformer_layers import (
    DecoderLayer,
    EncoderLayer,
    FeedForward,
    check_dropout,
    check_input,
    check_positive_int,
    disable_cache_if_redefined,
)
from course_lib.transformer_reference import (
    as_torch_decoder_layer,
    as_torch_encoder_layer,
    count_parameters,
    expected_parameter_count,
)


@dataclass(frozen=True)
class TransformerConfig:
    """Todo lo que define un :class:`Transformer`. Los valores por defecto son los del modelo base del artículo.

    ``Transformer.from_config(config)`` construye el modelo; ``dataclasses.asdict(model.config)``
    es lo que se guarda para reconstruirlo (:mod:`course_lib.translator`). Es inmutable: para
    otra variante, ``dataclasses.replace(config, d_model=…)``.
    """

    src_vocab: int  # tamaño del vocabulario de origen
    tgt_vocab: int  # tamaño del vocabulario de destino, V
    d_model: int = 512  # tamaño D de todos los vectores del modelo base (tabla 3 del artículo)
    n_heads: int = 8  # 8 cabezas de d_k = 512 / 8 = 64: el mismo coste que una sola de 512 (sección 3.2.2)
    n_layers: int = 6  # 6 capas en el codificador y otras 6 en el decodificador (sección 3.1)
    d_ff: int = 2048  # capa oculta de la red prealimentada, 4·d_model (sección 3.3)
    dropout: float = 0.1  # P_drop del modelo base (sección 5.4); en modo eval() no actúa
    norm_first: bool = False  # post-LN como el artículo; True = pre-LN, estable sin calentamiento largo (cuaderno 06)
    max_len: int = 512  # filas de la tabla de posiciones: de sobra para una frase
    pad_id: int = 0  # el relleno; con él se construyen las máscaras que no se pasen
    share_embeddings: bool = False  # True = una matriz para origen, destino y salida (exige src_vocab == tgt_vocab)

    def __post_init__(self) -> None:
        for name in ("src_vocab", "tgt_vocab", "d_model", "n_heads", "n_layers", "d_ff", "max_len"):
            check_positive_int(name, getattr(self, name))
        if self.d_model % self.n_heads != 0:
            raise ValueError(
                f"d_model={self.d_model} no es divisible entre n_heads={self.n_heads}: cada cabeza "
                f"necesita d_k = d_model / n_heads entero (prueba con n_heads divisor de {self.d_model})."
            )
        check_dropout(self.dropout)
        if not isinstance(self.pad_id, int) or isinstance(self.pad_id, bool) or self.pad_id < 0:
            raise ValueError(
                f"`pad_id` debe ser un entero no negativo (un índice del vocabulario); recibí {self.pad_id!r}."
            )
        for name in ("norm_first", "share_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` debe ser True o False; recibí {getattr(self, name)!r}.")
        if self.share_embeddings and self.src_vocab != self.tgt_vocab:
            raise ValueError(
                f"`share_embeddings=True` necesita un vocabulario común, pero src_vocab={self.src_vocab} y "
                f"tgt_vocab={self.tgt_vocab}. Usa un tokenizador compartido o share_embeddings=False."
            )


class Transformer(nn.Module):
    """El Transformer codificador–decodificador para traducir (cuaderno 06).

    Se construye con los campos de :class:`TransformerConfig`, sueltos o juntos::

        Transformer(src_vocab, tgt_vocab, d_model=64, n_heads=4, n_layers=2, d_ff=256)
        Transformer.from_config(TransformerConfig(src_vocab, tgt_vocab, d_model=64))

    y los guarda en ``model.config``. Con ``norm_first=True`` (pre-LN) el codificador y el
    decodificador terminan con una ``LayerNorm``; con ``share_embeddings=True`` los embeddings de
    origen y de destino y la proyección de salida son una sola matriz, como en el artículo.
    """

    supports_incremental_decoding: ClassVar[bool] = True
    """:meth:`decode_step` da lo mismo que :meth:`decode`. Una subclase que redefine ``decode``,
    ``decode_step`` o ``start_decoding`` pasa a ``False`` salvo que lo declare ella."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        disable_cache_if_redefined(cls, ("decode", "decode_step", "start_decoding"))

    def __init__(self, *args: Any, config: TransformerConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        if config is None:
            config = TransformerConfig(*args, **kwargs)
        elif args or kwargs:
            raise TypeError(
                "Pasa `config` o los argumentos sueltos (src_vocab, tgt_vocab, d_model…), no las dos cosas."
            )
        elif not isinstance(config, TransformerConfig):
            raise TypeError(f"`config` debe ser un `TransformerConfig`; recibí {type(config).__name__}.")
        c = self.config = config
        self.d_model, self.pad_id, self.norm_first = c.d_model, c.pad_id, c.norm_first
        self.src_embed = TokenEmbedding(c.src_vocab, c.d_model)
        self.tgt_embed = self.src_embed if c.share_embeddings else TokenEmbedding(c.tgt_vocab, c.d_model)
        self.positional = PositionalEncoding(c.d_model, c.max_len, c.dropout)
        self.encoder_layers = nn.ModuleList(
            EncoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout, c.norm_first) for _ in range(c.n_layers)
        )
        self.decoder_layers = nn.ModuleList(
            DecoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout, c.norm_first) for _ in range(c.n_layers)
        )
        self.encoder_norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.decoder_norm = nn.LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.generator = nn.Linear(c.d_model, c.tgt_vocab)
        self._init_weights()
        if c.share_embeddings:
            self.generator.weight = self.tgt_embed.embedding.weight  # (V, D): la misma matriz

    @classmethod
    def from_config(cls, config: TransformerConfig) -> Transformer:
        """El modelo que describe ``config`` (con pesos iniciales nuevos)."""
        return cls(config=config)

    def _init_weights(self) -> None:
        """Xavier uniforme en las matrices de las capas (como ``nn.Transformer``); los embeddings,
        N(0, 1/d_model) (véase :class:`course_lib.positional.TokenEmbedding`)."""
        for layer in [*self.encoder_layers, *self.decoder_layers, self.generator]:
            for name, p in layer.named_parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
                elif name.endswith("bias"):
                    nn.init.zeros_(p)

    def src_mask(self, src: Tensor) -> Tensor:
        """Máscara de relleno del origen ``(B, 1, 1, T_src)``."""
        return padding_mask(src, self.pad_id)

    def tgt_mask(self, tgt: Tensor) -> Tensor:
        """Máscara causal y de relleno del destino ``(B, 1, T_tgt, T_tgt)``."""
        return decoder_mask(tgt, self.pad_id)

    def encode(self, src: Tensor, src_mask: Tensor | None = None) -> Tensor:
        """``src (B, T_src)`` de enteros → ``memory (B, T_src, D)``."""
        if src_mask is None:
            src_mask = self.src_mask(src)
        x = self.positional(self.src_embed(src))  # (B, T_src, D)
        for layer in self.encoder_layers:
            x = layer(x, src_mask)
        return self.encoder_norm(x)

    def decode(
        self,
        tgt: Tensor,
        memory: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        *,
        last_only: bool = False,
    ) -> Tensor:
        """``tgt (B, T_tgt)``, ``memory (B, T_src, D)`` → logits ``(B, T_tgt, V)``.

        Sin ``tgt_mask`` se usa la causal con relleno; sin ``src_mask``, ninguna (todas las
        posiciones de ``memory`` visibles): pásala si el origen tiene relleno. Con
        ``last_only=True`` solo la última posición pasa por la norma final y la proyección al
        vocabulario, y se devuelve ``(B, 1, V)``: es lo único que hace falta al generar, y con un
        vocabulario grande la proyección ``D → V`` es de lo más caro del decodificador.
        """
        if tgt_mask is None:
            tgt_mask = self.tgt_mask(tgt) if tgt.dim() == 2 else causal_mask(tgt.size(1))
        y = self.positional(self.tgt_embed(tgt))  # (B, T_tgt, D)
        for layer in self.decoder_layers:
            y = layer(y, memory, src_mask, tgt_mask)
        if last_only:
            y = y[:, -1:]  # (B, 1, D)
        return self.generator(self.decoder_norm(y))  # (B, T_tgt, V), o (B, 1, V)

    def forward(
        self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None
    ) -> Tensor:
        """``src (B, T_src)``, ``tgt (B, T_tgt)`` → logits ``(B, T_tgt, V)``; sin máscaras, las de ``pad_id``."""
        if src_mask is None:
            src_mask = self.src_mask(src)
        return self.decode(tgt, self.encode(src, src_mask), src_mask, tgt_mask)

    # --- Generar token a token (cuaderno 07) ----------------------------------------------------------

    def can_decode_incrementally(self) -> bool:
        """``True`` si :meth:`decode_step` da lo mismo que :meth:`decode` para este modelo.

        Lo es si el modelo y todas sus capas del decodificador lo declaran con
        ``supports_incremental_decoding`` (una capa que no sea una :class:`DecoderLayer`, o una
        subclase que cambie cómo se calcula, no lo declara). Si no, :mod:`course_lib.decode`
        vuelve a pasar el prefijo entero en cada paso.
        """
        layers_can = all(getattr(layer, "supports_incremental_decoding", False) for layer in self.decoder_layers)
        return self.supports_incremental_decoding and layers_can

    def start_decoding(self, memory: Tensor, src_mask: Tensor | None = None, *, group: int = 1) -> DecoderCache:
        """Prepara la decodificación incremental de ``memory (B, T_src, D)``.

        Calcula una sola vez las claves y los valores de la atención cruzada de cada capa. Con
        ``group = k > 1`` cada frase se repite ``k`` veces (fila ``b·k + i``, como en la búsqueda
        en haz) tras la proyección, así que la caché tiene ``N = B·k`` filas.

        Args:
            memory: salida de :meth:`encode`, ``(B, T_src, D)``.
            src_mask: máscara de relleno del origen ``(B, 1, 1, T_src)``, o ``None``.
            group: filas por frase de origen (``beam_size``).

        Returns:
            Un :class:`course_lib.kv_cache.DecoderCache` vacío (``length = 0``) para :meth:`decode_step`.
        """
        check_positive_int("group", group)
        check_input("memory", memory, self.d_model)
        layers = [layer.start_cache(memory) for layer in self.decoder_layers]  # (B, H, T_src, d_k) cruzadas
        return DecoderCache.start(layers, src_mask, group)

    def decode_step(self, tokens: Tensor, cache: DecoderCache) -> Tensor:
        """Un paso de la decodificación incremental: el último token de cada fila → logits del siguiente.

        Con ``t = cache.length`` tokens ya procesados, ``tokens (N,)`` son los de la posición
        ``t``; devuelve los logits ``(N, V)`` que :meth:`decode` daría en esa posición para el
        prefijo completo (con la máscara causal) y añade a ``cache`` las claves y los valores
        nuevos. El primer paso recibe ``<sos>``.
        """
        if not isinstance(tokens, Tensor) or tokens.dim() != 1 or tokens.numel() != cache.rows:
            shape = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
            raise ValueError(f"`tokens` debe tener forma (N,) = ({cache.rows},); recibí {shape}.")
        if len(cache.layers) != len(self.decoder_layers):
            raise ValueError("`cache` no es de este modelo: tiene otro número de capas. Créala con start_decoding.")
        y = self.positional(self.tgt_embed(tokens[:, None]), offset=cache.length)  # (N, 1, D), en la posición t
        for layer, layer_cache in zip(self.decoder_layers, cache.layers, strict=True):
            y = layer.step(y, layer_cache, cache.src_mask)  # (N, 1, D)
        cache.length += 1
        return self.generator(self.decoder_norm(y[:, 0]))  # (N, V)

    # --- Pesos de atención para las figuras ---------------------------------------------------------

    @torch.no_grad()
    def attention_maps(self, src: Tensor, tgt: Tensor) -> dict[str, list[Tensor]]:
        """Pesos de atención de cada capa para un lote, en modo evaluación.

        Es el mismo recorrido que :meth:`forward`, pero pidiendo a cada capa sus pesos
        (``return_attention=True``).

        Returns:
            ``{"encoder": [...], "decoder": [...], "cross": [...]}``, una entrada por capa, con
            formas ``(B, H, T_src, T_src)``, ``(B, H, T_tgt, T_tgt)`` y ``(B, H, T_tgt, T_src)``.
        """
        was_training = self.training
        self.eval()
        maps: dict[str, list[Tensor]] = {"encoder": [], "decoder": [], "cross": []}
        try:
            src_mask, tgt_mask = self.src_mask(src), self.tgt_mask(tgt)
            x = self.positional(self.src_embed(src))  # (B, T_src, D)
            for layer in self.encoder_layers:
                x, weights = layer(x, src_mask, return_attention=True)
                maps["encoder"].append(weights["self"])  # (B, H, T_src, T_src)
            memory = self.encoder_norm(x)
            y = self.positional(self.tgt_embed(tgt))  # (B, T_tgt, D)
            for layer in self.decoder_layers:
                y, weights = layer(y, memory, src_mask, tgt_mask, return_attention=True)
                maps["decoder"].append(weights["self"])  # (B, H, T_tgt, T_tgt)
                maps["cross"].append(weights["cross"])  # (B, H, T_tgt, T_src)
        finally:
            self.train(was_training)
        return maps


__all__ = [
    "DecoderCache",
    "DecoderLayer",
    "EncoderLayer",
    "FeedForward",
    "LayerCache",
    "Transformer",
    "TransformerConfig",
    "as_torch_decoder_layer",
    "as_torch_encoder_layer",
    "count_parameters",
    "expected_parameter_count",
]
