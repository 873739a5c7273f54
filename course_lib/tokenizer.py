"""Un tokenizador BPE compartido por el inglés y el español (cuaderno 07).

Con palabras enteras, el vocabulario de los datos reales pasaría de 20 000 entradas y
cualquier palabra nueva («desayunaríamos») sería ``<unk>``. *Byte Pair Encoding*
(Sennrich et al., 2016) empieza con los caracteres y va fusionando el par de símbolos
más frecuente hasta llegar a ``vocab_size``: las palabras frecuentes quedan enteras
(``▁está``) y las raras se parten en trozos conocidos (``▁p ing ü ino``), así que casi
nada es desconocido.

Un solo vocabulario para los dos idiomas, entrenado con las frases inglesas y las
españolas juntas, porque:

- usan el mismo alfabeto latino, y comparten nombres propios (``Tom``), números,
  puntuación y muchas raíces (``hospital``, ``animal``, ``-ción``/``-tion``): se aprenden una vez;
- el modelo puede **atar** las tablas de *embeddings* de origen, de destino y de salida
  (``share_embeddings=True`` en :class:`course_lib.transformer.Transformer`), con muchos
  menos parámetros, y copiar un nombre o un número de la entrada a la salida es trivial;
- el mismo tokenizador sirve para traducir en las dos direcciones (en→es y es→en).

Decisiones, todas pensadas para que ``decode(encode(s)) == s``:

- **Normalización NFC**: «é» escrita como un carácter o como «e» + tilde combinada da
  los mismos tokens. Sin minúsculas: BLEU se mide respetando mayúsculas.
- **``Metaspace``**: cada espacio se convierte en ``▁`` pegado al principio de la palabra
  siguiente (como SentencePiece), así que decodificar es juntar los trozos y cambiar
  ``▁`` por espacio; no se pierde ni se inventa ningún espacio.
- **Puntuación aparte**: cada signo (``¿``, ``?``, ``,``, ``'``…) es un trozo propio, para
  que ``niño?`` no se fusione en ``o?`` y en los mapas de atención ``?`` se alinee con ``?``.
- **Alfabeto base**: las letras, cifras y signos ASCII y los del español (``áéíóúüñ¿¡«»``)
  están siempre en el vocabulario, aunque no aparezcan al entrenar.
- **Especiales**: ``<pad>`` = 0, ``<sos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3, como en
  :mod:`course_lib.grammar`.

Límites del viaje de ida y vuelta: el texto vuelve en forma NFC, un espacio al principio
se pierde y un carácter que no estaba en el entrenamiento ni en el alfabeto base (``中``,
un tabulador) vuelve como ``<unk>``.

Uso típico:

```
tokenizer = train_tokenizer([en for en, _ in pairs] + [es for _, es in pairs], vocab_size=8000)
ids = tokenizer.encode("¿Dónde está el niño?", add_eos=True)   # [..., 2]
tokenizer.tokens(ids)                                          # ['▁¿', 'Dónde', '▁está', '▁el', '▁niño', '?', '<eos>']
tokenizer.decode(ids)                                          # '¿Dónde está el niño?'
```
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from torch import Tensor

from course_lib.tokens import EOS, EOS_ID, PAD, PAD_ID, SOS, SOS_ID, SPECIALS, UNK, UNK_ID, strip_special

WORD_START = "▁"  # U+2581, el marcador de SentencePiece: «aquí había un espacio»
BASE_ALPHABET = tuple(sorted(set(string.ascii_letters + string.digits + string.punctuation + "áéíóúüñÁÉÍÓÚÜÑ¿¡«»")))
# Separa cada signo de puntuación; el ``▁`` que lo preceda (un espacio antes del signo) va con él.
_PUNCTUATION = Regex(rf"{WORD_START}?[^\w\s{WORD_START}]")


def _empty_tokenizer() -> Tokenizer:
    """Un ``tokenizers.Tokenizer`` BPE sin entrenar, con la normalización y la división del curso."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=WORD_START, prepend_scheme="always", split=True),
            pre_tokenizers.Split(_PUNCTUATION, behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=WORD_START, prepend_scheme="always", split=True)
    return tokenizer


def _as_id_list(ids: Iterable[int] | Tensor, name: str = "ids") -> list[int]:
    """Una secuencia de índices (lista o tensor ``(T,)``) → lista de enteros."""
    if isinstance(ids, Tensor):
        if ids.dim() != 1:
            raise ValueError(
                f"`{name}` debe ser una sola secuencia, un tensor (T,); recibí forma {tuple(ids.shape)} "
                "(para un lote (B, T) usa decode_batch)."
            )
        return ids.tolist()
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"`{name}` debe ser una lista de índices enteros; recibí una cadena.")
    values = list(ids)
    for i, value in enumerate(values):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"`{name}[{i}]` debe ser un índice entero; recibí {value!r}.")
    return values


class BPETokenizer:
    """Tokenizador BPE del curso: frase ↔ lista de índices, un vocabulario para inglés y español.

    Envuelve un ``tokenizers.Tokenizer`` de la biblioteca ``tokenizers`` (rápida, escrita en Rust). Se
    obtiene con :func:`train_tokenizer` o con :meth:`load` / :meth:`from_str`.

    Args:
        tokenizer: un ``tokenizers.Tokenizer`` cuyos índices 0 a 3 sean ``<pad>``, ``<sos>``,
            ``<eos>`` y ``<unk>``.
    """

    pad_id = PAD_ID
    sos_id = SOS_ID
    eos_id = EOS_ID
    unk_id = UNK_ID

    def __init__(self, tokenizer: Tokenizer) -> None:
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"`tokenizer` debe ser un tokenizers.Tokenizer; recibí {type(tokenizer).__name__}.")
        found = tuple(tokenizer.id_to_token(i) for i in range(len(SPECIALS)))
        if found != SPECIALS:
            raise ValueError(f"Los índices 0 a 3 del tokenizador deben ser {SPECIALS}; son {found}.")
        self.tokenizer = tokenizer

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def __repr__(self) -> str:
        return f"BPETokenizer({len(self)} símbolos)"

    def _with_specials(self, ids: list[int], add_sos: bool, add_eos: bool) -> list[int]:
        return [SOS_ID] * add_sos + ids + [EOS_ID] * add_eos

    def encode(self, text: str, add_sos: bool = False, add_eos: bool = False) -> list[int]:
        """Frase → lista de índices (``T`` elementos), con ``<sos>`` delante y ``<eos>`` detrás si se piden."""
        if not isinstance(text, str):
            raise TypeError(
                f"`text` debe ser una cadena; recibí {type(text).__name__} (para varias frases usa encode_batch)."
            )
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return self._with_specials(ids, add_sos, add_eos)

    def encode_batch(self, texts: Sequence[str], add_sos: bool = False, add_eos: bool = False) -> list[list[int]]:
        """Varias frases → una lista de índices por frase (en paralelo: mucho más rápido que un bucle)."""
        if isinstance(texts, str):
            raise TypeError("`texts` debe ser una lista de frases; recibí una sola cadena (usa encode).")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"`texts[{i}]` debe ser una cadena; recibí {type(text).__name__}.")
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return [self._with_specials(e.ids, add_sos, add_eos) for e in encodings]

    def _check_range(self, ids: list[int], name: str) -> None:
        size = len(self)
        for i, value in enumerate(ids):
            if not 0 <= value < size:
                raise ValueError(f"`{name}[{i}]` = {value} no es un índice del vocabulario (de 0 a {size - 1}).")

    def tokens(self, ids: Iterable[int] | Tensor) -> list[str]:
        """Índices → sus trozos de texto, sin quitar nada (para etiquetar los mapas de atención).

        Los trozos que empiezan palabra llevan delante ``▁``: ``['▁¿', 'Dónde', '▁está', '?', '<eos>']``.
        """
        values = _as_id_list(ids)
        self._check_range(values, "ids")
        return [self.tokenizer.id_to_token(i) for i in values]

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """Índices ``(T,)`` → frase: se detiene en el primer ``<eos>`` y omite ``<pad>`` y ``<sos>``.

        Un ``<unk>`` se escribe tal cual, para que se vea dónde faltó algo.
        """
        values = _as_id_list(ids)
        self._check_range(values, "ids")
        return self.tokenizer.decode(strip_special(values), skip_special_tokens=False)

    def decode_batch(self, batch: Sequence[Sequence[int]] | Tensor) -> list[str]:
        """Un lote de secuencias (lista de listas o tensor ``(B, T)``) → una frase por fila."""
        if isinstance(batch, Tensor):
            if batch.dim() != 2:
                raise ValueError(f"`batch` debe ser un tensor (B, T); recibí forma {tuple(batch.shape)}.")
            batch = batch.tolist()
        return [self.decode(row) for row in batch]

    def to_str(self) -> str:
        """Todo el tokenizador (vocabulario, fusiones y configuración) como texto JSON."""
        return self.tokenizer.to_str()

    @classmethod
    def from_str(cls, text: str) -> BPETokenizer:
        """El tokenizador guardado con :meth:`to_str`."""
        if not isinstance(text, str):
            raise TypeError(f"`text` debe ser la cadena JSON de to_str(); recibí {type(text).__name__}.")
        try:
            tokenizer = Tokenizer.from_str(text)
        except Exception as error:  # ``tokenizers`` lanza su propia excepción, sin clase pública
            raise ValueError(f"`text` no es un tokenizador guardado con to_str(): {error}") from error
        return cls(tokenizer)

    def save(self, path: str | Path) -> Path:
        """Guarda el tokenizador en un archivo JSON (crea la carpeta si hace falta) y devuelve su ruta."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_str(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        """El tokenizador guardado con :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"`path` apunta a {path}, que no existe o no es un archivo.")
        return cls.from_str(path.read_text(encoding="utf-8"))


def _alphabet(texts: Iterable[str]) -> set[str]:
    """Los caracteres con los que empieza BPE: los de los textos (en NFC, sin espacios), ``▁`` y el alfabeto base."""
    chars: set[str] = set()
    for text in texts:
        chars.update(unicodedata.normalize("NFC", text))
    chars.discard(" ")
    return chars | {WORD_START} | set(BASE_ALPHABET)


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> BPETokenizer:
    """Entrena un tokenizador BPE con ``texts`` (frases inglesas y españolas juntas).

    El entrenamiento es determinista: los mismos textos dan el mismo vocabulario en
    cualquier máquina. Si se acaban los pares que aparecen al menos ``min_frequency``
    veces, el vocabulario se queda más pequeño que ``vocab_size`` (``len(tokenizer)`` dice
    el tamaño real).

    Args:
        texts: las frases de entrenamiento (cadenas; una lista, no una sola cadena).
        vocab_size: tamaño máximo del vocabulario, especiales incluidos. Debe caber al
            menos el alfabeto: los 4 especiales y cada carácter distinto.
        min_frequency: veces que debe aparecer un par para fusionarlo.

    Returns:
        Un :class:`BPETokenizer` con ``<pad>`` = 0, ``<sos>`` = 1, ``<eos>`` = 2 y ``<unk>`` = 3.
    """
    if isinstance(texts, str):
        raise TypeError("`texts` debe ser una lista de frases; recibí una sola cadena.")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"`texts[{i}]` debe ser una cadena; recibí {type(text).__name__}.")
    if not any(text.strip() for text in texts):
        raise ValueError("`texts` no tiene ninguna frase con texto: hace falta al menos una para entrenar.")
    for name, value, low in (("vocab_size", vocab_size, 1), ("min_frequency", min_frequency, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` debe ser un entero positivo; recibí {value!r}.")
    alphabet = _alphabet(texts)
    smallest = len(SPECIALS) + len(alphabet)
    if vocab_size < smallest:
        raise ValueError(
            f"`vocab_size` = {vocab_size} es demasiado pequeño: antes de la primera fusión ya hacen falta "
            f"{smallest} símbolos ({len(SPECIALS)} especiales y {len(alphabet)} caracteres distintos)."
        )
    tokenizer = _empty_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIALS),
        initial_alphabet=list(BASE_ALPHABET),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return BPETokenizer(tokenizer)


__all__ = ["BASE_ALPHABET", "EOS", "PAD", "SOS", "UNK", "WORD_START", "BPETokenizer", "train_tokenizer"]
