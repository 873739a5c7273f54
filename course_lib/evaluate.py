"""BLEU y chrF de un corpus traducido, con sacreBLEU (cuaderno 07).

**BLEU** (Papineni et al., 2002) cuenta cuántos n-gramas (de 1 a 4 palabras) de la
traducción aparecen en la referencia, hace la media geométrica de esas cuatro
precisiones y la multiplica por una penalización si la traducción es más corta que la
referencia (penalización por brevedad, BP):

    ``BLEU = 100 · BP · exp(¼ · Σₙ log pₙ)``,    ``BP = min(1, exp(1 − r / c))``

con ``r`` y ``c`` las longitudes totales (en tokens) de las referencias y de las traducciones.
Se calcula sobre el corpus entero (se suman los recuentos de todas las frases), no como
media de frases. **chrF** (Popović, 2015) hace lo mismo con n-gramas de caracteres (de 1
a 6, sin espacios) y combina precisión y exhaustividad con una media F de β = 2; es más
justo con idiomas de morfología rica como el español («comió» frente a «comía»).

BLEU es una medida de corpus: con una sola frase corta apenas dice nada (un corpus sin
ningún 4-grama, como «hola» frente a «hola», puntúa 0 aunque acierte).

Las dos se calculan con ``sacrebleu.metrics.BLEU()`` y ``CHRF()`` con sus valores por
defecto (respetando mayúsculas, tokenización ``13a``), que son los que usan las
puntuaciones publicadas de ``tatoeba-test`` (ver :func:`course_lib.data.load_tatoeba_test`);
la **firma** de sacreBLEU (``nrefs:1|case:mixed|eff:no|tok:13a|…``) dice exactamente cómo se
midió, para que dos números sean comparables. sacreBLEU da chrF de 0 a 100; algunas
tablas lo publican de 0 a 1 (0,721 = 72,1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sacrebleu.metrics import BLEU, CHRF


@dataclass(frozen=True)
class Scores:
    """Puntuaciones de un corpus traducido.

    Attributes:
        bleu: BLEU de 0 a 100.
        chrf: chrF de 0 a 100.
        bleu_signature: firma de sacreBLEU de la medida de BLEU.
        chrf_signature: firma de sacreBLEU de la medida de chrF.
    """

    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str

    def __str__(self) -> str:
        return (
            f"BLEU = {self.bleu:.1f}  chrF = {self.chrf:.1f}\n"
            f"  firma de BLEU: {self.bleu_signature}\n"
            f"  firma de chrF: {self.chrf_signature}"
        )


def _check_sentences(name: str, sentences: object) -> list[str]:
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, Sequence):
        raise TypeError(f"`{name}` debe ser una lista de frases; recibí {type(sentences).__name__}.")
    for i, sentence in enumerate(sentences):
        if not isinstance(sentence, str):
            raise TypeError(f"`{name}[{i}]` debe ser una cadena; recibí {type(sentence).__name__}.")
    return list(sentences)


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> Scores:
    """BLEU y chrF de unas traducciones frente a una referencia por frase.

    Args:
        hypotheses: las traducciones del modelo, una cadena por frase (sin tokenizar:
            sacreBLEU tokeniza él mismo).
        references: la traducción de referencia de cada frase, en el mismo orden.

    Returns:
        :class:`Scores` con BLEU, chrF (de 0 a 100) y sus firmas.
    """
    hypotheses = _check_sentences("hypotheses", hypotheses)
    references = _check_sentences("references", references)
    if len(hypotheses) != len(references):
        raise ValueError(
            f"`hypotheses` y `references` deben tener el mismo número de frases; tienen {len(hypotheses)} "
            f"y {len(references)}."
        )
    if not hypotheses:
        raise ValueError("`hypotheses` está vacía: hace falta al menos una frase para puntuar.")
    bleu, chrf = BLEU(), CHRF()
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    return Scores(
        bleu=float(bleu_score.score),
        chrf=float(chrf_score.score),
        bleu_signature=str(bleu.get_signature()),
        chrf_signature=str(chrf.get_signature()),
    )


__all__ = ["Scores", "corpus_scores"]
