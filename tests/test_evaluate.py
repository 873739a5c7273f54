"""Pruebas de course_lib.evaluate: BLEU y chrF comparados con cuentas hechas a mano."""

from __future__ import annotations

import math

import pytest

from course_lib.evaluate import Scores, corpus_scores


def test_identical_translations_score_100() -> None:
    sentences = ["¿Dónde está el niño?", "Él comió pingüino."]
    scores = corpus_scores(sentences, sentences)
    assert scores.bleu == pytest.approx(100.0)
    assert scores.chrf == pytest.approx(100.0)


def test_bleu_by_hand_with_brevity_penalty() -> None:
    # Traducción (6 tokens): the cat sat on the mat; referencia (7): the cat sat on a mat today.
    # 1-gramas: the (recortado a 1), cat, sat, on, mat → 5/6.  2-gramas: the cat, cat sat, sat on → 3/5.
    # 3-gramas: the cat sat, cat sat on → 2/4.  4-gramas: the cat sat on → 1/3.  BP = exp(1 − 7/6).
    expected = 100 * math.exp(1 - 7 / 6) * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** (1 / 4)
    scores = corpus_scores(["the cat sat on the mat"], ["the cat sat on a mat today"])
    assert scores.bleu == pytest.approx(expected, abs=1e-9)
    assert 45.4 < scores.bleu < 45.6


def test_bleu_adds_counts_over_the_corpus() -> None:
    # Frase 1 idéntica (4 tokens). Frase 2: e f g h frente a e f x h.
    # Sumando: 1-gramas 7/8, 2-gramas 4/6, 3-gramas 2/4, 4-gramas 1/2; longitudes iguales → BP = 1.
    # (La media de BLEU por frase sería otra cosa: 100 y 0.)
    expected = 100 * (7 / 8 * 4 / 6 * 2 / 4 * 1 / 2) ** (1 / 4)
    scores = corpus_scores(["a b c d", "e f g h"], ["a b c d", "e f x h"])
    assert scores.bleu == pytest.approx(expected, abs=1e-9)


def test_bleu_of_a_corpus_without_4_grams_is_0() -> None:
    # BLEU mide hasta 4-gramas: un corpus de una palabra no tiene ninguno y puntúa 0 aunque acierte.
    assert corpus_scores(["hola"], ["hola"]).bleu == 0.0
    assert corpus_scores(["hola"], ["hola"]).chrf == pytest.approx(100.0)


def test_bleu_is_case_sensitive() -> None:
    lower = corpus_scores(["the cat sat on the mat"], ["the cat sat on a mat today"]).bleu
    upper = corpus_scores(["The cat sat on the mat"], ["the cat sat on a mat today"]).bleu
    assert upper < lower


def test_chrf_by_hand() -> None:
    # «gato» frente a «gatos»: para n = 1…4 todos los n-gramas de la traducción están en la
    # referencia (precisión 1) y la exhaustividad es 4/5, 3/4, 2/3, 1/2; n = 5, 6 no cuentan
    # (la traducción no tiene). chrF = F_β (β = 2) de las medias: 5 · P · R / (4 · P + R).
    recall = (4 / 5 + 3 / 4 + 2 / 3 + 1 / 2) / 4
    expected = 100 * 5 * 1.0 * recall / (4 * 1.0 + recall)
    assert corpus_scores(["gato"], ["gatos"]).chrf == pytest.approx(expected, abs=1e-9)


def test_signatures_say_how_it_was_measured() -> None:
    scores = corpus_scores(["Tom tiene un gato negro."], ["Tom tiene un gato negro."])
    assert "tok:13a" in scores.bleu_signature and "case:mixed" in scores.bleu_signature
    assert "nc:6" in scores.chrf_signature
    text = str(scores)
    assert "BLEU = 100.0" in text and "chrF = 100.0" in text and "firma de BLEU: nrefs:1" in text


def test_scores_is_a_frozen_dataclass() -> None:
    scores = Scores(bleu=1.0, chrf=2.0, bleu_signature="a", chrf_signature="b")
    with pytest.raises(AttributeError):
        scores.bleu = 3.0  # type: ignore[misc]


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="mismo número de frases; tienen 2 y 1"):
        corpus_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="`hypotheses` está vacía"):
        corpus_scores([], [])
    with pytest.raises(TypeError, match="`hypotheses` debe ser una lista"):
        corpus_scores("hola", "hola")
    with pytest.raises(TypeError, match=r"`references\[1\]` debe ser una cadena"):
        corpus_scores(["a", "b"], ["a", ["b"]])
