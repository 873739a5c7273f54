"""Pruebas de course_lib.transformer y course_lib.mistakes.transformer.

Las referencias independientes son las capas de PyTorch (``nn.TransformerEncoderLayer``,
``nn.TransformerDecoderLayer`` y ``nn.Transformer``) con los pesos copiados **aquí**, a mano,
un recuento de parámetros hecho a mano y propiedades que no dependen de la implementación
(causalidad, indiferencia al relleno); nunca la salida de la propia biblioteca.
"""

from __future__ import annotations

import pkgutil
from dataclasses import asdict, astuple

import pytest
import torch
from torch import nn

import course_lib
from course_lib import checks, transformer
from course_lib.mistakes import forbidden
from course_lib.mistakes import transformer as known
from course_lib.multihead import MultiHeadAttention
from course_lib.positional import TokenEmbedding
from course_lib.transformer import (
    DecoderLayer,
    EncoderLayer,
    FeedForward,
    Transformer,
    TransformerConfig,
    count_parameters,
    expected_parameter_count,
)

ATOL = 1e-5
RTOL = 1e-4


# --- Copias a mano en las capas de PyTorch -------------------------------------------------------


def copy_attention(ours: MultiHeadAttention, theirs: nn.MultiheadAttention) -> None:
    """W_q, W_k y W_v apiladas en ``in_proj``; W_o en ``out_proj``."""
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        theirs.out_proj.bias.copy_(ours.W_o.bias)


def copy_common(ours: nn.Module, theirs: nn.Module, norms: int) -> None:
    with torch.no_grad():
        theirs.linear1.weight.copy_(ours.feed_forward.W_1.weight)
        theirs.linear1.bias.copy_(ours.feed_forward.W_1.bias)
        theirs.linear2.weight.copy_(ours.feed_forward.W_2.weight)
        theirs.linear2.bias.copy_(ours.feed_forward.W_2.bias)
        for i in range(1, norms + 1):
            getattr(theirs, f"norm{i}").weight.copy_(getattr(ours, f"norm{i}").weight)
            getattr(theirs, f"norm{i}").bias.copy_(getattr(ours, f"norm{i}").bias)


def torch_encoder_twin(layer: EncoderLayer, n_heads: int) -> nn.TransformerEncoderLayer:
    d_model, d_ff = layer.d_model, layer.feed_forward.W_1.out_features
    twin = nn.TransformerEncoderLayer(
        d_model, n_heads, d_ff, dropout=0.0, batch_first=True, norm_first=layer.norm_first
    ).eval()
    copy_attention(layer.self_attn, twin.self_attn)
    copy_common(layer, twin, norms=2)
    return twin


def torch_decoder_twin(layer: DecoderLayer, n_heads: int) -> nn.TransformerDecoderLayer:
    d_model, d_ff = layer.d_model, layer.feed_forward.W_1.out_features
    twin = nn.TransformerDecoderLayer(
        d_model, n_heads, d_ff, dropout=0.0, batch_first=True, norm_first=layer.norm_first
    ).eval()
    copy_attention(layer.self_attn, twin.self_attn)
    copy_attention(layer.cross_attn, twin.multihead_attn)
    copy_common(layer, twin, norms=3)
    return twin


def perturb(module: nn.Module, scale: float = 0.1) -> None:
    """Pesos distintos de los iniciales (γ y β de las normas incluidos), para que todo cuente."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))


def keep_mask(lengths: list[int], T: int) -> torch.Tensor:
    """``(B, T)``: True en los tokens reales (relleno a la derecha)."""
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]


def future(T: int) -> torch.Tensor:
    """Máscara causal con el convenio de PyTorch: True = NO puede atender."""
    return torch.ones(T, T, dtype=torch.bool).triu(1)


# --- `FeedForward` -----------------------------------------------------------------------------------


def test_feed_forward_matches_formula():
    """W_2(ReLU(W_1 x + b_1)) + b_2, calculado a mano."""
    ffn = FeedForward(6, 10, dropout=0.3).eval()
    x = torch.randn(2, 4, 6)
    expected = torch.relu(x @ ffn.W_1.weight.T + ffn.W_1.bias) @ ffn.W_2.weight.T + ffn.W_2.bias
    torch.testing.assert_close(ffn(x), expected, atol=ATOL, rtol=RTOL)


def test_feed_forward_is_position_wise():
    """Cada posición se transforma sola: aplicarla token a token da lo mismo."""
    ffn = FeedForward(8, 16, dropout=0.0)
    x = torch.randn(3, 5, 8)
    by_token = torch.cat([ffn(x[:, t : t + 1]) for t in range(5)], dim=1)
    torch.testing.assert_close(ffn(x), by_token, atol=ATOL, rtol=RTOL)


def test_feed_forward_dropout_only_in_training():
    ffn = FeedForward(8, 64, dropout=0.5)
    x = torch.randn(2, 3, 8)
    assert not torch.allclose(ffn(x), ffn(x)), "en entrenamiento el dropout debe cambiar la salida"
    ffn.eval()
    torch.testing.assert_close(ffn(x), ffn(x))


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: FeedForward(0, 4), "`d_model` debe ser un entero positivo"),
        (lambda: FeedForward(4, 2.5), "`d_ff` debe ser un entero positivo"),
        (lambda: FeedForward(4, 8, dropout=1.0), "`dropout` debe ser un número en [0, 1)"),
    ],
)
def test_feed_forward_constructor_errors(make, fragment):
    with pytest.raises(ValueError) as info:
        make()
    assert fragment in str(info.value)


def test_feed_forward_input_errors():
    ffn = FeedForward(4, 8)
    with pytest.raises(ValueError, match=r"\(B, T, d_model=4\); recibí \(2, 3, 5\)"):
        ffn(torch.randn(2, 3, 5))
    with pytest.raises(TypeError, match="debe ser un torch.Tensor"):
        ffn([[1.0, 2.0, 3.0, 4.0]])


# --- `EncoderLayer` y `DecoderLayer` frente a PyTorch --------------------------------------------------

ENCODER_CASES = [  # (d_model, n_heads, d_ff, `lengths`, T)
    (16, 4, 32, [6, 4], 6),
    (8, 2, 12, [1], 1),
    (12, 3, 20, [7, 2, 5], 7),
    (10, 1, 7, None, 4),
]


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize(("d_model", "n_heads", "d_ff", "lengths", "T"), ENCODER_CASES)
def test_encoder_layer_matches_torch(d_model, n_heads, d_ff, lengths, T, norm_first):
    """Igual que nn.TransformerEncoderLayer con los mismos pesos, con y sin relleno."""
    layer = EncoderLayer(d_model, n_heads, d_ff, dropout=0.1, norm_first=norm_first).eval()
    perturb(layer)
    B = len(lengths) if lengths else 2
    x = torch.randn(B, T, d_model)
    keep = keep_mask(lengths, T) if lengths else None
    with torch.no_grad():
        ours = layer(x, None if keep is None else keep[:, None, None, :])
        theirs = torch_encoder_twin(layer, n_heads)(x, src_key_padding_mask=None if keep is None else ~keep)
        helper = transformer.as_torch_encoder_layer(layer, n_heads)(
            x, src_key_padding_mask=None if keep is None else ~keep
        )
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(helper, theirs, atol=ATOL, rtol=RTOL)


DECODER_CASES = [  # (d_model, n_heads, d_ff, src_lengths, T_tgt, T_src)
    (16, 4, 32, [7, 3], 5, 7),
    (8, 2, 12, [1], 1, 1),
    (12, 3, 20, [6, 2, 4], 4, 6),
    (10, 1, 7, [3, 3], 6, 3),
]


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize(("d_model", "n_heads", "d_ff", "src_lengths", "T_tgt", "T_src"), DECODER_CASES)
def test_decoder_layer_matches_torch(d_model, n_heads, d_ff, src_lengths, T_tgt, T_src, norm_first):
    """Igual que nn.TransformerDecoderLayer con máscara causal y relleno en el origen."""
    layer = DecoderLayer(d_model, n_heads, d_ff, dropout=0.1, norm_first=norm_first).eval()
    perturb(layer)
    B = len(src_lengths)
    x, memory = torch.randn(B, T_tgt, d_model), torch.randn(B, T_src, d_model)
    keep = keep_mask(src_lengths, T_src)
    causal = torch.ones(T_tgt, T_tgt, dtype=torch.bool).tril()[None, None]
    with torch.no_grad():
        ours = layer(x, memory, keep[:, None, None, :], causal)
        theirs = torch_decoder_twin(layer, n_heads)(x, memory, tgt_mask=future(T_tgt), memory_key_padding_mask=~keep)
        helper = transformer.as_torch_decoder_layer(layer, n_heads)(
            x, memory, tgt_mask=future(T_tgt), memory_key_padding_mask=~keep
        )
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(helper, theirs, atol=ATOL, rtol=RTOL)


def test_post_ln_and_pre_ln_differ():
    """norm_first cambia de verdad la cuenta (si no, las pruebas de pre-LN no probarían nada)."""
    torch.manual_seed(0)
    post = EncoderLayer(8, 2, 16, dropout=0.0)
    pre = EncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    pre.load_state_dict(post.state_dict())
    x = torch.randn(2, 3, 8)
    assert not torch.allclose(post(x), pre(x), atol=1e-3)


def test_decoder_layer_is_causal():
    """Cambiar las posiciones posteriores a t no cambia la salida hasta t."""
    layer = DecoderLayer(12, 3, 24, dropout=0.0).eval()
    x, memory = torch.randn(2, 6, 12), torch.randn(2, 4, 12)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()[None, None]
    with torch.no_grad():
        out = layer(x, memory, None, causal)
        for t in range(5):
            changed = x.clone()
            changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :])
            torch.testing.assert_close(layer(changed, memory, None, causal)[:, : t + 1], out[:, : t + 1])


def test_encoder_and_decoder_ignore_padding_content():
    """El contenido de las posiciones de relleno no influye en los tokens reales."""
    keep = keep_mask([5, 2], 5)
    x = torch.randn(2, 5, 8)
    noisy = x.clone()
    noisy[~keep] = 10 * torch.randn_like(noisy[~keep])
    encoder = EncoderLayer(8, 2, 16, dropout=0.0).eval()
    decoder = DecoderLayer(8, 2, 16, dropout=0.0).eval()
    y = torch.randn(2, 3, 8)
    with torch.no_grad():
        torch.testing.assert_close(
            encoder(noisy, keep[:, None, None, :])[keep], encoder(x, keep[:, None, None, :])[keep]
        )
        torch.testing.assert_close(decoder(y, noisy, keep[:, None, None, :]), decoder(y, x, keep[:, None, None, :]))


def test_layers_dropout_only_in_training():
    layer = DecoderLayer(8, 2, 16, dropout=0.5)
    x, memory = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    assert not torch.allclose(layer(x, memory), layer(x, memory))
    layer.eval()
    torch.testing.assert_close(layer(x, memory), layer(x, memory))


def test_layer_structure_names():
    """Los nombres del contrato: las pruebas del cuaderno y as_torch_* dependen de ellos."""
    encoder, decoder = EncoderLayer(8, 2, 16), DecoderLayer(8, 2, 16)
    for layer in (encoder, decoder):
        assert isinstance(layer.self_attn, MultiHeadAttention)
        assert isinstance(layer.feed_forward, FeedForward)
        assert isinstance(layer.dropout, nn.Dropout)
        assert layer.norm_first is False
    assert isinstance(decoder.cross_attn, MultiHeadAttention) and decoder.cross_attn is not decoder.self_attn
    names = [f"norm{i}" for i in (1, 2, 3)]
    assert all(isinstance(getattr(decoder, n), nn.LayerNorm) for n in names)
    assert not hasattr(encoder, "norm3")


def test_layer_errors_in_spanish():
    decoder = DecoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match="mismo tamaño de lote B"):
        decoder(torch.randn(2, 3, 8), torch.randn(3, 4, 8))
    with pytest.raises(ValueError, match=r"`memory` debe tener forma \(B, T, d_model=8\)"):
        decoder(torch.randn(2, 3, 8), torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match="`dropout` debe ser un número en"):
        EncoderLayer(8, 2, 16, dropout=-0.1)
    with pytest.raises(ValueError, match="no es divisible entre n_heads=3"):
        EncoderLayer(8, 3, 16)


# --- Transformer -------------------------------------------------------------------------------------


def torch_model_logits(model: Transformer, n_heads: int, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Los logits con nn.Transformer de PyTorch, con las capas del modelo copiadas a mano."""
    layers = len(model.encoder_layers)
    d_ff = model.encoder_layers[0].feed_forward.W_1.out_features
    twin = nn.Transformer(
        model.d_model,
        n_heads,
        layers,
        layers,
        d_ff,
        dropout=0.0,
        batch_first=True,
        norm_first=model.norm_first,
    ).eval()
    twin.encoder.use_nested_tensor = False  # el camino rápido de PyTorch con tensores anidados no hace falta aquí
    for ours, theirs in zip(model.encoder_layers, twin.encoder.layers, strict=True):
        copy_attention(ours.self_attn, theirs.self_attn)
        copy_common(ours, theirs, norms=2)
    for ours, theirs in zip(model.decoder_layers, twin.decoder.layers, strict=True):
        copy_attention(ours.self_attn, theirs.self_attn)
        copy_attention(ours.cross_attn, theirs.multihead_attn)
        copy_common(ours, theirs, norms=3)
    if model.norm_first:
        twin.encoder.norm.load_state_dict(model.encoder_norm.state_dict())
        twin.decoder.norm.load_state_dict(model.decoder_norm.state_dict())
    else:  # nn.Transformer siempre pone una LayerNorm final; el artículo (post-LN) no la tiene
        twin.encoder.norm, twin.decoder.norm = None, None
    pad = model.pad_id
    with torch.no_grad():
        x = model.positional(model.src_embed(src))
        y = model.positional(model.tgt_embed(tgt))
        out = twin(
            x,
            y,
            tgt_mask=future(tgt.size(1)),
            src_key_padding_mask=src == pad,
            tgt_key_padding_mask=tgt == pad,
            memory_key_padding_mask=src == pad,
        )
        return model.generator(out)


MODEL_CASES = [  # (n_src, n_tgt, d_model, n_heads, n_layers, d_ff, pad_id)
    (11, 13, 16, 2, 2, 24, 0),
    (7, 9, 8, 2, 1, 16, 0),
    (12, 10, 12, 3, 3, 20, 3),
]


def tokens(B: int, T: int, vocab: int, pad_id: int, lengths: list[int], first: int | None = None) -> torch.Tensor:
    out = torch.randint(0, vocab, (B, T))
    out[out == pad_id] = (pad_id + 1) % vocab
    if first is not None:
        out[:, 0] = first
    out[~keep_mask(lengths, T)] = pad_id
    return out


@pytest.mark.filterwarnings("ignore:enable_nested_tensor:UserWarning")
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize(("n_src", "n_tgt", "d_model", "n_heads", "n_layers", "d_ff", "pad_id"), MODEL_CASES)
def test_transformer_matches_torch(n_src, n_tgt, d_model, n_heads, n_layers, d_ff, pad_id, norm_first):
    """Los logits de `forward` coinciden con nn.Transformer (mismos pesos, mismas máscaras)."""
    torch.manual_seed(0)
    model = Transformer(
        n_src, n_tgt, d_model, n_heads, n_layers, d_ff, dropout=0.1, norm_first=norm_first, pad_id=pad_id
    ).eval()
    perturb(model)
    src = tokens(3, 6, n_src, pad_id, [6, 2, 4])
    tgt = tokens(3, 5, n_tgt, pad_id, [5, 5, 2], first=1)
    expected = torch_model_logits(model, n_heads, src, tgt)
    with torch.no_grad():
        logits = model(src, tgt)
        memory = model.encode(src)
        decoded = model.decode(tgt, memory, model.src_mask(src))
        helper = known.torch_reference_logits(model, src, tgt, n_heads)
    assert logits.shape == (3, 5, n_tgt)
    assert memory.shape == (3, 6, d_model)
    torch.testing.assert_close(logits, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(decoded, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(helper, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_transformer_is_causal(norm_first):
    """Los logits de la posición t no cambian si cambian los tokens de destino posteriores."""
    model = Transformer(11, 13, 16, 2, 2, 24, norm_first=norm_first).eval()
    src, tgt = torch.tensor([[4, 5, 6, 7]]), torch.tensor([[1, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        full = model(src, tgt)
        for t in range(tgt.size(1) - 1):
            changed = tgt.clone()
            changed[:, t + 1 :] = torch.randint(4, 13, (1, tgt.size(1) - t - 1))
            torch.testing.assert_close(model(src, changed)[:, : t + 1], full[:, : t + 1])


@pytest.mark.parametrize("pad_id", [0, 3])
def test_transformer_ignores_source_padding(pad_id):
    """Una frase da los mismos logits sola que en un lote donde lleva relleno."""
    model = Transformer(12, 10, 12, 3, 2, 20, pad_id=pad_id).eval()
    sentence, prefix = torch.tensor([[4, 6, 8, 9]]), torch.tensor([[1, 5, 7]])
    with torch.no_grad():
        alone = model(sentence, prefix)
        for extra in (1, 3):
            src = torch.cat(
                [torch.cat([sentence, torch.full((1, extra), pad_id)], dim=1), torch.randint(4, 12, (1, 4 + extra))]
            )
            tgt = torch.cat([prefix, torch.tensor([[1, 8, 9]])])
            torch.testing.assert_close(model(src, tgt)[:1], alone)


def test_expected_parameter_count_by_hand():
    """src_vocab=3, tgt_vocab=4, D=2, 1 capa, d_ff=3: 49 + 77 + 22 + 4 = 152, contado a mano."""
    # atención 4·(2·2 + 2) = 24; red 2·2·3 + 3 + 2 = 17; LayerNorm 2·2 = 4
    # codificador 24 + 17 + 2·4 = 49; decodificador 2·24 + 17 + 3·4 = 77
    # embeddings (3 + 4) · 2 + salida 4 · 2 = 22; sesgo de la salida 4
    assert expected_parameter_count(3, 4, d_model=2, n_layers=1, d_ff=3) == 152
    model = Transformer(3, 4, d_model=2, n_heads=1, n_layers=1, d_ff=3)
    assert count_parameters(model) == 152


@pytest.mark.parametrize("share", [False, True])
@pytest.mark.parametrize(("vocab", "d_model", "n_heads", "n_layers", "d_ff"), [(50, 16, 2, 2, 24), (30, 12, 3, 3, 8)])
def test_count_parameters_matches_formula(vocab, d_model, n_heads, n_layers, d_ff, share):
    model = Transformer(vocab, vocab, d_model, n_heads, n_layers, d_ff, share_embeddings=share)
    assert count_parameters(model) == expected_parameter_count(vocab, vocab, d_model, n_layers, d_ff, share)
    by_hand = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    assert count_parameters(model) == by_hand


def test_pre_ln_adds_two_final_norms():
    model = Transformer(20, 20, 16, 2, 2, 24, norm_first=True)
    assert isinstance(model.encoder_norm, nn.LayerNorm) and isinstance(model.decoder_norm, nn.LayerNorm)
    assert count_parameters(model) == expected_parameter_count(20, 20, 16, 2, 24) + 4 * 16
    post = Transformer(20, 20, 16, 2, 2, 24)
    assert isinstance(post.encoder_norm, nn.Identity) and isinstance(post.decoder_norm, nn.Identity)


def test_base_model_parameter_count():
    """El modelo base del artículo con un vocabulario común de 37 000 y embeddings compartidos: ≈ 63 M."""
    model = Transformer(37_000, 37_000, share_embeddings=True)
    assert count_parameters(model) == expected_parameter_count(37_000, 37_000, share_embeddings=True) == 63_119_496


def test_share_embeddings_ties_one_matrix():
    model = Transformer(15, 15, 8, 2, 1, 16, share_embeddings=True)
    assert model.tgt_embed is model.src_embed
    assert model.generator.weight is model.src_embed.embedding.weight
    loss = model(torch.tensor([[4, 5]]), torch.tensor([[1, 6, 7]])).sum()
    loss.backward()
    assert model.src_embed.embedding.weight.grad is not None
    separate = Transformer(15, 15, 8, 2, 1, 16)
    assert separate.tgt_embed is not separate.src_embed
    assert separate.generator.weight is not separate.tgt_embed.embedding.weight


def test_transformer_structure_and_types():
    model = Transformer(11, 13, 16, 2, 3, 24, pad_id=5)
    assert isinstance(model.src_embed, TokenEmbedding) and isinstance(model.tgt_embed, TokenEmbedding)
    assert len(model.encoder_layers) == len(model.decoder_layers) == 3
    assert model.generator.weight.shape == (13, 16)
    assert model.pad_id == 5 and model.d_model == 16
    assert model.src_mask(torch.tensor([[4, 5, 5]])).tolist() == [[[[True, False, False]]]]
    assert model.tgt_mask(torch.tensor([[1, 5]])).shape == (1, 1, 2, 2)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"src_vocab": 10, "tgt_vocab": 12, "share_embeddings": True}, "vocabulario común"),
        ({"src_vocab": 10, "tgt_vocab": 12, "n_layers": 0}, "`n_layers` debe ser un entero positivo"),
        ({"src_vocab": 0, "tgt_vocab": 12}, "`src_vocab` debe ser un entero positivo"),
        ({"src_vocab": 10, "tgt_vocab": 12, "dropout": 2}, "`dropout` debe ser un número en"),
    ],
)
def test_transformer_errors_in_spanish(kwargs, fragment):
    defaults = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16}
    with pytest.raises(ValueError) as info:
        Transformer(**{**defaults, **kwargs})
    assert fragment in str(info.value)


def test_config_describes_the_model_once():
    """Con la configuración, con `config=` o con argumentos sueltos, el mismo modelo; `model.config` lo reconstruye."""
    config = TransformerConfig(11, 13, d_model=16, n_heads=2, n_layers=2, d_ff=24, norm_first=True, pad_id=3)
    model = Transformer.from_config(config)
    loose = Transformer(11, 13, d_model=16, n_heads=2, n_layers=2, d_ff=24, norm_first=True, pad_id=3)
    assert model.config == config and Transformer(config=config).config == config and loose.config == config
    assert (model.d_model, model.pad_id, model.norm_first) == (16, 3, True)
    assert len(model.decoder_layers) == 2 and model.decoder_layers[0].feed_forward.W_1.out_features == 24
    assert isinstance(model.encoder_norm, nn.LayerNorm)
    assert count_parameters(model) == count_parameters(loose)
    rebuilt = Transformer.from_config(TransformerConfig(**asdict(model.config)))
    rebuilt.load_state_dict(model.state_dict())  # lo guardado con asdict basta para reconstruirlo
    base = TransformerConfig(100, 100)
    assert astuple(base)[2:] == (512, 8, 6, 2048, 0.1, False, 512, 0, False), "los valores del modelo base"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"d_model": 10, "n_heads": 3}, "no es divisible entre n_heads=3"),
        ({"pad_id": -1}, "`pad_id` debe ser un entero no negativo"),
        ({"norm_first": "sí"}, "`norm_first` debe ser True o False"),
        ({"max_len": 0}, "`max_len` debe ser un entero positivo"),
        ({"d_ff": 2.5}, "`d_ff` debe ser un entero positivo"),
    ],
)
def test_config_errors_name_the_argument(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        TransformerConfig(10, 12, **kwargs)


def test_config_or_loose_arguments_not_both():
    with pytest.raises(TypeError, match="no las dos cosas"):
        Transformer(10, 12, config=TransformerConfig(10, 12))
    with pytest.raises(TypeError, match="TransformerConfig"):
        Transformer(config={"src_vocab": 10, "tgt_vocab": 12})


def test_transformer_token_errors_in_spanish():
    model = Transformer(10, 12, 8, 2, 1, 16)
    with pytest.raises(ValueError, match=r"deben estar en \[0, vocab_size=10\)"):
        model(torch.tensor([[4, 11]]), torch.tensor([[1]]))
    with pytest.raises(TypeError, match="`tokens`"):
        model(torch.randn(1, 3), torch.tensor([[1]]))


# --- attention_maps ----------------------------------------------------------------------------------


def test_attention_maps_shapes_and_properties():
    model = Transformer(11, 13, 16, 4, 2, 24)
    model.train()
    src = torch.tensor([[4, 5, 6, 7, 8], [4, 5, 0, 0, 0]])  # (B=2, T_src=5)
    tgt = torch.tensor([[1, 6, 7], [1, 8, 9]])  # (B=2, T_tgt=3)
    maps = model.attention_maps(src, tgt)
    assert model.training, "attention_maps debe devolver el modelo al modo en que estaba"
    assert set(maps) == {"encoder", "decoder", "cross"}
    shapes = {"encoder": (2, 4, 5, 5), "decoder": (2, 4, 3, 3), "cross": (2, 4, 3, 5)}
    for name, shape in shapes.items():
        assert len(maps[name]) == 2, "una entrada por capa"
        for weights in maps[name]:
            assert weights.shape == shape
            torch.testing.assert_close(weights.sum(-1), torch.ones(shape[:-1]))
    for weights in maps["decoder"]:
        assert (weights.triu(1) == 0).all(), "la autoatención del decodificador es causal"
    for weights in maps["cross"] + maps["encoder"]:
        assert (weights[1, :, :, 2:] == 0).all(), "nadie atiende al relleno del origen"


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_layers_return_attention_weights_on_request(norm_first):
    """Con `return_attention=True` cada capa devuelve la misma salida y sus pesos, sin guardar nada en la capa."""
    torch.manual_seed(5)
    encoder = EncoderLayer(8, 2, 16, norm_first=norm_first).eval()
    decoder = DecoderLayer(8, 2, 16, norm_first=norm_first).eval()
    perturb(encoder)
    perturb(decoder)
    x, memory = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    src_mask = keep_mask([5, 2], 5)[:, None, None, :]
    tgt_mask = torch.ones(3, 3, dtype=torch.bool).tril()
    with torch.no_grad():
        out, weights = encoder(memory, src_mask, return_attention=True)
        torch.testing.assert_close(out, encoder(memory, src_mask))
        assert set(weights) == {"self"} and weights["self"].shape == (2, 2, 5, 5)
        out, weights = decoder(x, memory, src_mask, tgt_mask, return_attention=True)
        torch.testing.assert_close(out, decoder(x, memory, src_mask, tgt_mask))
    assert weights["self"].shape == (2, 2, 3, 3) and weights["cross"].shape == (2, 2, 3, 5)
    assert (weights["self"].triu(1) == 0).all() and (weights["cross"][1, :, :, 2:] == 0).all()
    before = {name for name, _ in decoder.named_buffers()} | set(vars(decoder))
    decoder(x, memory, src_mask, tgt_mask, return_attention=True)
    assert {name for name, _ in decoder.named_buffers()} | set(vars(decoder)) == before, "la capa no guarda estado"


def test_attention_maps_do_not_change_the_output():
    model = Transformer(11, 13, 16, 4, 2, 24).eval()
    src, tgt = torch.tensor([[4, 5, 6]]), torch.tensor([[1, 6]])
    with torch.no_grad():
        before = model(src, tgt)
    model.attention_maps(src, tgt)
    with torch.no_grad():
        torch.testing.assert_close(model(src, tgt), before)


# --- Decodificación incremental (decode_step con caché) y last_only ----------------------------------


def step_by_step(model: Transformer, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Logits ``(B, T_tgt, V)`` de ``decode_step`` token a token, empezando con la caché vacía."""
    src_mask = model.src_mask(src)
    cache = model.start_decoding(model.encode(src, src_mask), src_mask)
    return torch.stack([model.decode_step(tgt[:, t], cache) for t in range(tgt.size(1))], dim=1)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor:UserWarning")
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
@pytest.mark.parametrize(("n_src", "n_tgt", "d_model", "n_heads", "n_layers", "d_ff", "pad_id"), MODEL_CASES)
def test_decode_step_matches_torch_at_every_position(
    n_src, n_tgt, d_model, n_heads, n_layers, d_ff, pad_id, norm_first
):
    """Paso a paso, con la caché, los logits de cada posición son los de nn.Transformer y los de `decode`."""
    torch.manual_seed(1)
    model = Transformer(
        n_src, n_tgt, d_model, n_heads, n_layers, d_ff, dropout=0.1, norm_first=norm_first, pad_id=pad_id
    ).eval()
    perturb(model)
    src = tokens(3, 6, n_src, pad_id, [6, 2, 4])  # relleno en el origen
    tgt = tokens(3, 5, n_tgt, pad_id, [5, 5, 5], first=1)  # al generar, el destino no lleva relleno
    expected = torch_model_logits(model, n_heads, src, tgt)
    with torch.no_grad():
        incremental = step_by_step(model, src, tgt)
        full = model.decode(tgt, model.encode(src), model.src_mask(src))
    assert incremental.shape == (3, 5, n_tgt)
    torch.testing.assert_close(incremental, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(incremental, full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_decode_last_only_is_the_last_position(norm_first):
    """`last_only=True` da los logits de la última posición, `(B, 1, V)`."""
    torch.manual_seed(2)
    model = Transformer(11, 13, 16, 2, 2, 24, norm_first=norm_first).eval()
    perturb(model)
    src, tgt = tokens(3, 6, 11, 0, [6, 2, 4]), tokens(3, 4, 13, 0, [4, 4, 4], first=1)
    with torch.no_grad():
        memory, src_mask = model.encode(src), model.src_mask(src)
        full = model.decode(tgt, memory, src_mask)
        last = model.decode(tgt, memory, src_mask, last_only=True)
    assert last.shape == (3, 1, 13)
    torch.testing.assert_close(last, full[:, -1:], atol=1e-5, rtol=0)


@pytest.mark.parametrize("rows", [[1, 1, 2, 3, 5, 4], [3, 0, 0, 5, 1, 2]], ids=["en-su-frase", "entre-frases"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_cache_reorder_follows_the_rows(norm_first, rows):
    """Tras `reorder(rows)` la caché sigue como si cada fila hubiera decodificado desde el principio el
    prefijo de `rows[i]`: dentro de la misma frase (como en la búsqueda en haz) y entre frases distintas."""
    torch.manual_seed(3)
    model = Transformer(11, 13, 16, 2, 2, 24, norm_first=norm_first).eval()
    perturb(model)
    k = 2
    src = tokens(3, 5, 11, 0, [5, 2, 3])  # B = 3 frases, k = 2 hipótesis cada una: N = 6 filas
    tgt = tokens(6, 5, 13, 0, [5] * 6, first=1)
    rows = torch.tensor(rows)
    with torch.no_grad():
        src_mask = model.src_mask(src)
        cache = model.start_decoding(model.encode(src, src_mask), src_mask, group=k)
        for t in range(3):
            model.decode_step(tgt[:, t], cache)
        cache.reorder(rows)
        after = torch.stack([model.decode_step(tgt[:, t], cache) for t in range(3, 5)], dim=1)  # (N, 2, V)
        # Lo esperado, sin caché: fila i = origen de rows[i] y prefijo de rows[i] con los tokens nuevos.
        moved = torch.cat([tgt[rows, :3], tgt[:, 3:]], dim=1)  # (N, 5)
        src_rows = src.repeat_interleave(k, dim=0)[rows]  # (N, T_src)
        expected = model(src_rows, moved)[:, 3:]
    torch.testing.assert_close(after, expected, atol=1e-5, rtol=0)


def test_start_decoding_with_groups_repeats_each_sentence():
    """Con `group=k` cada frase ocupa k filas seguidas, b·k + i, y todas dan lo mismo."""
    torch.manual_seed(4)
    model = Transformer(11, 13, 16, 2, 1, 24).eval()
    src = tokens(2, 4, 11, 0, [4, 2])
    with torch.no_grad():
        src_mask = model.src_mask(src)
        cache = model.start_decoding(model.encode(src, src_mask), src_mask, group=3)
        logits = model.decode_step(torch.ones(6, dtype=torch.long), cache)  # (6, V)
        alone = step_by_step(model, src, torch.ones(2, 1, dtype=torch.long))[:, 0]  # (2, V)
    assert cache.rows == 6 and cache.length == 1
    assert cache.layers[0].self_k.shape == (6, 2, 1, 8)  # (N, H, t, d_k)
    assert cache.layers[0].cross_k.shape == (6, 2, 4, 8)  # (N, H, T_src, d_k)
    torch.testing.assert_close(logits, alone.repeat_interleave(3, dim=0), atol=1e-5, rtol=0)


def test_can_decode_incrementally():
    """Solo si el modelo y sus capas lo declaran: no con un decode o una capa cambiados, aunque se prohíban nombres."""

    class OtherDecode(Transformer):
        def decode(self, tgt, memory, src_mask=None, tgt_mask=None, *, last_only=False):
            return super().decode(tgt, memory, src_mask, tgt_mask, last_only=last_only) * 2

    class FasterDecode(OtherDecode):  # quien cambia decode y sabe que decode_step sigue valiendo lo declara
        supports_incremental_decoding = True

    class OtherStep(DecoderLayer):
        def step(self, x, cache, src_mask=None):
            return super().step(x, cache, src_mask) * 2

    class StudentLayer(nn.Module):  # como la capa de un alumno: no sabe nada de la caché
        def forward(self, x, memory, src_mask=None, tgt_mask=None):
            return x

    model = Transformer(11, 13, 16, 2, 1, 24)
    assert model.can_decode_incrementally()
    assert not OtherDecode(11, 13, 16, 2, 1, 24).can_decode_incrementally()
    assert FasterDecode(11, 13, 16, 2, 1, 24).can_decode_incrementally()
    assert not OtherStep.supports_incremental_decoding and DecoderLayer.supports_incremental_decoding
    for replacement in (OtherStep(16, 2, 24), StudentLayer()):
        plugged = Transformer(11, 13, 16, 2, 1, 24)
        plugged.decoder_layers[0] = replacement
        assert not plugged.can_decode_incrementally()
    with checks.forbid(forbidden.TRANSFORMER, namespace={}):  # como en las pruebas del cuaderno 06
        assert model.can_decode_incrementally()


def test_decoder_step_reuses_the_attention_of_the_layer(monkeypatch):
    """`DecoderLayer.step` calcula con los métodos de MultiHeadAttention que usa su forward, sin copias."""
    layer = DecoderLayer(8, 2, 16).eval()
    calls: list[str] = []
    for name in ("keys_values", "attend"):
        original = getattr(MultiHeadAttention, name)

        def recorded(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(MultiHeadAttention, name, recorded)
    with torch.no_grad():
        cache = layer.start_cache(torch.randn(2, 4, 8))
        assert calls == ["keys_values"]
        layer.step(torch.randn(2, 1, 8), cache)
        assert calls == ["keys_values", "keys_values", "attend", "attend"]
        calls.clear()
        layer(torch.randn(2, 3, 8), torch.randn(2, 4, 8))
    assert calls == ["keys_values", "attend"] * 2, "forward usa los mismos dos pasos"


def test_decode_step_errors_in_spanish():
    """Formas mal puestas o más tokens que la tabla de posiciones: error que lo dice."""
    model = Transformer(11, 13, 16, 2, 1, 24, max_len=3).eval()
    src = torch.tensor([[4, 5, 6], [4, 5, 0]])
    with torch.no_grad():
        cache = model.start_decoding(model.encode(src), model.src_mask(src))
        with pytest.raises(ValueError, match="tokens"):
            model.decode_step(torch.ones(2, 1, dtype=torch.long), cache)
        for _ in range(3):
            model.decode_step(torch.ones(2, dtype=torch.long), cache)
        with pytest.raises(ValueError, match="max_len"):
            model.decode_step(torch.ones(2, dtype=torch.long), cache)
        with pytest.raises(ValueError, match="rows"):
            cache.reorder(torch.tensor([0]))
        with pytest.raises(ValueError, match="group"):
            model.start_decoding(model.encode(src), group=0)


# --- Rutas prohibidas (course_lib.mistakes.forbidden) ---------------------------------------------


@pytest.mark.parametrize("path", forbidden.TRANSFORMER)
def test_reference_paths_resolve(path):
    assert callable(pkgutil.resolve_name(path)), f"{path} debe poderse llamar"


def test_reference_paths_allow_earlier_pieces():
    """`MultiHeadAttention`, `TokenEmbedding`, `PositionalEncoding` y las máscaras están permitidas en el 06."""
    allowed = ("MultiHeadAttention", "TokenEmbedding", "PositionalEncoding", "padding_mask", "decoder_mask")
    assert not any(p.rpartition(".")[2] in allowed for p in forbidden.TRANSFORMER)


def test_reference_paths_cover_package_exports():
    ours = {id(obj) for obj in (FeedForward, EncoderLayer, DecoderLayer, Transformer)}
    exported = [name for name in dir(course_lib) if id(getattr(course_lib, name)) in ours]
    missing = [f"course_lib.{name}" for name in exported if f"course_lib.{name}" not in forbidden.TRANSFORMER]
    assert not missing, f"añade a forbidden.TRANSFORMER: {missing}"


def test_forbid_blocks_torch_layers_and_references():
    with checks.forbid(forbidden.TRANSFORMER, namespace={}):
        with pytest.raises(checks.ForbiddenCallError):
            nn.TransformerEncoderLayer(8, 2)
        with pytest.raises(checks.ForbiddenCallError):
            course_lib.Transformer(5, 5)
        MultiHeadAttention(8, 2)
    assert isinstance(FeedForward(4, 8), nn.Module), "al salir todo vuelve a funcionar"


# --- errores frecuentes ------------------------------------------------------------------------------------------


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape != b.shape or not torch.allclose(a, b, atol=1e-4, rtol=1e-3)


def test_feed_forward_mistakes_match_broken_versions():
    ffn = FeedForward(6, 12, dropout=0.0).eval()
    x = torch.randn(2, 3, 6)
    found = known.feed_forward_mistakes(ffn, x)
    broken = x @ ffn.W_1.weight.T + ffn.W_1.bias  # sin ReLU
    broken = broken @ ffn.W_2.weight.T + ffn.W_2.bias
    torch.testing.assert_close(found.out[known.FFN_NO_RELU], broken)
    for hint, out in found.out.items():
        assert differs(out, ffn(x)), f"«{hint}» no se distingue de la respuesta correcta"


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_mistakes_are_distinct_and_named(norm_first):
    layer = EncoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first).eval()
    perturb(layer)
    x = torch.randn(2, 4, 8)
    mask = keep_mask([4, 2], 4)[:, None, None, :]
    with torch.no_grad():
        correct = layer(x, mask)
        found = known.encoder_layer_mistakes(layer, x, mask)
    flipped = known.POST_INSTEAD_OF_PRE if norm_first else known.PRE_INSTEAD_OF_POST
    assert {known.NO_RESIDUAL_ATTN, known.ENCODER_NO_MASK, flipped, known.SAME_NORM} <= set(found.out)
    for hint, out in found.out.items():
        assert differs(out, correct), f"«{hint}» no se distingue de la respuesta correcta"
    if not norm_first:  # sin residual en la atención, escrito a mano
        with torch.no_grad():
            h = layer.norm1(layer.self_attn(x, x, x, mask))
            broken = layer.norm2(h + layer.feed_forward(h))
        torch.testing.assert_close(found.out[known.NO_RESIDUAL_ATTN], broken)


def test_decoder_mistakes_are_distinct_and_named():
    layer = DecoderLayer(8, 2, 16, dropout=0.0).eval()
    perturb(layer)
    x, memory = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    src_mask = keep_mask([5, 2], 5)[:, None, None, :]
    tgt_mask = torch.ones(3, 3, dtype=torch.bool).tril()[None, None]
    with torch.no_grad():
        correct = layer(x, memory, src_mask, tgt_mask)
        found = known.decoder_layer_mistakes(layer, x, memory, src_mask, tgt_mask)
        h = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask))
        h = layer.norm2(h + layer.self_attn(h, memory, memory, src_mask))  # cruzada con self_attn
        broken = layer.norm3(h + layer.feed_forward(h))
    for needed in (known.DECODER_NO_CAUSAL, known.DECODER_NO_SRC_MASK, known.CROSS_WITH_SELF_ATTN, known.DECODER_ORDER):
        assert needed in found.out
    torch.testing.assert_close(found.out[known.CROSS_WITH_SELF_ATTN], broken)
    for hint, out in found.out.items():
        assert differs(out, correct), f"«{hint}» no se distingue de la respuesta correcta"


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_transformer_mistakes_are_distinct_and_named(norm_first):
    model = Transformer(11, 13, 16, 2, 2, 24, norm_first=norm_first).eval()
    perturb(model)
    src, tgt = torch.tensor([[5, 6, 7, 8], [5, 7, 0, 0]]), torch.tensor([[1, 4, 5], [1, 6, 0]])
    with torch.no_grad():
        correct = model(src, tgt)
        found = known.transformer_mistakes(model, src, tgt)
    torch.testing.assert_close(found.out[known.MODEL_SOFTMAX], torch.softmax(correct, dim=-1))
    assert (known.MODEL_NO_FINAL_NORM in found.out) == norm_first
    for hint, out in found.out.items():
        assert differs(out, correct), f"«{hint}» no se distingue de la respuesta correcta"


def test_mistakes_skip_what_cannot_be_computed():
    """Una variante imposible (p. ej. intercambiar embeddings de tamaños distintos) no rompe nada."""
    model = Transformer(30, 6, 8, 2, 1, 16).eval()
    src, tgt = torch.tensor([[20, 25]]), torch.tensor([[1, 4]])
    found = known.transformer_mistakes(model, src, tgt)
    assert known.MODEL_SWAPPED_EMBEDDINGS not in found.out
    assert known.MODEL_SOFTMAX in found.out
