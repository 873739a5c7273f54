"""Pruebas de course_lib.tokens: los especiales, el relleno y la única forma de quitar especiales."""

import ast
from pathlib import Path

import pytest
import torch

from course_lib import grammar, tokenizer, tokens
from course_lib.decode import strip_special as strip_rows
from course_lib.tokens import EOS_ID, PAD_ID, SOS_ID, UNK_ID, pad_sequences, strip_special

RAIZ = Path(__file__).resolve().parents[1]


def test_special_ids_are_the_first_four() -> None:
    assert tokens.SPECIALS == ("<pad>", "<sos>", "<eos>", "<unk>")
    assert (PAD_ID, SOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)


def test_pad_sequences_fills_with_pad_id() -> None:
    out = pad_sequences([[5, 6, 7], [8], [9, 10]])
    assert out.dtype == torch.long
    assert out.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert pad_sequences([[5], [6, 7]], pad_id=-1).tolist() == [[5, -1], [6, 7]]
    assert pad_sequences([(4,), range(2)]).tolist() == [[4, 0], [0, 1]]


def test_pad_sequences_empty_is_a_spanish_error() -> None:
    with pytest.raises(ValueError, match="`sequences` está vacía"):
        pad_sequences([])


def test_strip_special_cuts_at_eos_and_drops_pad_and_sos() -> None:
    assert strip_special([SOS_ID, 5, PAD_ID, 6, EOS_ID, 7]) == [5, 6]
    assert strip_special([5, 6]) == [5, 6]
    assert strip_special([SOS_ID, 5], sos_id=None) == [SOS_ID, 5]
    assert strip_special([9, 5, 8, 6], pad_id=8, sos_id=9, eos_id=6) == [5]


def test_the_three_decoders_strip_the_same_way() -> None:
    """Vocab.decode, BPETokenizer.decode y decode.strip_special dan los mismos tokens."""
    ids = [SOS_ID, 4, 5, PAD_ID, 6, EOS_ID, 7, PAD_ID]
    vocab = grammar.Vocab(["a", "b", "c", "d"])
    assert vocab.decode(ids) == " ".join(vocab.itos[i] for i in strip_special(ids))
    assert strip_rows(torch.tensor([ids]), EOS_ID, PAD_ID, SOS_ID) == [strip_special(ids)]
    bpe = tokenizer.train_tokenizer(["hola mundo", "adiós mundo"] * 20, vocab_size=300)
    assert bpe.decode(ids) == bpe.tokenizer.decode(strip_special(ids), skip_special_tokens=False)


def test_grammar_reexports_the_same_objects() -> None:
    """Los cuadernos siguen usando grammar.PAD_ID, grammar.Batch y grammar.pad_sequences."""
    assert grammar.PAD_ID is tokens.PAD_ID
    assert grammar.Batch is tokens.Batch
    assert grammar.pad_sequences is tokens.pad_sequences


@pytest.mark.parametrize(
    "module",
    ["attention", "multihead", "positional", "masks", "transformer", "seq2seq", "tokenizer", "batching", "decode"],
)
def test_no_model_module_imports_the_toy_corpus(module: str) -> None:
    """Ningún modelo ni el flujo de datos reales importa la gramática para saber qué es <pad>."""
    tree = ast.parse((RAIZ / "course_lib" / f"{module}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {name for name in imported if name.startswith("course_lib.grammar")}, imported
