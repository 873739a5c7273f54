"""Un corpus paralelo español–inglés sintético, generado por una gramática pequeña (cuaderno 01).

Sirve en todos los cuadernos donde hace falta traducir algo sin descargar datos: es
determinista (misma semilla, mismas frases en cualquier máquina), rápido (más de diez
mil pares por segundo) y tiene lo justo para que la atención tenga algo que
aprender:

- **Orden distinto.** En español el adjetivo va detrás del sustantivo y en inglés
  delante: «el gato negro» ↔ ``the black cat``, «la casa muy vieja» ↔
  ``the very old house``. En un mapa de atención eso se ve como líneas que se cruzan.
- **Concordancia.** Determinantes y adjetivos concuerdan en género y número con el
  sustantivo («la niña alta», «los dos perros negros»); los verbos, con el sujeto
  («come» / «comen» ↔ ``eats`` / ``eat``).
- **Palabras que no se corresponden una a una.** «busca» ↔ ``looks for``,
  «no come» ↔ ``does not eat``, «delante del coche» ↔ ``in front of the car``.
- **Frases largas.** Varias oraciones unidas con «y», «pero», «porque» o «mientras»,
  con la longitud (en palabras españolas) que se pida.

Uso típico:

```
from course_lib import grammar

pairs = grammar.generate_pairs(1000, seed=0, min_len=3, max_len=12)   # [(español, inglés), ...]
src_vocab, tgt_vocab = grammar.build_vocabs()
src_vocab.encode(pairs[0][0])                                          # [47, 57, ...]
for batch in grammar.batches(pairs, src_vocab, tgt_vocab, batch_size=64, shuffle=True, seed=0):
    batch.src, batch.src_mask, batch.tgt_in, batch.tgt_out             # tensores (B, T)
```

Las frases van en minúsculas, sin puntuación, con las palabras separadas por un
espacio: ``sentence.split()`` las divide en palabras. La longitud de una frase es siempre
la de la española (número de palabras).

Los tokens especiales, :class:`~course_lib.tokens.Batch` y :func:`~course_lib.tokens.pad_sequences`
viven en :mod:`course_lib.tokens` (los usan también los datos reales y los modelos); se
reexportan aquí para que ``grammar.PAD_ID`` o ``grammar.Batch`` sigan funcionando.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from torch import Tensor

from course_lib.tokens import EOS_ID, PAD_ID, SOS_ID, SPECIALS, UNK, UNK_ID, Batch, pad_sequences, strip_special

# --- Léxico --------------------------------------------------------------------------------


class Noun(NamedTuple):
    """Un sustantivo: formas españolas, género («m»/«f») y formas inglesas."""

    es: str
    es_plural: str
    gender: str
    en: str
    en_plural: str


class Adjective(NamedTuple):
    """Un adjetivo: sus cuatro formas españolas (masc./fem., sing./pl.) y la inglesa."""

    es_m: str
    es_f: str
    es_m_plural: str
    es_f_plural: str
    en: str


class Verb(NamedTuple):
    """Un verbo en presente: 3.ª persona del singular y del plural en español; en inglés,
    la forma base (``eat``) y la de 3.ª persona del singular (``eats``), cada una como una
    tupla de palabras (``("look", "for")``). ``objects`` limita los complementos
    (``None``: cualquier objeto; tupla vacía: intransitivo)."""

    es: str
    es_plural: str
    en: tuple[str, ...]
    en_3sg: tuple[str, ...]
    objects: tuple[str, ...] | None


# Sujetos: seres animados (así ningún objeto necesita la «a» personal del español).
SUBJECTS: tuple[Noun, ...] = (
    Noun("gato", "gatos", "m", "cat", "cats"),
    Noun("perro", "perros", "m", "dog", "dogs"),
    Noun("niño", "niños", "m", "boy", "boys"),
    Noun("niña", "niñas", "f", "girl", "girls"),
    Noun("hombre", "hombres", "m", "man", "men"),
    Noun("mujer", "mujeres", "f", "woman", "women"),
    Noun("pájaro", "pájaros", "m", "bird", "birds"),
    Noun("vaca", "vacas", "f", "cow", "cows"),
    Noun("profesora", "profesoras", "f", "teacher", "teachers"),
    Noun("médico", "médicos", "m", "doctor", "doctors"),
)

# Objetos y lugares: cosas.
OBJECTS: tuple[Noun, ...] = (
    Noun("libro", "libros", "m", "book", "books"),
    Noun("casa", "casas", "f", "house", "houses"),
    Noun("mesa", "mesas", "f", "table", "tables"),
    Noun("manzana", "manzanas", "f", "apple", "apples"),
    Noun("pescado", "pescados", "m", "fish", "fish"),
    Noun("coche", "coches", "m", "car", "cars"),
    Noun("flor", "flores", "f", "flower", "flowers"),
    Noun("carta", "cartas", "f", "letter", "letters"),
    Noun("pelota", "pelotas", "f", "ball", "balls"),
    Noun("sombrero", "sombreros", "m", "hat", "hats"),
    Noun("árbol", "árboles", "m", "tree", "trees"),
    Noun("naranja", "naranjas", "f", "orange", "oranges"),
)

FOOD = ("manzana", "pescado", "naranja")
READABLE = ("libro", "carta")

ADJECTIVES: tuple[Adjective, ...] = (
    Adjective("negro", "negra", "negros", "negras", "black"),
    Adjective("blanco", "blanca", "blancos", "blancas", "white"),
    Adjective("rojo", "roja", "rojos", "rojas", "red"),
    Adjective("pequeño", "pequeña", "pequeños", "pequeñas", "small"),
    Adjective("grande", "grande", "grandes", "grandes", "big"),
    Adjective("viejo", "vieja", "viejos", "viejas", "old"),
    Adjective("nuevo", "nueva", "nuevos", "nuevas", "new"),
    Adjective("bonito", "bonita", "bonitos", "bonitas", "pretty"),
    Adjective("alto", "alta", "altos", "altas", "tall"),
    Adjective("feliz", "feliz", "felices", "felices", "happy"),
)

VERBS: tuple[Verb, ...] = (
    Verb("ve", "ven", ("see",), ("sees",), None),
    Verb("mira", "miran", ("watch",), ("watches",), None),
    Verb("tiene", "tienen", ("have",), ("has",), None),
    Verb("quiere", "quieren", ("want",), ("wants",), None),
    Verb("busca", "buscan", ("look", "for"), ("looks", "for"), None),
    Verb("compra", "compran", ("buy",), ("buys",), None),
    Verb("lleva", "llevan", ("carry",), ("carries",), None),
    Verb("dibuja", "dibujan", ("draw",), ("draws",), None),
    Verb("come", "comen", ("eat",), ("eats",), FOOD),
    Verb("lee", "leen", ("read",), ("reads",), READABLE),
    Verb("duerme", "duermen", ("sleep",), ("sleeps",), ()),
    Verb("corre", "corren", ("run",), ("runs",), ()),
    Verb("canta", "cantan", ("sing",), ("sings",), ()),
    Verb("salta", "saltan", ("jump",), ("jumps",), ()),
    Verb("trabaja", "trabajan", ("work",), ("works",), ()),
)

NUMBERS: tuple[tuple[str, str], ...] = (
    ("dos", "two"),
    ("tres", "three"),
    ("cuatro", "four"),
    ("cinco", "five"),
    ("seis", "six"),
    ("siete", "seven"),
    ("ocho", "eight"),
    ("nueve", "nine"),
    ("diez", "ten"),
)

# Determinantes: (masculino singular, femenino singular, masculino plural, femenino plural,
# inglés singular, inglés plural). «un»/«una» se traduce ``a`` o ``an`` según la palabra siguiente.
DETERMINERS: dict[str, tuple[str, str, str, str, str, str]] = {
    "definite": ("el", "la", "los", "las", "the", "the"),
    "indefinite": ("un", "una", "unos", "unas", "a", "some"),
    "demonstrative": ("este", "esta", "estos", "estas", "this", "these"),
    "possessive": ("mi", "mi", "mis", "mis", "my", "my"),
}

# Preposiciones de los complementos de lugar: (español, inglés). Las que acaban en «de»
# se contraen con «el»: «cerca de el coche» → «cerca del coche».
PREPOSITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("en", ("in",)),
    ("con", ("with",)),
    ("sobre", ("on",)),
    ("cerca de", ("near",)),
    ("debajo de", ("under",)),
    ("detrás de", ("behind",)),
    ("delante de", ("in", "front", "of")),
)

CONNECTORS: tuple[tuple[str, str], ...] = (
    ("y", "and"),
    ("pero", "but"),
    ("porque", "because"),
    ("mientras", "while"),
)

INTENSIFIER = ("muy", "very")
NEGATION_ES = "no"

MIN_LEN = 3  # la oración más corta: «el gato duerme»
_CLAUSE_MAX = 12  # longitud máxima de cada oración dentro de una frase compuesta


# --- Generación ----------------------------------------------------------------------------

Phrase = tuple[list[str], list[str]]  # (palabras españolas, palabras inglesas)


def _article_en(word: str, following: str) -> str:
    """``a`` → ``an`` delante de vocal: ``an old cat``, ``an apple``."""
    return "an" if word == "a" and following[0] in "aeiou" else word


def _np_shapes() -> dict[int, tuple[tuple[tuple[bool, bool, bool, bool], ...], tuple[float, ...]]]:
    """Formas posibles de un sintagma nominal según su longitud, con su peso (probabilidad relativa).

    Cada forma es (con número, con determinante, con adjetivo, con «muy»); las que llevan
    número pesan menos para que no aparezcan cifras en casi todas las frases.
    """
    table: dict[int, tuple[tuple, tuple]] = {}
    for length in range(2, 6):
        shapes = [
            (num, det, adj, very)
            for num in (False, True)
            for det in (True, False)
            for adj in (False, True)
            for very in (False, True)
            if (det or num) and (adj or not very) and 1 + det + num + adj + very == length
        ]
        table[length] = (tuple(shapes), tuple(0.25 if s[0] else 1.0 for s in shapes))
    return table


_NP_SHAPES = _np_shapes()


def _noun_phrase(rng: random.Random, nouns: Sequence[Noun], length: int) -> tuple[Phrase, bool, str]:
    """Un sintagma nominal de exactamente ``length`` palabras españolas (2 a 5).

    Devuelve ``((es, en), plural, primera palabra española)``.

    Formas (determinante, número, sustantivo, adjetivo): ``D N``, ``D N A``, ``D N muy A``,
    ``[D] NUM N [A]`` y ``[D] NUM N muy A``.
    """
    noun = rng.choice(nouns)
    shapes, weights = _NP_SHAPES.get(length, ((), ()))
    if not shapes:
        raise ValueError(f"Un sintagma nominal tiene de 2 a 5 palabras; pediste {length}.")
    with_number, with_det, with_adj, with_very = rng.choices(shapes, weights)[0]
    plural = with_number or rng.random() < 0.35
    es: list[str] = []
    en: list[str] = []
    index = (noun.gender == "f") + 2 * plural
    if with_det:
        kind = rng.choice(["definite", "definite", "indefinite", "demonstrative", "possessive"])
        if with_number and kind == "indefinite":  # «unos dos gatos» no: con número, «los dos gatos»
            kind = "definite"
        forms = DETERMINERS[kind]
        es.append(forms[index])
        en.append(forms[5] if plural else forms[4])
    if with_number:
        number_es, number_en = rng.choice(NUMBERS)
        es.append(number_es)
        en.append(number_en)
    es.append(noun.es_plural if plural else noun.es)
    if with_adj:
        adjective = rng.choice(ADJECTIVES)
        if with_very:
            es.append(INTENSIFIER[0])
            en.append(INTENSIFIER[1])
        es.append(adjective[index])
        en.append(adjective.en)  # en inglés, el adjetivo va delante del sustantivo
    en.append(noun.en_plural if plural else noun.en)
    if en[0] == "a":
        en[0] = _article_en("a", en[1])
    return (es, en), plural, es[0]


def _place_options(length: int) -> list[tuple[tuple[str, str], int]]:
    """(preposición, longitud del sintagma nominal) que suman ``length`` palabras españolas."""
    return [
        (prep, n)
        for prep in PREPOSITIONS
        for n in range(2, 6)
        # con contracción («del») se pierde una palabra
        if len(prep[0].split()) + n == length or (prep[0].endswith(" de") and len(prep[0].split()) + n - 1 == length)
    ]


_PLACE_OPTIONS = {n: _place_options(n) for n in range(3, 7)}


def _place(rng: random.Random, length: int) -> Phrase:
    """Un complemento de lugar («en la mesa vieja», «delante del coche») de ``length`` palabras (3 a 6)."""
    options = _PLACE_OPTIONS[length]
    while True:
        (prep_es, prep_en), n = rng.choice(options)
        (es, en), _, first = _noun_phrase(rng, OBJECTS, n)
        words = prep_es.split()
        if prep_es.endswith(" de") and first == "el":
            es = [*words[:-1], "del", *es[1:]]
        else:
            es = [*words, *es]
        if len(es) == length:
            return es, [*prep_en, *en]


def _clause_plans(length: int) -> list[tuple[int, bool, int, int]]:
    """Las maneras de repartir ``length`` palabras en (sujeto, «no», objeto, lugar)."""
    plans = []
    for subject in range(2, 6):
        for negated in (False, True):
            for obj in (0, 2, 3, 4, 5):
                for place in (0, 3, 4, 5, 6):
                    if subject + negated + 1 + obj + place == length:
                        plans.append((subject, negated, obj, place))
    return plans


_PLANS = {n: _clause_plans(n) for n in range(MIN_LEN, _CLAUSE_MAX + 1)}


def _clause(rng: random.Random, length: int) -> Phrase:
    """Una oración simple de exactamente ``length`` palabras españolas."""
    subject_len, negated, object_len, place_len = rng.choice(_PLANS[length])
    (es, en), plural, _ = _noun_phrase(rng, SUBJECTS, subject_len)
    verbs = [v for v in VERBS if (v.objects == ()) == (object_len == 0)]
    verb = rng.choice(verbs)
    if negated:
        es.append(NEGATION_ES)
        en += ["do" if plural else "does", "not"]
    es.append(verb.es_plural if plural else verb.es)
    en += verb.en if plural or negated else verb.en_3sg
    if object_len:
        allowed = [n for n in OBJECTS if verb.objects is None or n.es in verb.objects]
        (obj_es, obj_en), _, _ = _noun_phrase(rng, allowed, object_len)
        es += obj_es
        en += obj_en
    if place_len:
        place_es, place_en = _place(rng, place_len)
        es += place_es
        en += place_en
    return es, en


def _split(rng: random.Random, length: int) -> list[int]:
    """Reparte ``length`` palabras en oraciones de 3 a 12 palabras más un conector entre cada dos."""
    fewest = -(-(length + 1) // (_CLAUSE_MAX + 1))
    most = (length + 1) // (MIN_LEN + 1)
    n_clauses = rng.randint(fewest, min(most, fewest + 1))
    budget = length - (n_clauses - 1)  # palabras para las oraciones (sin conectores)
    sizes = []
    for i in range(n_clauses):
        rest = n_clauses - i - 1
        low = max(MIN_LEN, budget - rest * _CLAUSE_MAX)
        high = min(_CLAUSE_MAX, budget - rest * MIN_LEN)
        size = rng.randint(low, high)
        sizes.append(size)
        budget -= size
    return sizes


def sentence_pair(rng: random.Random, length: int) -> tuple[str, str]:
    """Un par (español, inglés) cuya frase española tiene exactamente ``length`` palabras.

    Args:
        rng: generador de números aleatorios (``random.Random(semilla)``); se consume.
        length: número de palabras de la frase española (3 o más).
    """
    if not isinstance(length, int) or isinstance(length, bool) or length < MIN_LEN:
        raise ValueError(f"`length` debe ser un entero mayor o igual que {MIN_LEN}; recibí {length!r}.")
    es: list[str] = []
    en: list[str] = []
    for i, size in enumerate(_split(rng, length)):
        if i:
            connector_es, connector_en = rng.choice(CONNECTORS)
            es.append(connector_es)
            en.append(connector_en)
        clause_es, clause_en = _clause(rng, size)
        es += clause_es
        en += clause_en
    return " ".join(es), " ".join(en)


def generate_pairs(n: int, seed: int = 0, min_len: int = MIN_LEN, max_len: int = 12) -> list[tuple[str, str]]:
    """Genera ``n`` pares de frases (español, inglés) con la gramática del curso.

    La longitud de cada frase española se elige uniformemente entre ``min_len`` y
    ``max_len`` palabras (ambos incluidos), así que todas las longitudes están igual de
    representadas. El resultado depende solo de los argumentos: la misma semilla da
    los mismos pares en cualquier máquina.

    Args:
        n: número de pares (0 o más).
        seed: semilla del generador.
        min_len: longitud mínima de la frase española, en palabras (3 o más).
        max_len: longitud máxima de la frase española, en palabras.

    Returns:
        Lista de ``n`` pares ``(español, inglés)``; palabras separadas por espacios.
    """
    for name, value in (("n", n), ("seed", seed), ("min_len", min_len), ("max_len", max_len)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"`{name}` debe ser un entero; recibí {type(value).__name__}.")
    if n < 0:
        raise ValueError(f"`n` no puede ser negativo; recibí {n}.")
    if min_len < MIN_LEN:
        raise ValueError(f"`min_len` debe ser al menos {MIN_LEN} (la frase más corta posible); recibí {min_len}.")
    if max_len < min_len:
        raise ValueError(f"`max_len` ({max_len}) no puede ser menor que `min_len` ({min_len}).")
    rng = random.Random(seed)
    return [sentence_pair(rng, rng.randint(min_len, max_len)) for _ in range(n)]


def spanish_words() -> list[str]:
    """Todas las palabras que la gramática puede escribir en español, ordenadas."""
    words = {w for n in SUBJECTS + OBJECTS for w in (n.es, n.es_plural)}
    words |= {w for a in ADJECTIVES for w in a[:4]}
    words |= {w for v in VERBS for w in (v.es, v.es_plural)}
    words |= {es for es, _ in NUMBERS} | {w for forms in DETERMINERS.values() for w in forms[:4]}
    words |= {w for es, _ in PREPOSITIONS for w in es.split()} | {"del"}
    words |= {es for es, _ in CONNECTORS} | {INTENSIFIER[0], NEGATION_ES}
    return sorted(words)


def english_words() -> list[str]:
    """Todas las palabras que la gramática puede escribir en inglés, ordenadas."""
    words = {w for n in SUBJECTS + OBJECTS for w in (n.en, n.en_plural)}
    words |= {a.en for a in ADJECTIVES}
    words |= {w for v in VERBS for w in (*v.en, *v.en_3sg)}
    words |= {en for _, en in NUMBERS} | {w for forms in DETERMINERS.values() for w in forms[4:]} | {"an"}
    words |= {w for _, en in PREPOSITIONS for w in en}
    words |= {en for _, en in CONNECTORS} | {INTENSIFIER[1], "do", "does", "not"}
    return sorted(words)


# --- Vocabulario ---------------------------------------------------------------------------


class Vocab:
    """Un vocabulario de palabras: palabra ↔ número entero (índice).

    Los cuatro primeros índices son siempre los especiales: ``<pad>`` = 0 (relleno),
    ``<sos>`` = 1 (inicio de frase), ``<eos>`` = 2 (fin de frase) y ``<unk>`` = 3
    (palabra desconocida). Después van las palabras en el orden dado, sin repetir.

    Args:
        words: las palabras del vocabulario (se ignoran repeticiones y especiales).
    """

    pad_id = PAD_ID
    sos_id = SOS_ID
    eos_id = EOS_ID
    unk_id = UNK_ID

    def __init__(self, words: Iterable[str]) -> None:
        self.itos: list[str] = list(SPECIALS)
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos)}
        for word in words:
            if not isinstance(word, str) or not word or " " in word:
                raise ValueError(f"Cada palabra del vocabulario debe ser una cadena sin espacios; recibí {word!r}.")
            if word not in self.stoi:
                self.stoi[word] = len(self.itos)
                self.itos.append(word)

    @classmethod
    def from_sentences(cls, sentences: Iterable[str]) -> Vocab:
        """Vocabulario con las palabras de unas frases, en orden de aparición."""
        return cls(word for sentence in sentences for word in sentence.split())

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: object) -> bool:
        return word in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} palabras: {' '.join(self.itos[:8])} …)"

    def encode(self, sentence: str | Sequence[str], add_sos: bool = False, add_eos: bool = False) -> list[int]:
        """Frase (cadena o lista de palabras) → lista de índices; las palabras desconocidas dan ``<unk>``."""
        words = sentence.split() if isinstance(sentence, str) else list(sentence)
        ids = [self.stoi.get(w, UNK_ID) for w in words]
        return [SOS_ID] * add_sos + ids + [EOS_ID] * add_eos

    def tokens(self, ids: Iterable[int] | Tensor) -> list[str]:
        """Índices → palabras, sin quitar nada (útil para etiquetar gráficos)."""
        values = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        return [self.itos[i] if 0 <= i < len(self.itos) else UNK for i in values]

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """Índices → frase: se detiene en el primer ``<eos>`` y omite ``<pad>`` y ``<sos>``."""
        values = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        return " ".join(self.tokens(strip_special(values)))


def build_vocabs() -> tuple[Vocab, Vocab]:
    """Los vocabularios completos de la gramática: ``(español, inglés)``.

    Se construyen a partir del léxico, no de una muestra: cubren todas las frases
    posibles y los índices son los mismos en todos los cuadernos.
    """
    return Vocab(spanish_words()), Vocab(english_words())


# --- Lotes ---------------------------------------------------------------------------------


def make_batch(pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab) -> Batch:
    """Pares ``(origen, destino)`` → :class:`Batch`."""
    if len(pairs) == 0:
        raise ValueError("`pairs` está vacía: un lote necesita al menos un par.")
    src = pad_sequences([src_vocab.encode(s) for s, _ in pairs])
    tgt_in = pad_sequences([tgt_vocab.encode(t, add_sos=True) for _, t in pairs])
    tgt_out = pad_sequences([tgt_vocab.encode(t, add_eos=True) for _, t in pairs])
    return Batch(src, tgt_in, tgt_out)


def batches(
    pairs: Sequence[tuple[str, str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    batch_size: int = 64,
    shuffle: bool = False,
    seed: int = 0,
    by_length: bool = False,
) -> Iterator[Batch]:
    """Recorre ``pairs`` en lotes de ``batch_size`` (el último puede ser menor).

    Args:
        shuffle: si es ``True``, baraja el orden con ``seed`` (misma semilla, mismo orden).
        by_length: si es ``True``, cada lote reúne frases de longitud parecida (menos
            relleno, entrenamiento más rápido); con ``shuffle``, el orden de los lotes se
            baraja igualmente.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` debe ser un entero positivo; recibí {batch_size!r}.")
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    if shuffle:
        rng.shuffle(order)
    if by_length:
        order.sort(key=lambda i: len(pairs[i][0].split()))  # estable: dentro de cada longitud, el orden barajado
    chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if shuffle and by_length:
        rng.shuffle(chunks)
    for chunk in chunks:
        yield make_batch([pairs[i] for i in chunk], src_vocab, tgt_vocab)


__all__ = [
    "ADJECTIVES",
    "EOS_ID",
    "OBJECTS",
    "PAD_ID",
    "SOS_ID",
    "SUBJECTS",
    "UNK_ID",
    "VERBS",
    "Batch",
    "Vocab",
    "batches",
    "build_vocabs",
    "english_words",
    "generate_pairs",
    "make_batch",
    "pad_sequences",
    "sentence_pair",
    "spanish_words",
]
