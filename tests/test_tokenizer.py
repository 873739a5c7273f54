"""Pruebas de course_lib.tokenizer: ida y vuelta exacta con tildes, especiales, guardado y determinismo."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer

from course_lib import grammar
from course_lib.tokenizer import BASE_ALPHABET, BPETokenizer, train_tokenizer

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = [
    ("Where is the boy?", "¿Dónde está el niño?"),
    ("What a year!", "¡Qué año!"),
    ("He ate penguin.", "Él comió pingüino."),
    ("Tom is in the hospital.", "Tom está en el hospital."),
    ("I don't know, Tom.", "No lo sé, Tom."),
    ("The station is 3 km away.", "La estación está a 3 km."),
    ("«Hello», she said.", "«Hola», dijo ella."),
    ("Nobody knows why.", "Nadie sabe por qué."),
]
CORPUS = [s for pair in grammar.generate_pairs(400, seed=0) + HANDWRITTEN * 5 for s in pair]
ROUND_TRIP = [
    "¿Dónde está el niño? ¡Qué año!",
    "Él comió pingüino",
    "Ñandú, cigüeña y ÁRBOL: ¿por qué?",
    "I don't know... it's 3.5 km, isn't it?",
    "Dos  espacios y uno al final ",
]


@pytest.fixture(scope="module")
def tokenizer() -> BPETokenizer:
    return train_tokenizer(CORPUS, vocab_size=300)


def test_specials_have_fixed_ids(tokenizer) -> None:
    assert (tokenizer.pad_id, tokenizer.sos_id, tokenizer.eos_id, tokenizer.unk_id) == (0, 1, 2, 3)
    assert tokenizer.tokens([0, 1, 2, 3]) == ["<pad>", "<sos>", "<eos>", "<unk>"]
    assert len(tokenizer) == 300


@pytest.mark.parametrize("sentence", ROUND_TRIP)
def test_round_trip_is_exact(tokenizer, sentence) -> None:
    ids = tokenizer.encode(sentence)
    assert tokenizer.unk_id not in ids, "todos los caracteres están en el alfabeto base"
    assert tokenizer.decode(ids) == sentence


def test_decomposed_accents_come_back_composed(tokenizer) -> None:
    decomposed = unicodedata.normalize("NFD", "Él comió pingüino")
    assert decomposed != "Él comió pingüino"
    assert tokenizer.encode(decomposed) == tokenizer.encode("Él comió pingüino")
    assert tokenizer.decode(tokenizer.encode(decomposed)) == "Él comió pingüino"


def test_tokens_are_readable_pieces(tokenizer) -> None:
    sentence = "¿Dónde está el niño?"
    pieces = tokenizer.tokens(tokenizer.encode(sentence))
    # Sin usar el decodificador: juntar los trozos y cambiar ▁ por espacio devuelve la frase.
    assert "".join(pieces).replace("▁", " ").lstrip() == sentence
    assert "▁niño" in pieces and "?" in pieces, f"trozos inesperados: {pieces}"
    assert tokenizer.tokens(tokenizer.encode("the cat")) == ["▁the", "▁cat"], "las palabras frecuentes quedan enteras"


def test_first_merge_is_the_most_frequent_pair() -> None:
    # «▁ab» tres veces y «▁xab» una: el par (a, b) aparece 4 veces, (▁, a) 3, los demás 1.
    texts = ["ab ab ab xab"]
    smallest = 4 + len(set(BASE_ALPHABET) | {"▁"})
    tokenizer = train_tokenizer(texts, vocab_size=smallest + 1)
    assert len(tokenizer) == smallest + 1
    assert tokenizer.tokens([smallest]) == ["ab"]
    assert tokenizer.tokens(tokenizer.encode("xab ab")) == ["▁", "x", "ab", "▁", "ab"]


def test_specials_are_added_and_removed(tokenizer) -> None:
    ids = tokenizer.encode("Él comió pingüino")
    assert tokenizer.encode("Él comió pingüino", add_sos=True, add_eos=True) == [1, *ids, 2]
    assert tokenizer.decode([1, *ids, 2, *ids, 0, 0]) == "Él comió pingüino", "se detiene en el primer <eos>"
    assert tokenizer.decode(torch.tensor([1, *ids, 2, 0])) == "Él comió pingüino"
    padded = grammar.pad_sequences([[1, *ids, 2], [1, *tokenizer.encode("¡Qué año!"), 2]])
    assert tokenizer.decode_batch(padded) == ["Él comió pingüino", "¡Qué año!"]


def test_unknown_characters_become_unk(tokenizer) -> None:
    ids = tokenizer.encode("Hola 中 mundo")
    assert ids.count(tokenizer.unk_id) == 1
    assert tokenizer.decode(ids) == "Hola <unk> mundo"


def test_encode_batch_matches_encode(tokenizer) -> None:
    assert tokenizer.encode_batch(ROUND_TRIP, add_eos=True) == [tokenizer.encode(s, add_eos=True) for s in ROUND_TRIP]


def test_one_vocabulary_for_both_languages(tokenizer) -> None:
    english, spanish = tokenizer.encode("Tom is in the hospital."), tokenizer.encode("Tom está en el hospital.")
    name = tokenizer.encode("Tom")
    assert english[: len(name)] == spanish[: len(name)] == name, "el nombre propio tiene los mismos índices"
    assert tokenizer.unk_id not in english + spanish


def test_more_vocabulary_gives_shorter_sequences() -> None:
    sizes = [150, 300, 600]
    lengths = [sum(len(ids) for ids in train_tokenizer(CORPUS, v).encode_batch(CORPUS)) for v in sizes]
    assert lengths[0] > lengths[1] > lengths[2], f"longitudes totales {lengths} para vocabularios {sizes}"


def test_save_load_and_string_round_trip(tokenizer, tmp_path) -> None:
    path = tokenizer.save(tmp_path / "sub" / "tokenizador.json")
    loaded = BPETokenizer.load(path)
    again = BPETokenizer.from_str(tokenizer.to_str())
    for copy in (loaded, again):
        assert len(copy) == len(tokenizer)
        assert copy.encode_batch(ROUND_TRIP) == tokenizer.encode_batch(ROUND_TRIP)
        assert [copy.decode(copy.encode(s)) for s in ROUND_TRIP] == ROUND_TRIP


def test_training_is_deterministic_across_processes(tokenizer) -> None:
    assert train_tokenizer(CORPUS, vocab_size=300).to_str() == tokenizer.to_str()
    code = (
        "import sys\n"
        "from tests.test_tokenizer import CORPUS\n"
        "from course_lib.tokenizer import train_tokenizer\n"
        "sys.stdout.write(train_tokenizer(CORPUS, vocab_size=300).to_str())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert other.stdout == tokenizer.to_str(), "otro proceso (otra semilla de hash) debe dar el mismo vocabulario"


def test_training_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="`vocab_size` = 20 es demasiado pequeño"):
        train_tokenizer(CORPUS, vocab_size=20)
    with pytest.raises(ValueError, match="`texts` no tiene ninguna frase"):
        train_tokenizer([], vocab_size=300)
    with pytest.raises(ValueError, match="`texts` no tiene ninguna frase"):
        train_tokenizer(["", "  "], vocab_size=300)
    with pytest.raises(TypeError, match="una sola cadena"):
        train_tokenizer("Hola mundo", vocab_size=300)
    with pytest.raises(TypeError, match=r"`texts\[1\]`"):
        train_tokenizer(["hola", 3], vocab_size=300)
    with pytest.raises(ValueError, match="`min_frequency`"):
        train_tokenizer(CORPUS, vocab_size=300, min_frequency=0)


def test_usage_errors_are_clear(tokenizer, tmp_path) -> None:
    with pytest.raises(TypeError, match="`text` debe ser una cadena"):
        tokenizer.encode(["hola"])
    with pytest.raises(ValueError, match=r"`ids\[1\]` = 300 no es un índice"):
        tokenizer.decode([5, 300])
    with pytest.raises(ValueError, match=r"forma \(2, 3\)"):
        tokenizer.decode(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="`text` no es un tokenizador"):
        BPETokenizer.from_str("{no es json")
    with pytest.raises(FileNotFoundError, match="`path`"):
        BPETokenizer.load(tmp_path / "no-existe.json")
    with pytest.raises(ValueError, match="índices 0 a 3"):
        BPETokenizer(Tokenizer.from_str(tokenizer.to_str().replace('"<sos>"', '"<bos>"')))
