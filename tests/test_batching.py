"""Pruebas de course_lib.batching: cobertura exacta, presupuesto de tokens, determinismo y poco relleno."""

from __future__ import annotations

import random

import pytest
import torch

from course_lib import grammar
from course_lib.batching import BatchSource, padding_fraction

MAX_TOKENS = 256


def make_pairs(n: int, seed: int = 0) -> tuple[list[list[int]], list[list[int]]]:
    """Pares de secuencias con longitudes de 1 a 40, más frecuentes las cortas (como frases reales)."""
    rng = random.Random(seed)
    src, tgt = [], []
    for _ in range(n):
        length = min(40, max(1, int(rng.lognormvariate(2.0, 0.5))))
        src.append([rng.randint(4, 99) for _ in range(length)])
        tgt.append([rng.randint(4, 99) for _ in range(max(1, length + rng.randint(-3, 3)))])
    return src, tgt


@pytest.fixture(scope="module")
def pairs() -> tuple[list[list[int]], list[list[int]]]:
    return make_pairs(2000)


def rows(batch: grammar.Batch) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Cada fila de un lote → ``(x, y)`` sin relleno, comprobando de paso ``tgt_in``/``tgt_out``."""
    result = []
    for src, tgt_in, tgt_out in zip(batch.src.tolist(), batch.tgt_in.tolist(), batch.tgt_out.tolist(), strict=True):
        x = [t for t in src if t != 0]  # los índices reales son ≥ 4: los ceros son relleno
        y_in = [t for t in tgt_in if t != 0]
        y_out = [t for t in tgt_out if t != 0]
        assert y_in[0] == 1 and y_out[-1] == 2, "tgt_in empieza con <sos> y tgt_out termina con <eos>"
        assert y_in[1:] == y_out[:-1], "tgt_in y tgt_out son la misma frase desplazada una posición"
        result.append((tuple(x), tuple(y_out[:-1])))
    return result


def test_every_pair_exactly_once_per_epoch(pairs) -> None:
    src, tgt = pairs
    source = BatchSource(src, tgt, max_tokens=MAX_TOKENS)
    expected = sorted(zip(map(tuple, src), map(tuple, tgt), strict=True))
    for epoch in range(3):
        seen = sorted(row for batch in source(epoch) for row in rows(batch))
        assert seen == expected, f"la época {epoch} no recorre cada par exactamente una vez"


def test_batches_respect_the_token_budget(pairs) -> None:
    src, tgt = pairs
    for batch in BatchSource(src, tgt, max_tokens=MAX_TOKENS)(0):
        assert batch.tgt_in.shape == batch.tgt_out.shape
        assert batch.src.shape[0] == batch.tgt_out.shape[0]
        for name in ("src", "tgt_in", "tgt_out"):
            size = getattr(batch, name).numel()
            assert size <= MAX_TOKENS, f"{name} tiene forma {tuple(getattr(batch, name).shape)} > {MAX_TOKENS}"


def test_overlong_pair_forms_its_own_batch() -> None:
    src = [[5] * 3, [6] * 30, [7] * 3, [8] * 3]
    tgt = [[9] * 3, [9] * 2, [9] * 3, [9] * 3]
    batches = list(BatchSource(src, tgt, max_tokens=8)(0))  # los cortos ocupan 4 (3 + <eos>): caben de dos en dos
    shapes = sorted(tuple(b.src.shape) for b in batches)
    assert shapes == [(1, 3), (1, 30), (2, 3)], shapes
    alone = next(b for b in batches if b.src.shape == (1, 30))
    assert alone.tgt_out.tolist() == [[9, 9, 2]]


def test_same_seed_and_epoch_give_the_same_batches(pairs) -> None:
    src, tgt = pairs

    def snapshot(seed: int, epoch: int) -> list[list[list[int]]]:
        return [b.src.tolist() + b.tgt_out.tolist() for b in BatchSource(src, tgt, MAX_TOKENS, seed=seed)(epoch)]

    assert snapshot(0, 1) == snapshot(0, 1)
    assert snapshot(0, 1) != snapshot(0, 2), "cada época debe barajar de otra forma"
    assert snapshot(0, 1) != snapshot(1, 1), "otra semilla, otro orden"


def test_batch_order_is_shuffled_every_epoch(pairs) -> None:
    src, tgt = pairs
    source = BatchSource(src, tgt, max_tokens=MAX_TOKENS)
    widths = [[b.tgt_out.shape[1] for b in source(epoch)] for epoch in range(2)]
    assert sorted(widths[0]) == sorted(widths[1]), "las formas de los lotes son las mismas cada época"
    assert widths[0] != sorted(widths[0]), "con shuffle=True los lotes no deben llegar ordenados por longitud"
    assert widths[0] != widths[1], "cada época, otro orden de lotes"


def test_len_is_the_number_of_batches_of_every_epoch(pairs) -> None:
    src, tgt = pairs
    source = BatchSource(src, tgt, max_tokens=MAX_TOKENS)
    assert [len(list(source(epoch))) for epoch in range(3)] == [len(source)] * 3
    assert len(source) > 2000 * 8 // MAX_TOKENS


def test_without_shuffle_batches_are_sorted_and_fixed(pairs) -> None:
    src, tgt = pairs
    source = BatchSource(src, tgt, max_tokens=MAX_TOKENS, shuffle=False)
    first = [b.tgt_out.tolist() for b in source(0)]
    assert [b.tgt_out.tolist() for b in source(5)] == first
    widths = [len(b[0]) for b in first]
    assert widths == sorted(widths), "sin barajar, los lotes van de más cortos a más largos"


def test_padding_is_much_lower_than_random_batching(pairs) -> None:
    src, tgt = pairs
    source = BatchSource(src, tgt, max_tokens=MAX_TOKENS)
    ours = padding_fraction(source(0))
    # Referencia: el mismo número de lotes, con los pares en orden aleatorio y rellenados con grammar.pad_sequences.
    order = list(range(len(src)))
    random.Random(0).shuffle(order)
    size = -(-len(order) // len(source))
    baseline = []
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        baseline.append(
            grammar.Batch(
                grammar.pad_sequences([src[i] for i in chunk]),
                grammar.pad_sequences([[1, *tgt[i]] for i in chunk]),
                grammar.pad_sequences([[*tgt[i], 2] for i in chunk]),
            )
        )
    random_fraction = padding_fraction(baseline)
    assert random_fraction > 0.4, f"la referencia aleatoria debería rellenar mucho: {random_fraction:.3f}"
    assert ours < 0.25 * random_fraction, f"relleno {ours:.3f} con lotes por longitud y {random_fraction:.3f} al azar"


def test_padding_fraction_by_hand() -> None:
    batch = grammar.Batch(
        src=torch.tensor([[5, 6, 0], [7, 0, 0]]),
        tgt_in=torch.tensor([[1, 5], [1, 0]]),
        tgt_out=torch.tensor([[5, 2], [2, 0]]),
    )
    # src: 3 rellenos de 6; tgt_out: 1 de 4 → 4 / 10.
    assert padding_fraction([batch]) == pytest.approx(0.4)
    assert padding_fraction([batch, batch]) == pytest.approx(0.4)


def test_tensors_and_custom_special_ids() -> None:
    source = BatchSource([torch.tensor([5, 6]), torch.tensor([7])], [[8], [9, 10]], max_tokens=100, pad_id=0, sos_id=11)
    (batch,) = list(source(0))
    assert sorted(batch.tgt_in.tolist()) == [[11, 8, 0], [11, 9, 10]]
    assert sorted(batch.src.tolist()) == [[5, 6], [7, 0]]


def test_errors_name_the_argument(pairs) -> None:
    src, tgt = pairs
    with pytest.raises(ValueError, match="mismo número de frases; tienen 2000 y 1999"):
        BatchSource(src, tgt[:-1], max_tokens=MAX_TOKENS)
    with pytest.raises(ValueError, match="`src_ids` está vacía"):
        BatchSource([], [], max_tokens=MAX_TOKENS)
    with pytest.raises(ValueError, match=r"`src_ids\[1\]` está vacía"):
        BatchSource([[5], []], [[6], [7]], max_tokens=MAX_TOKENS)
    with pytest.raises(ValueError, match="`max_tokens`"):
        BatchSource(src, tgt, max_tokens=0)
    with pytest.raises(TypeError, match="`tgt_ids`"):
        BatchSource(src, torch.zeros(2000, 5, dtype=torch.long), max_tokens=MAX_TOKENS)
    with pytest.raises(ValueError, match=r"`src_ids\[0\]` debe ser un tensor \(T,\); recibí forma \(1, 2\)"):
        BatchSource([torch.zeros(1, 2, dtype=torch.long)], [[5]], max_tokens=MAX_TOKENS)
    with pytest.raises(ValueError, match="`epoch`"):
        next(BatchSource(src, tgt, max_tokens=MAX_TOKENS)(-1))
    with pytest.raises(ValueError, match="`batches` está vacío"):
        padding_fraction([])
    with pytest.raises(TypeError, match=r"`batches\[0\]`"):
        padding_fraction([torch.zeros(2, 2)])
