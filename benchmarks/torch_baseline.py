"""El par de comparación de los benchmarks: ``torch.nn.Transformer`` con los embeddings, las posiciones y
la salida de course_lib.

Lo usan ``throughput.py`` (velocidad del paso) y ``quality.py`` (calidad con el mismo presupuesto).
Tiene la interfaz que esperan :func:`course_lib.train.fit` (``pad_id``, ``d_model``,
``forward(src, tgt_in)``) y la búsqueda de :mod:`course_lib.decode` (``encode`` y ``decode``,
sin caché: cada paso recalcula el prefijo entero).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from course_lib.positional import PositionalEncoding, TokenEmbedding


class TorchTransformer(nn.Module):
    """``torch.nn.Transformer`` (pre-LN, ``batch_first``) con embeddings compartidos por los dos idiomas y la salida.

    Args:
        vocab: tamaño del vocabulario común.
        d_model, n_heads, n_layers, d_ff, dropout: los de ``nn.Transformer`` (``n_layers`` en cada lado).
        pad_id: identificador del relleno.
        max_len: posiciones de la codificación sinusoidal.
    """

    def __init__(
        self,
        vocab: int,
        d_model: int,
        n_heads: int,
        n_layers: int,
        d_ff: int,
        dropout: float,
        pad_id: int = 0,
        max_len: int = 512,
    ) -> None:
        super().__init__()
        self.pad_id, self.d_model = pad_id, d_model
        self.embed = TokenEmbedding(vocab, d_model)
        self.positional = PositionalEncoding(d_model, max_len, dropout)
        with warnings.catch_warnings():  # «enable_nested_tensor … norm_first»: pre-LN no usa esa vía rápida
            warnings.simplefilter("ignore", UserWarning)
            self.core = nn.Transformer(
                d_model, n_heads, n_layers, n_layers, d_ff, dropout, batch_first=True, norm_first=True
            )
        self.generator = nn.Linear(d_model, vocab)
        self.generator.weight = self.embed.embedding.weight

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        """``src (B, S)``, ``tgt (B, T)`` → logits ``(B, T, V)``."""
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.size(1), device=tgt.device, dtype=torch.bool)
        out = self.core(
            self.positional(self.embed(src)),
            self.positional(self.embed(tgt)),
            tgt_mask=causal,
            src_key_padding_mask=src == self.pad_id,
            tgt_key_padding_mask=tgt == self.pad_id,
            memory_key_padding_mask=src == self.pad_id,
        )
        return self.generator(out)

    def encode(self, src: Tensor, src_mask: Tensor) -> Tensor:
        """``src (B, S)`` y la máscara de course_lib ``(B, 1, 1, S)`` (``True`` = token real) → ``(B, S, D)``."""
        return self.core.encoder(self.positional(self.embed(src)), src_key_padding_mask=~src_mask[:, 0, 0, :])

    def decode(self, tgt: Tensor, memory: Tensor, src_mask: Tensor, tgt_mask: Tensor) -> Tensor:
        """Prefijos ``tgt (B, T)`` → logits ``(B, T, V)``; ``tgt_mask`` es la causal de course_lib ``(1, 1, T, T)``."""
        out = self.core.decoder(
            self.positional(self.embed(tgt)),
            memory,
            tgt_mask=~tgt_mask[0, 0],  # nn.Transformer: True = prohibido
            tgt_key_padding_mask=tgt == self.pad_id,
            memory_key_padding_mask=~src_mask[:, 0, 0, :],
        )
        return self.generator(out)
