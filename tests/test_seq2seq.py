"""Pruebas de course_lib.seq2seq y course_lib.mistakes.seq2seq.

Las referencias son independientes de la biblioteca: ``torch.einsum``,
``F.scaled_dot_product_attention`` (con ``scale=1``), la fórmula de Bahdanau escrita
en la propia prueba y el ejemplo numérico de las transparencias (13, 9, 9).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checks, grammar, seq2seq, seq2seq_training
from course_lib.mistakes import forbidden
from course_lib.mistakes import seq2seq as seq2seq_mistakes
from course_lib.seq2seq import AdditiveAttention, attention_context, dot_scores

ATOL = 1e-5
RTOL = 1e-4


def padding_mask(B: int, T: int, seed: int = 0) -> torch.Tensor:
    """Máscara de relleno al final ``(B, T)``: cada fila tiene al menos una posición real."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=gen)
    return torch.arange(T) < lengths.unsqueeze(1)


# --- dot_scores ----------------------------------------------------------------------------


@pytest.mark.parametrize(("B", "T", "D"), [(1, 1, 3), (2, 5, 4), (3, 7, 16), (1, 4, 4)])
def test_dot_scores_matches_einsum(B, T, D):
    gen = torch.Generator().manual_seed(B * 100 + T)
    query, keys = torch.randn(B, D, generator=gen), torch.randn(B, T, D, generator=gen)
    scores = dot_scores(query, keys)
    assert scores.shape == (B, T), "scores debe tener forma (B, T)"
    torch.testing.assert_close(scores, torch.einsum("bd,btd->bt", query, keys), atol=ATOL, rtol=RTOL)


def test_dot_scores_slide_example():
    """Los números de las transparencias: s = (2, 1) y h = (5, 3), (4, 1), (3, 3) dan 13, 9, 9."""
    scores = dot_scores(torch.tensor([[2.0, 1.0]]), torch.tensor([[[5.0, 3.0], [4.0, 1.0], [3.0, 3.0]]]))
    assert scores.tolist() == [[13.0, 9.0, 9.0]]


@pytest.mark.parametrize(
    ("query", "keys", "text"),
    [
        (torch.randn(2, 4, 1), torch.randn(2, 5, 4), "`query`"),
        (torch.randn(2, 4), torch.randn(2, 4), "`keys`"),
        (torch.randn(2, 4), torch.randn(3, 5, 4), "mismo B"),
        (torch.randn(2, 4), torch.randn(2, 5, 3), "mismo D"),
    ],
)
def test_dot_scores_errors_in_spanish(query, keys, text):
    with pytest.raises(ValueError, match=text):
        dot_scores(query, keys)


# --- attention_context ---------------------------------------------------------------------


def test_slide_example_weights_and_context():
    """softmax(13, 9, 9) ≈ (0.96, 0.02, 0.02) y el contexto es la media ponderada de h_1, h_2, h_3."""
    h = torch.tensor([[[5.0, 3.0], [4.0, 1.0], [3.0, 3.0]]])
    context, weights = attention_context(torch.tensor([[13.0, 9.0, 9.0]]), h)
    assert [round(w, 2) for w in weights[0].tolist()] == [0.96, 0.02, 0.02]
    e4 = torch.exp(torch.tensor(4.0))
    expected = torch.tensor([e4, 1.0, 1.0]) / (e4 + 2)  # calculado a mano
    torch.testing.assert_close(weights[0], expected)
    torch.testing.assert_close(context[0], expected @ h[0])


@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize(("B", "T", "D"), [(1, 1, 2), (2, 5, 4), (4, 9, 3)])
def test_dot_scores_and_context_match_torch_sdpa(B, T, D, with_mask):
    """dot_scores + attention_context = atención de PyTorch sin escalar (scale=1), con una consulta."""
    gen = torch.Generator().manual_seed(T)
    query, keys, values = (torch.randn(B, D, generator=gen), torch.randn(B, T, D, generator=gen),
                           torch.randn(B, T, 6, generator=gen))  # fmt: skip
    mask = padding_mask(B, T, seed=T) if with_mask else None
    context, weights = attention_context(dot_scores(query, keys), values, mask)
    attn_mask = None if mask is None else mask.unsqueeze(1)  # (B, 1, T)
    expected = F.scaled_dot_product_attention(query.unsqueeze(1), keys, values, attn_mask=attn_mask, scale=1.0)
    torch.testing.assert_close(context, expected.squeeze(1), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B))
    if mask is not None:
        assert (weights[~mask] == 0).all(), "el relleno debe recibir peso exactamente 0"


def test_attention_context_fully_masked_row_gives_zeros_not_nan():
    scores, values = torch.randn(2, 3), torch.randn(2, 3, 4)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    context, weights = attention_context(scores, values, mask)
    assert torch.isfinite(weights).all() and torch.isfinite(context).all()
    assert (weights[1] == 0).all() and (context[1] == 0).all()


def test_attention_context_large_scores_are_finite():
    context, weights = attention_context(torch.tensor([[1000.0, -1000.0, 999.0]]), torch.randn(1, 3, 2))
    assert torch.isfinite(weights).all() and torch.isfinite(context).all()


@pytest.mark.parametrize(
    ("args", "error", "text"),
    [
        ((torch.randn(2, 3, 1), torch.randn(2, 3, 4)), ValueError, "`scores`"),
        ((torch.randn(2, 3), torch.randn(2, 4, 4)), ValueError, "mismos B y T"),
        ((torch.randn(2, 3), torch.randn(2, 3, 4), torch.ones(2, 3)), TypeError, "booleano"),
        ((torch.randn(2, 3), torch.randn(2, 3, 4), torch.ones(1, 3, dtype=torch.bool)), ValueError, "`mask`"),
        (([1.0, 2.0], torch.randn(1, 2, 4)), TypeError, "torch.Tensor"),
    ],
)
def test_attention_context_errors_in_spanish(args, error, text):
    with pytest.raises(error, match=text):
        attention_context(*args)


# --- AdditiveAttention ---------------------------------------------------------------------


def bahdanau(layer: AdditiveAttention, query, keys, values, mask=None):
    """La fórmula vᵀ tanh(W_q q + W_k k_j), ejemplo a ejemplo y clave a clave, con los pesos de la capa."""
    B, T = keys.shape[:2]
    scores = torch.empty(B, T)
    for b in range(B):
        for j in range(T):
            hidden = torch.tanh(layer.W_q(query[b]) + layer.W_k(keys[b, j]))  # (d_hidden,)
            scores[b, j] = layer.v.weight[0] @ hidden
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("bt,btd->bd", weights, values), weights


@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize(("d_query", "d_key", "d_hidden", "B", "T"), [(3, 3, 4, 1, 1), (8, 5, 6, 3, 7)])
def test_additive_attention_matches_formula(d_query, d_key, d_hidden, B, T, with_mask):
    torch.manual_seed(0)
    layer = AdditiveAttention(d_query, d_key, d_hidden)
    query, keys, values = torch.randn(B, d_query), torch.randn(B, T, d_key), torch.randn(B, T, 2)
    mask = padding_mask(B, T) if with_mask else None
    with torch.no_grad():
        context, weights = layer(query, keys, values, mask)
        expected_context, expected_weights = bahdanau(layer, query, keys, values, mask)
    assert context.shape == (B, 2) and weights.shape == (B, T)
    torch.testing.assert_close(weights, expected_weights, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(context, expected_context, atol=ATOL, rtol=RTOL)


def test_additive_attention_structure_and_gradients():
    layer = AdditiveAttention(6, 4, 5)
    assert isinstance(layer.W_q, nn.Linear) and layer.W_q.weight.shape == (5, 6)
    assert isinstance(layer.W_k, nn.Linear) and layer.W_k.weight.shape == (5, 4)
    assert isinstance(layer.v, nn.Linear) and layer.v.weight.shape == (1, 5) and layer.v.bias is None
    context, _ = layer(torch.randn(2, 6), torch.randn(2, 3, 4), torch.randn(2, 3, 4))
    context.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_additive_attention_errors_in_spanish():
    with pytest.raises(ValueError, match="`d_hidden`"):
        AdditiveAttention(3, 3, 0)
    layer = AdditiveAttention(3, 4, 5)
    with pytest.raises(ValueError, match="Esta capa espera"):
        layer(torch.randn(2, 4), torch.randn(2, 3, 4), torch.randn(2, 3, 4))


# --- Los errores frecuentes ----------------------------------------------------------------


def test_dot_scores_mistakes_are_wrong_and_recognised():
    query, keys = torch.randn(3, 4), torch.randn(3, 4, 4)  # T = D: también el error de la suma sobre T
    wrong = seq2seq_mistakes.dot_scores_mistakes(query, keys)
    correct = torch.einsum("bd,btd->bt", query, keys)
    assert len(wrong.out) == 4
    for hint, result in wrong.out.items():
        assert not torch.allclose(result, correct), f"el error «{hint}» coincide con la respuesta correcta"
    scaled = correct / 2.0  # √D con D = 4
    with pytest.raises(checks.CheckError, match="divides entre √D"):
        checks.check_close(scaled, correct, "scores", mistakes=wrong.out)


def test_attention_context_mistakes_are_wrong_and_recognised():
    scores, values = torch.randn(3, 5), torch.randn(3, 5, 2)
    mask = padding_mask(3, 5, seed=1)
    mask[0, -1] = False  # al menos una posición de relleno
    wrong = seq2seq_mistakes.attention_context_mistakes(scores, values, mask)
    correct_context, correct_weights = attention_context(scores, values, mask)
    for hint in wrong.out:
        same = torch.allclose(wrong.out[hint], correct_context) and torch.allclose(wrong.weights[hint], correct_weights)
        assert not same, f"el error «{hint}» coincide con la respuesta correcta"
    after = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)  # la máscara tras la softmax, a mano
    with pytest.raises(checks.CheckError, match="DESPUÉS de la softmax"):
        checks.check_close(after, correct_weights, "weights", mistakes=wrong.weights)
    batch_dim = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=0)
    with pytest.raises(checks.CheckError, match="dimensión del lote"):
        checks.check_close(batch_dim, correct_weights, "weights", mistakes=wrong.weights)


def test_additive_attention_mistakes_are_wrong_and_recognised():
    torch.manual_seed(0)
    layer = AdditiveAttention(4, 4, 6)
    query, keys, values = torch.randn(2, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    mask = padding_mask(2, 5, seed=3)
    mask[0, -1] = False
    with torch.no_grad():
        wrong = seq2seq_mistakes.additive_attention_mistakes(layer, query, keys, values, mask)
        correct_context, correct_weights = layer(query, keys, values, mask)
        no_tanh = layer.v(layer.W_q(query).unsqueeze(1) + layer.W_k(keys)).squeeze(-1)  # el error, a mano
        _, no_tanh_weights = attention_context(no_tanh, values, mask)
    for hint in wrong.out:
        assert not torch.allclose(wrong.weights[hint], correct_weights) or not torch.allclose(
            wrong.out[hint], correct_context
        ), f"el error «{hint}» coincide con la respuesta correcta"
    with pytest.raises(checks.CheckError, match="falta la tanh"):
        checks.check_close(no_tanh_weights, correct_weights, "weights", mistakes=wrong.weights)


# --- El traductor --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vocabs():
    return grammar.build_vocabs()


@pytest.mark.parametrize("attention", [True, False])
def test_seq2seq_shapes_and_masked_attention(vocabs, attention):
    src_vocab, tgt_vocab = vocabs
    torch.manual_seed(0)
    model = seq2seq.Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=8, d_hidden=12, attention=attention)
    batch = grammar.make_batch(grammar.generate_pairs(4, seed=0, min_len=3, max_len=9), src_vocab, tgt_vocab)
    logits, weights = model(batch.src, batch.tgt_in)
    assert logits.shape == (*batch.tgt_in.shape, len(tgt_vocab))
    if not attention:
        assert weights is None
        return
    assert weights.shape == (batch.src.size(0), batch.tgt_in.size(1), batch.src.size(1))
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    padding = ~batch.src_mask.unsqueeze(1).expand_as(weights)
    assert (weights[padding] == 0).all(), "el relleno de la frase de origen no debe recibir atención"


def test_decoder_attention_equals_the_step_by_step_functions(vocabs):
    """El cálculo de todos los pasos a la vez coincide con dot_scores + attention_context paso a paso."""
    src_vocab, tgt_vocab = vocabs
    torch.manual_seed(1)
    model = seq2seq.Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=8, d_hidden=12)
    batch = grammar.make_batch(grammar.generate_pairs(3, seed=2, min_len=3, max_len=8), src_vocab, tgt_vocab)
    with torch.no_grad():
        _, weights = model(batch.src, batch.tgt_in)
        states, final = model.encoder(batch.src)
        decoder = model.decoder
        outputs, _ = decoder.gru(decoder.embedding(batch.tgt_in), decoder.start(final))
        keys = decoder.W_k(states)
        for t in range(batch.tgt_in.size(1)):
            _, step = attention_context(dot_scores(outputs[:, t], keys), states, batch.src_mask)
            torch.testing.assert_close(weights[:, t], step, atol=ATOL, rtol=RTOL)


def test_encoder_final_state_ignores_padding(vocabs):
    """El resumen final de una frase no cambia si se rellena con <pad> dentro de un lote."""
    src_vocab, _ = vocabs
    torch.manual_seed(0)
    encoder = seq2seq.Encoder(len(src_vocab), d_emb=8, d_hidden=6)
    alone = torch.tensor([src_vocab.encode("el gato duerme")])
    padded = grammar.pad_sequences(
        [src_vocab.encode("el gato duerme"), src_vocab.encode("un perro negro come la manzana")]
    )
    with torch.no_grad():
        states_alone, final_alone = encoder(alone)
        states_padded, final_padded = encoder(padded)
    torch.testing.assert_close(final_padded[0], final_alone[0], atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(states_padded[0, :3], states_alone[0], atol=ATOL, rtol=RTOL)


def test_training_reduces_loss_and_translate_stops_at_eos(vocabs):
    """Entrenar sobre pocas frases baja la pérdida y las memoriza; translate termina en <eos>."""
    src_vocab, tgt_vocab = vocabs
    torch.manual_seed(0)
    pairs = grammar.generate_pairs(32, seed=0, min_len=3, max_len=5)
    model = seq2seq.Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=16, d_hidden=32)
    history = seq2seq.train_seq2seq(
        model, pairs, src_vocab, tgt_vocab, epochs=40, batch_size=16, lr=1e-2, progress=False
    )
    assert len(history) == 40 and history[-1] < history[0] / 4, history
    src = grammar.pad_sequences([src_vocab.encode(es) for es, _ in pairs[:4]])
    tokens, weights = model.translate(src, max_len=12)
    assert weights.shape == (4, tokens.size(1), src.size(1))
    for row in tokens.tolist():
        if grammar.EOS_ID in row:
            after = row[row.index(grammar.EOS_ID) + 1 :]
            assert all(t == grammar.PAD_ID for t in after), "tras <eos> solo hay relleno"
    accuracy = seq2seq.accuracy_by_length(model, pairs, src_vocab, tgt_vocab)
    assert set(accuracy) == {3, 4, 5} and all(0 <= v <= 1 for v in accuracy.values())
    assert sum(accuracy.values()) / 3 > 0.9, f"tras memorizar 32 frases debería acertar la mayoría: {accuracy}"


def test_accuracy_by_length_metrics_on_a_known_model(vocabs, monkeypatch):
    """Con traducciones fijadas a mano, las dos métricas dan lo esperado."""
    src_vocab, tgt_vocab = vocabs
    pairs = [("el gato duerme", "the cat sleeps"), ("un perro corre", "a dog runs")]
    monkeypatch.setattr(seq2seq_training, "translate_sentences", lambda *a, **k: ["the cat sleeps", "a cat runs"])
    model = seq2seq.Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=4, d_hidden=4)
    assert seq2seq.accuracy_by_length(model, pairs, src_vocab, tgt_vocab, metric="sentence") == {3: 0.5}
    assert seq2seq.accuracy_by_length(model, pairs, src_vocab, tgt_vocab, metric="token") == {3: (1 + 2 / 3) / 2}
    with pytest.raises(ValueError, match="`metric`"):
        seq2seq.accuracy_by_length(model, pairs, src_vocab, tgt_vocab, metric="bleu")


def test_seq2seq_rejects_odd_hidden_size(vocabs):
    with pytest.raises(ValueError, match="`d_hidden`"):
        seq2seq.Seq2Seq(10, 10, d_hidden=7)


def test_reference_paths_resolve_and_forbid_blocks_them():
    """Cada ruta de las rutas prohibidas existe, y forbid impide llamarla."""
    with checks.forbid(forbidden.SEQ2SEQ, namespace={}):
        with pytest.raises(checks.ForbiddenCallError):
            seq2seq.dot_scores(torch.randn(1, 2), torch.randn(1, 3, 2))
        with pytest.raises(checks.ForbiddenCallError):
            F.scaled_dot_product_attention(torch.randn(1, 1, 2), torch.randn(1, 3, 2), torch.randn(1, 3, 2))
    assert seq2seq.dot_scores(torch.randn(1, 2), torch.randn(1, 3, 2)).shape == (1, 3), "forbid restaura al salir"
