"""Pruebas de course_lib.grammar: el corpus sintético español–inglés, el vocabulario y los lotes.

Las referencias son ejemplos escritos a mano y reglas de la gramática comprobadas
sobre muchas frases (concordancia, orden del adjetivo, longitudes), no la salida de
la propia biblioteca.
"""

from __future__ import annotations

import time

import pytest
import torch

from course_lib import grammar
from course_lib.grammar import Vocab


@pytest.fixture(scope="module")
def many_pairs() -> list[tuple[str, str]]:
    return grammar.generate_pairs(3000, seed=123, min_len=3, max_len=30)


# --- generate_pairs ------------------------------------------------------------------------


def test_same_seed_same_pairs_and_different_seed_different_pairs():
    """La semilla fija el resultado por completo; otra semilla da otras frases."""
    first = grammar.generate_pairs(50, seed=7)
    assert first == grammar.generate_pairs(50, seed=7), "misma semilla, mismos pares"
    assert first != grammar.generate_pairs(50, seed=8), "otra semilla debería dar otros pares"


def test_known_pairs_for_seed_zero():
    """Regresión: las primeras frases de la semilla 0 no cambian sin querer (los cuadernos las muestran)."""
    assert grammar.generate_pairs(3, seed=0, min_len=3, max_len=6) == [
        ("una profesora no dibuja mi coche", "a teacher does not draw my car"),
        ("mi médico no trabaja", "my doctor does not work"),
        ("estas mujeres no cantan", "these women do not sing"),
    ]


def test_lengths_within_bounds_and_all_represented(many_pairs):
    """Cada frase española mide entre min_len y max_len palabras, y salen todas las longitudes."""
    lengths = [len(es.split()) for es, _ in many_pairs]
    assert min(lengths) >= 3 and max(lengths) <= 30
    assert set(lengths) == set(range(3, 31)), "con 3000 pares deben aparecer todas las longitudes"
    exact = grammar.generate_pairs(40, seed=1, min_len=17, max_len=17)
    assert all(len(es.split()) == 17 for es, _ in exact)


NOUN_FORMS = {  # forma española → (género, plural)
    **{n.es: (n.gender, False) for n in grammar.SUBJECTS + grammar.OBJECTS},
    **{n.es_plural: (n.gender, True) for n in grammar.SUBJECTS + grammar.OBJECTS},
}
NOUNS_EN = {w for n in grammar.SUBJECTS + grammar.OBJECTS for w in (n.en, n.en_plural)}
ADJECTIVE_FORMS: dict[str, tuple[str | None, bool]] = {}  # forma española → (género o None si no varía, plural)
for a in grammar.ADJECTIVES:
    ADJECTIVE_FORMS[a.es_m] = ("m" if a.es_m != a.es_f else None, False)
    ADJECTIVE_FORMS[a.es_f] = ("f" if a.es_m != a.es_f else None, False)
    ADJECTIVE_FORMS[a.es_m_plural] = ("m" if a.es_m_plural != a.es_f_plural else None, True)
    ADJECTIVE_FORMS[a.es_f_plural] = ("f" if a.es_m_plural != a.es_f_plural else None, True)
ADJECTIVES_EN = {a.en for a in grammar.ADJECTIVES}


def test_adjective_after_noun_in_spanish_before_in_english_and_agreeing(many_pairs):
    """«el gato negro» ↔ «the black cat»: el adjetivo cambia de lado y concuerda con el sustantivo."""
    for es, en in many_pairs:
        words = es.split()
        for i, word in enumerate(words):
            if word in ADJECTIVE_FORMS:
                noun = words[i - 2] if words[i - 1] == "muy" else words[i - 1]
                assert noun in NOUN_FORMS, f"en español el adjetivo va tras el sustantivo: {es}"
                gender, plural = ADJECTIVE_FORMS[word]
                noun_gender, noun_plural = NOUN_FORMS[noun]
                assert noun_plural == plural, f"«{noun} {word}» no concuerda en número: {es}"
                assert gender in (None, noun_gender), f"«{noun} {word}» no concuerda en género: {es}"
        english = en.split()
        for i, word in enumerate(english):
            if word in ADJECTIVES_EN:
                assert english[i + 1] in NOUNS_EN, f"en inglés el adjetivo va delante del sustantivo: {en}"


def test_determiner_agreement(many_pairs):
    """«el», «un», «este» y «del» van con masculinos singulares; «la», «una», «esta», con femeninos."""
    for es, _ in many_pairs:
        words = es.split()
        for word, following in zip(words, words[1:], strict=False):
            if word in {"el", "un", "este", "del"}:
                assert NOUN_FORMS.get(following) == ("m", False), f"«{word} {following}»: {es}"
            if word in {"la", "una", "esta"}:
                assert NOUN_FORMS.get(following) == ("f", False), f"«{word} {following}»: {es}"
            if word in {"las", "unas", "estas"} and following in NOUN_FORMS:
                assert NOUN_FORMS[following] == ("f", True), f"«{word} {following}»: {es}"


def test_verb_agreement_and_negation_in_english(many_pairs):
    """Sujeto singular → «eats»/«does not eat»; plural → «eat»/«do not eat»."""
    seen = set()
    for es, en in many_pairs:
        if " no come " in f" {es} ":
            assert "does not eat" in en, (es, en)
            seen.add("no come")
        if " comen " in f" {es} " and " no comen " not in f" {es} ":
            assert " eat " in f" {en} ", (es, en)
            seen.add("comen")
    assert seen == {"no come", "comen"}, "la muestra debería incluir ambos casos"


def test_contraction_and_multiword_translations(many_pairs):
    """«de el» se contrae en «del»; «busca» → «looks for» y «delante de» → «in front of»."""
    assert not any(" de el " in f" {es} " for es, _ in many_pairs)
    assert any(" del " in f" {es} " for es, _ in many_pairs)
    for es, en in many_pairs:
        if " busca " in f" {es} " and " no busca " not in f" {es} ":
            assert "looks for" in en, (es, en)
        if "delante" in es.split():
            assert "in front of" in en, (es, en)


def test_article_an_before_vowel(many_pairs):
    """«un árbol» → «a tree», pero «un libro viejo» → «an old book»."""
    for _, en in many_pairs:
        words = en.split()
        for i, word in enumerate(words[:-1]):
            if word == "a":
                assert words[i + 1][0] not in "aeiou", en
            if word == "an":
                assert words[i + 1][0] in "aeiou", en


def test_generation_is_fast():
    """Diez mil pares en pocos segundos (holgado: la máquina puede estar ocupada)."""
    start = time.perf_counter()
    grammar.generate_pairs(10_000, seed=0, min_len=3, max_len=25)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"n": -1}, ValueError, "`n`"),
        ({"n": 2.5}, TypeError, "`n`"),
        ({"n": 5, "min_len": 2}, ValueError, "`min_len`"),
        ({"n": 5, "min_len": 8, "max_len": 5}, ValueError, "`max_len`"),
        ({"n": 5, "seed": "a"}, TypeError, "`seed`"),
    ],
)
def test_generate_pairs_errors_in_spanish(kwargs, error, text):
    """Argumentos incorrectos dan un error en español que nombra el argumento."""
    with pytest.raises(error, match=text):
        grammar.generate_pairs(**kwargs)


# --- Vocab ---------------------------------------------------------------------------------


def test_vocab_special_ids_and_roundtrip():
    """<pad>=0, <sos>=1, <eos>=2, <unk>=3; codificar y decodificar devuelve la frase."""
    vocab = Vocab(["el", "gato", "duerme", "gato"])
    assert vocab.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
    assert (vocab.pad_id, vocab.sos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
    assert len(vocab) == 7, "las palabras repetidas no se añaden dos veces"
    ids = vocab.encode("el gato duerme", add_sos=True, add_eos=True)
    assert ids == [1, 4, 5, 6, 2]
    assert vocab.decode(ids) == "el gato duerme"
    assert vocab.decode([4, 5, 2, 6, 6]) == "el gato", "decode se detiene en <eos>"
    assert vocab.decode(torch.tensor([4, 0, 5])) == "el gato", "decode omite el relleno"
    assert vocab.encode(["el", "perro"]) == [4, 3], "una palabra desconocida da <unk>"
    assert vocab.tokens([1, 4, 2, 0]) == ["<sos>", "el", "<eos>", "<pad>"]


def test_vocab_rejects_words_with_spaces():
    with pytest.raises(ValueError, match="sin espacios"):
        Vocab(["looks for"])


def test_build_vocabs_cover_every_generated_word(many_pairs):
    """Los vocabularios salen del léxico y cubren todas las frases: nunca aparece <unk>."""
    src_vocab, tgt_vocab = grammar.build_vocabs()
    for es, en in many_pairs:
        assert grammar.UNK_ID not in src_vocab.encode(es), es
        assert grammar.UNK_ID not in tgt_vocab.encode(en), en
    again = grammar.build_vocabs()
    assert again[0].itos == src_vocab.itos and again[1].itos == tgt_vocab.itos, "los ids no dependen de nada"


# --- Lotes ---------------------------------------------------------------------------------


def test_pad_sequences():
    out = grammar.pad_sequences([[5, 6, 7], [8]])
    assert out.dtype == torch.long
    assert out.tolist() == [[5, 6, 7], [8, 0, 0]]
    with pytest.raises(ValueError, match="vacía"):
        grammar.pad_sequences([])


def test_make_batch_teacher_forcing_layout():
    """tgt_in = <sos> + frase, tgt_out = frase + <eos>, desplazadas una posición; máscaras = no relleno."""
    src_vocab, tgt_vocab = grammar.build_vocabs()
    pairs = [("el gato negro duerme", "the black cat sleeps"), ("un perro corre", "a dog runs")]
    batch = grammar.make_batch(pairs, src_vocab, tgt_vocab)
    assert batch.src.shape == (2, 4) and batch.tgt_in.shape == (2, 5) and batch.tgt_out.shape == (2, 5)
    assert src_vocab.decode(batch.src[1]) == "un perro corre"
    assert batch.src_mask.tolist() == [[True] * 4, [True, True, True, False]]
    assert tgt_vocab.tokens(batch.tgt_in[0]) == ["<sos>", "the", "black", "cat", "sleeps"]
    assert tgt_vocab.tokens(batch.tgt_out[0]) == ["the", "black", "cat", "sleeps", "<eos>"]
    assert tgt_vocab.tokens(batch.tgt_out[1]) == ["a", "dog", "runs", "<eos>", "<pad>"]
    words = batch.tgt_in[:, 1:] != grammar.PAD_ID  # las palabras de tgt_in, sin <sos>
    assert torch.equal(batch.tgt_in[:, 1:][words], batch.tgt_out[:, :-1][words]), "tgt_out es tgt_in adelantada uno"
    assert batch.tgt_mask.sum().item() == 9


@pytest.mark.parametrize("by_length", [False, True])
def test_batches_cover_every_pair_once_and_shuffle_is_seeded(by_length):
    src_vocab, tgt_vocab = grammar.build_vocabs()
    pairs = grammar.generate_pairs(50, seed=4, min_len=3, max_len=12)

    def collect(seed):
        seen = []
        for batch in grammar.batches(pairs, src_vocab, tgt_vocab, 8, shuffle=True, seed=seed, by_length=by_length):
            assert batch.src.size(0) <= 8
            seen += [src_vocab.decode(row) for row in batch.src]
        return seen

    first = collect(0)
    assert sorted(first) == sorted(es for es, _ in pairs), "cada par aparece exactamente una vez"
    assert first == collect(0), "misma semilla, mismo orden"
    assert first != collect(1), "otra semilla, otro orden"


def test_batches_by_length_group_similar_lengths():
    """Con by_length, cada lote tiene frases de longitud parecida (poco relleno)."""
    src_vocab, tgt_vocab = grammar.build_vocabs()
    pairs = grammar.generate_pairs(400, seed=5, min_len=3, max_len=25)
    plain = list(grammar.batches(pairs, src_vocab, tgt_vocab, 32, shuffle=True))
    grouped = list(grammar.batches(pairs, src_vocab, tgt_vocab, 32, shuffle=True, by_length=True))
    padding = lambda bs: sum((~b.src_mask).sum().item() for b in bs)  # noqa: E731
    assert padding(grouped) < padding(plain) / 4


def test_batches_rejects_bad_batch_size():
    src_vocab, tgt_vocab = grammar.build_vocabs()
    with pytest.raises(ValueError, match="`batch_size`"):
        next(grammar.batches([("el gato duerme", "the cat sleeps")], src_vocab, tgt_vocab, 0))
