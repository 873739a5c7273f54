"""Cómo comprobar un Transformer sin fiarse de su ``forward``: referencias de PyTorch y recuento de parámetros.

- :func:`as_torch_encoder_layer` y :func:`as_torch_decoder_layer` copian los pesos de una capa
  con los nombres de :class:`course_lib.transformer.EncoderLayer` o
  :class:`~course_lib.transformer.DecoderLayer` (la de referencia o la de un alumno) en las
  capas de PyTorch, que sirven de referencia independiente en las pruebas del cuaderno 06.
- :func:`count_parameters` cuenta los parámetros de un modelo y :func:`expected_parameter_count`
  los calcula a mano, pieza a pieza, como en la sección 5 del cuaderno 06.

Se pueden usar también como ``course_lib.transformer.count_parameters``, etc.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.multihead import as_torch_multihead


def count_parameters(model: nn.Module) -> int:
    """Número de parámetros entrenables distintos (una matriz compartida cuenta una vez)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def expected_parameter_count(
    src_vocab: int,
    tgt_vocab: int,
    d_model: int = 512,
    n_layers: int = 6,
    d_ff: int = 2048,
    share_embeddings: bool = False,
) -> int:
    """Parámetros de un :class:`course_lib.transformer.Transformer` post-LN contados a mano (sin LayerNorm final).

    Por capa: atención = 4·(D² + D); red prealimentada = 2·D·d_ff + d_ff + D; cada LayerNorm = 2·D.
    El codificador tiene 1 atención y 2 normas por capa; el decodificador, 2 y 3. Embeddings:
    ``V·D`` una sola vez si se comparten (origen, destino y salida); si no, ``V_src·D`` +
    ``V_tgt·D`` + ``D·V_tgt`` (la proyección de salida). Más el sesgo de la salida, ``V_tgt``.
    """
    D = d_model
    attention = 4 * (D * D + D)
    ffn = 2 * D * d_ff + d_ff + D
    encoder = n_layers * (attention + ffn + 2 * 2 * D)
    decoder = n_layers * (2 * attention + ffn + 3 * 2 * D)
    embeddings = tgt_vocab * D if share_embeddings else (src_vocab + 2 * tgt_vocab) * D
    return encoder + decoder + embeddings + tgt_vocab


def as_torch_encoder_layer(layer: nn.Module, n_heads: int) -> nn.TransformerEncoderLayer:
    """El ``nn.TransformerEncoderLayer(batch_first=True)`` de PyTorch con los pesos de ``layer``, en ``eval()``.

    ``layer`` debe seguir los nombres de :class:`course_lib.transformer.EncoderLayer`. Ojo: en
    las máscaras de PyTorch ``True`` significa «NO puede atender».
    """
    torch_layer = nn.TransformerEncoderLayer(*_sizes(layer, n_heads), **_options(layer)).eval()
    torch_layer.self_attn = as_torch_multihead(layer.self_attn, n_heads)
    _copy_feed_forward_and_norms(torch_layer, layer, norms=2)
    return torch_layer


def as_torch_decoder_layer(layer: nn.Module, n_heads: int) -> nn.TransformerDecoderLayer:
    """El ``nn.TransformerDecoderLayer(batch_first=True)`` de PyTorch con los pesos de ``layer``, en ``eval()``."""
    torch_layer = nn.TransformerDecoderLayer(*_sizes(layer, n_heads), **_options(layer)).eval()
    torch_layer.self_attn = as_torch_multihead(layer.self_attn, n_heads)
    torch_layer.multihead_attn = as_torch_multihead(layer.cross_attn, n_heads)
    _copy_feed_forward_and_norms(torch_layer, layer, norms=3)
    return torch_layer


def _sizes(layer: nn.Module, n_heads: int) -> tuple[int, int, int]:
    """``(d_model, n_heads, d_ff)`` leídos de los pesos de ``layer`` (sea de quien sea la capa)."""
    return layer.norm1.normalized_shape[0], n_heads, layer.feed_forward.W_1.out_features


def _options(layer: nn.Module) -> dict[str, object]:
    """Sin dropout, lote primero y la norma donde la ponga ``layer`` (post-LN si no dice nada)."""
    return {"dropout": 0.0, "batch_first": True, "norm_first": bool(getattr(layer, "norm_first", False))}


def _copy_feed_forward_and_norms(torch_layer: nn.Module, layer: nn.Module, norms: int) -> None:
    with torch.no_grad():
        torch_layer.linear1.load_state_dict(layer.feed_forward.W_1.state_dict())
        torch_layer.linear2.load_state_dict(layer.feed_forward.W_2.state_dict())
        for i in range(1, norms + 1):
            getattr(torch_layer, f"norm{i}").load_state_dict(getattr(layer, f"norm{i}").state_dict())
