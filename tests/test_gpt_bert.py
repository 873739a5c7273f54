"""Las referencias del cuaderno 08: GPT (course_lib.gpt), BERT (course_lib.bert) y su entrenamiento con fit."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import bert, gpt, pretraining, train
from course_lib.tokens import Batch


def test_lm_loss_shifts_inside_and_ignores_padding() -> None:
    torch.manual_seed(0)
    tokens = torch.tensor([[1, 5, 6, 2, 0], [1, 7, 8, 9, 2]])
    logits = torch.randn(2, 5, 11)
    expected = F.cross_entropy(logits[:, :-1].reshape(-1, 11), tokens[:, 1:].reshape(-1), ignore_index=0)
    assert torch.allclose(gpt.lm_loss(logits, tokens, 0), expected)
    # A mano: 3 + 4 tokens predichos; el último relleno de la primera fila no cuenta.
    logp = torch.log_softmax(logits, dim=-1)
    by_hand = -sum(logp[b, t, tokens[b, t + 1]] for b in range(2) for t in range(4) if tokens[b, t + 1] != 0) / 7
    assert torch.allclose(gpt.lm_loss(logits, tokens, 0), by_hand)


def test_lm_loss_errors_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 4, 3\).*\(2, 5\)"):
        gpt.lm_loss(torch.zeros(2, 4, 3), torch.zeros(2, 5, dtype=torch.long), 0)
    with pytest.raises(ValueError, match="al menos 2 tokens"):
        gpt.lm_loss(torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long), 0)


def _lm(cls: type = gpt.DecoderOnlyLM, **kwargs: object) -> gpt.DecoderOnlyLM:
    torch.manual_seed(0)
    config = dict(vocab_size=13, d_model=16, n_heads=2, n_layers=2, d_ff=24, dropout=0.0, max_len=20, pad_id=0)
    return cls(**{**config, **kwargs}).eval()


def test_decoder_only_lm_is_causal_and_ignores_padding() -> None:
    model = _lm()
    tokens = torch.tensor([[1, 4, 5, 6, 7]])
    changed = torch.tensor([[1, 4, 5, 9, 3]])
    with torch.no_grad():
        assert model(tokens).shape == (1, 5, 13)
        assert torch.allclose(model(tokens)[:, :3], model(changed)[:, :3], atol=1e-6)
        assert not torch.allclose(model(tokens)[:, 3:], model(changed)[:, 3:], atol=1e-3)
        # Relleno a la izquierda: cambiar el embedding de <pad> no cambia las posiciones reales.
        left = torch.tensor([[0, 0, 1, 4, 5]])
        before = model(left)[:, 2:]
        model.embed.embedding.weight[0] += 3.0
        assert torch.allclose(model(left)[:, 2:], before, atol=1e-5)


def test_encoder_only_lm_sees_both_directions() -> None:
    model = _lm(bert.EncoderOnlyLM)
    with torch.no_grad():
        a, b = model(torch.tensor([[1, 4, 5, 6, 7]])), model(torch.tensor([[1, 4, 5, 9, 7]]))
    assert not torch.allclose(a[:, :3], b[:, :3], atol=1e-4), "sin máscara causal el futuro sí cuenta"


@pytest.mark.parametrize(("vocab", "d_model", "n_layers", "d_ff"), [(13, 16, 2, 24), (1000, 64, 3, 256)])
def test_parameter_count_formula(vocab: int, d_model: int, n_layers: int, d_ff: int) -> None:
    model = gpt.DecoderOnlyLM(vocab, d_model, 4, n_layers, d_ff)
    assert sum(p.numel() for p in model.parameters()) == gpt.expected_parameter_count(vocab, d_model, n_layers, d_ff)


def test_sample_next_token_greedy_topk_and_frequencies() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    assert gpt.sample_next_token(logits, 0.0).tolist() == [0]
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([gpt.sample_next_token(logits.expand(1000, 4), 1.0, None, g) for _ in range(20)]).flatten()
    freq = torch.bincount(draws, minlength=4).float() / draws.numel()
    assert torch.allclose(freq, torch.softmax(logits[0], -1), atol=0.01)
    top2 = torch.stack([gpt.sample_next_token(logits.expand(1000, 4), 2.0, 2, g) for _ in range(5)]).flatten()
    assert set(top2.tolist()) == {0, 1}
    freq2 = torch.bincount(top2, minlength=2).float() / top2.numel()
    assert torch.allclose(freq2, torch.softmax(torch.tensor([1.0, 0.5]), -1), atol=0.02)
    same = [gpt.sample_next_token(logits.expand(50, 4), 1.0, None, torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(*same)


def test_sample_next_token_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="temperature"):
        gpt.sample_next_token(torch.zeros(1, 3), -1.0)
    with pytest.raises(ValueError, match="top_k"):
        gpt.sample_next_token(torch.zeros(1, 3), 1.0, 0)
    with pytest.raises(ValueError, match=r"\(B, V\)"):
        gpt.sample_next_token(torch.zeros(3), 1.0)


def test_top_p_keeps_the_smallest_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(gpt.top_p_logits(logits, 0.7))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(gpt.top_p_logits(logits, 0.1)).tolist() == [[True, False, False, False]]
    assert torch.isfinite(gpt.top_p_logits(logits, 1.0)).all()


class Markov(nn.Module):
    """Un modelo de juguete: después del token i viene el i + 1 (con seguridad), y tras el 5, el 2 (<eos>)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        self.calls.append(tokens.size(1))
        nxt = torch.where(tokens >= 5, torch.full_like(tokens, 2), tokens + 1)
        return F.one_hot(nxt, 8).float() * 50


def test_generate_stops_at_eos_and_respects_the_limit() -> None:
    model = Markov()
    assert gpt.generate(model, [1, 3], 10, 0.0, None, eos_id=2) == [1, 3, 4, 5, 2]
    assert model.calls == [2, 3, 4], "cada paso pasa la secuencia entera"
    assert gpt.generate(Markov(), [1, 3], 2, 1.0, None, eos_id=2, generator=torch.Generator()) == [1, 3, 4, 5]
    assert gpt.generate(Markov(), [3], 0, 0.0, None, eos_id=2) == [3]


def test_mask_tokens_rule_exactly_and_statistically() -> None:
    torch.manual_seed(0)
    tokens = torch.randint(4, 1000, (200, 100))
    tokens[:, -5:] = 0  # relleno
    tokens[:, 0] = 1
    g = torch.Generator().manual_seed(5)
    inputs, labels = bert.mask_tokens(tokens, 1000, 1001, [0, 1, 2, 3], 0.15, g)
    chosen = labels != bert.IGNORE_INDEX
    assert not chosen[:, -5:].any() and not chosen[:, 0].any()
    assert torch.equal(labels[chosen], tokens[chosen])
    assert torch.equal(inputs[~chosen], tokens[~chosen])
    assert abs(chosen[:, 1:-5].float().mean().item() - 0.15) < 0.01
    masked = (inputs == 1000) & chosen
    random = chosen & (inputs != 1000) & (inputs != tokens)
    assert abs(masked.sum().item() / chosen.sum().item() - 0.8) < 0.02
    assert abs(random.sum().item() / chosen.sum().item() - 0.1) < 0.015
    # La receta del docstring, paso a paso, con la misma semilla.
    g = torch.Generator().manual_seed(5)
    ref_chosen = (torch.rand(tokens.shape, generator=g) < 0.15) & (tokens > 3)
    action = torch.rand(tokens.shape, generator=g)
    rand = torch.randint(1001, tokens.shape, generator=g)
    assert torch.equal(chosen, ref_chosen)
    expected = torch.where(ref_chosen & (action < 0.8), 1000, tokens)
    expected = torch.where(ref_chosen & (action >= 0.8) & (action < 0.9), rand, expected)
    assert torch.equal(inputs, expected)


def test_encode_with_blanks_and_fill_mask() -> None:
    class Letters:
        def encode(self, text: str) -> list[int]:
            return [ord(c) - 90 for c in text.replace(" ", "")]

    ids = bert.encode_with_blanks(Letters(), "ab ___ c", 99)
    assert ids == [7, 8, 99, 9]
    with pytest.raises(ValueError, match="hueco"):
        bert.encode_with_blanks(Letters(), "abc", 99)
    model = _lm(bert.EncoderOnlyLM, vocab_size=100)
    top = bert.fill_mask(model, ids, 99, k=3)
    assert len(top) == 1 and len(top[0]) == 3 and top[0][0][1] >= top[0][1][1] >= top[0][2][1]


def test_fit_trains_both_models_on_translator_batches() -> None:
    """fit entrena GPT con los lotes del traductor (sin mirar src) y BERT con los tapados: la pérdida baja."""
    torch.manual_seed(0)
    pairs = [[4 + (i + j) % 6 for j in range(3 + i % 4)] for i in range(60)]
    from course_lib.batching import BatchSource

    source = BatchSource([[5]] * len(pairs), pairs, max_tokens=64, seed=0)
    config = train.TrainConfig(steps=60, warmup=10, lr_scale=2.0, label_smoothing=0.0, precision="fp32")
    lm = _lm(vocab_size=12)
    lm.train()
    history = train.fit(pretraining.ForFit(lm), source, config, list(source(0)), device="cpu", progress=False)
    assert history.valid_loss[-1] < math.log(12) / 2
    mlm = _lm(bert.EncoderOnlyLM, vocab_size=13)
    mlm.train()
    masked = pretraining.masked_batches(source, 12, 12, [0, 1, 2, 3], p=0.3)
    first = next(masked(0))
    assert isinstance(first, Batch) and (first.tgt_out[first.tgt_in == 12] != 0).all()
    assert torch.equal(next(masked(0)).tgt_in, first.tgt_in), "la misma época da los mismos huecos"
    history = train.fit(pretraining.ForFit(mlm), masked, config, list(masked(0)), device="cpu", progress=False)
    assert history.valid_loss[-1] < history.train_loss[0]
