"""Datos reales del traductor (cuaderno 07): los pares inglés–español de Tatoeba/ManyThings.

El archivo es el que usan los tutoriales de TensorFlow y Keras para traducir del inglés
al español (``spa-eng.zip``, licencia ``CC-BY 2.0``; créditos: www.manythings.org/anki y
tatoeba.org). :func:`load_spa_eng` lo busca, por este orden:

1. en la ruta que le des (el ``.zip`` o el ``spa.txt`` ya descomprimido), para usarlo sin red;
2. en la caché (``~/.cache/atencion-transformers`` o la carpeta de ``CURSO_DATOS``);
3. en internet: lo descarga, comprueba su huella SHA-256 y lo guarda en la caché.

Para medir un traductor hace falta un conjunto de prueba que nadie haya visto al
entrenar. :func:`load_tatoeba_test` carga el oficial del *Tatoeba Translation Challenge*
(``tatoeba-test-v2020-07-28``, 10 000 pares inglés–español, el mismo con el que se
publican las puntuaciones de los modelos ``opus-mt``) con la misma estrategia: carpeta
local, caché o descarga verificada. Más de la mitad de sus pares están también en
``spa-eng``, así que antes de entrenar hay que quitarlos con :func:`drop_test_overlap`;
:func:`split_pairs` separa después un conjunto de validación reproducible.

Uso típico:

```
pairs = data.drop_test_overlap(data.load_spa_eng(), data.load_tatoeba_test())   # ≈ 110 000 pares
train, valid = data.split_pairs(pairs, valid_size=2000, seed=0)
```
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
SPA_ENG_SHA256 = "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f"
SPA_ENG_MEMBER = "spa-eng/spa.txt"
DATA_DIR_VAR = "CURSO_DATOS"


class DataError(RuntimeError):
    """No se pudieron obtener o leer los datos; el mensaje dice por qué y qué hacer."""


def cache_dir() -> Path:
    """Carpeta de la caché: la de ``CURSO_DATOS`` si está definida, si no ``~/.cache/atencion-transformers``."""
    configured = os.environ.get(DATA_DIR_VAR)
    return Path(configured) if configured else Path.home() / ".cache" / "atencion-transformers"


def sha256_of(path: Path) -> str:
    """Huella SHA-256 de un archivo, en hexadecimal."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path, sha256: str, timeout: float = 60.0, hint: str | None = None) -> Path:
    """Descarga ``url`` en ``target`` solo si su huella coincide con ``sha256``.

    Se descarga primero a un archivo temporal de la misma carpeta y se renombra al final,
    así que una descarga interrumpida o corrupta nunca queda en la caché.

    Args:
        hint: qué hacer sin conexión, para el mensaje de error (por defecto, la llamada a
            :func:`load_spa_eng` con una copia local).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".parcial")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(1 << 20):
                out.write(block)
        obtained = sha256_of(Path(temporary))
        if obtained != sha256:
            raise DataError(
                f"La descarga de {url} no tiene la huella esperada (SHA-256 {obtained[:12]}… en vez de "
                f"{sha256[:12]}…): el archivo está incompleto o ha cambiado. Vuelve a intentarlo o usa una copia local."
            )
        os.replace(temporary, target)
        return target
    except OSError as error:
        if hint is None:
            hint = "Sin conexión, pasa la ruta de una copia local: load_spa_eng('ruta/a/spa-eng.zip')."
        raise DataError(f"No pude descargar {url}: {error}. {hint}") from error
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def read_pairs(text: str) -> list[tuple[str, str]]:
    """``"inglés\\tespañol"`` por línea → ``[(inglés, español), ...]`` (se ignoran columnas extra)."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise DataError(f"La línea {number} no tiene el formato «inglés<TAB>español»: {line[:80]!r}")
        pairs.append((columns[0].strip(), columns[1].strip()))
    return pairs


def load_spa_eng(
    path: str | Path | None = None, url: str = SPA_ENG_URL, sha256: str = SPA_ENG_SHA256
) -> list[tuple[str, str]]:
    """Los pares ``(inglés, español)`` del archivo ``spa-eng``.

    Args:
        path: copia local, el ``.zip`` o el ``spa.txt``; sin ella se usa la caché o se descarga.
        url: de dónde descargarlo (por defecto, la dirección de los tutoriales de TensorFlow).
        sha256: huella que debe tener el ``.zip`` descargado.
    """
    if path is not None:
        source = Path(path)
        if not source.exists():
            raise DataError(
                f"`path` apunta a {source}, que no existe: comprueba la ruta de tu copia de spa-eng.zip "
                "(o de spa.txt), o no la des y se usará la caché o se descargará."
            )
        if source.is_dir():
            raise DataError(
                f"`path` apunta a la carpeta {source}; pasa el archivo spa-eng.zip o spa.txt, no la carpeta."
            )
    else:
        source = cache_dir() / "spa-eng.zip"
        if not source.exists() or sha256_of(source) != sha256:
            download(url, source, sha256)
    try:
        if source.suffix == ".zip":
            with zipfile.ZipFile(source) as archive:
                try:
                    raw = archive.read(SPA_ENG_MEMBER)
                except KeyError:
                    raise DataError(f"{source} no contiene {SPA_ENG_MEMBER}.") from None
            text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8").read()
        else:
            text = source.read_text(encoding="utf-8")
    except zipfile.BadZipFile as error:
        raise DataError(
            f"{source} no es un .zip válido (¿se cortó la descarga?): vuelve a descargarlo "
            "o pasa el spa.txt descomprimido."
        ) from error
    except UnicodeDecodeError as error:
        raise DataError(
            f"{source} no es un archivo de texto UTF-8: pasa el spa-eng.zip original o el spa.txt que contiene."
        ) from error
    return read_pairs(text)


# --- Conjunto de prueba oficial y particiones -----------------------------------------------

TATOEBA_TEST_URL = (
    "https://raw.githubusercontent.com/Helsinki-NLP/OPUS-MT-testsets/master/testsets/eng-spa/tatoeba-test-v2020-07-28"
)
TATOEBA_TEST_SHA256 = {
    "eng": "83f4c65736396e017697efeca2d95e2ec2e1a704007a146daa1d7b26a5a4c880",
    "spa": "3e6178cba19d7cbbf949260ffc482423b7bfb609fd6438b284c7904b1f90bb05",
}
# Nombres con los que se encuentran los dos archivos en una carpeta local: el del paquete
# del Tatoeba Challenge (``….eng-spa.eng``) y el del repositorio ``OPUS-MT-testsets`` (``….eng``).
TATOEBA_TEST_NAMES = ("tatoeba-test-v2020-07-28.eng-spa.{lang}", "tatoeba-test-v2020-07-28.{lang}")
TATOEBA_TEST_SIZE = 10_000


def _read_lines(path: Path) -> list[str]:
    """Las líneas de un archivo de texto UTF-8, sin espacios en los extremos.

    Se corta solo por ``\\n``: ``str.splitlines`` también cortaría por caracteres raros
    (``\\x85``, ``\\u2028``) que pueden aparecer dentro de una frase y desalinearían los pares.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} no es un archivo de texto UTF-8: vuelve a descargarlo.") from error
    if text.endswith("\n"):
        text = text[:-1]
    return [line.strip() for line in text.split("\n")] if text else []


def _local_test_file(folder: Path, lang: str) -> Path:
    """El archivo del idioma ``lang`` (``"eng"`` o ``"spa"``) en la carpeta local ``folder``."""
    for name in TATOEBA_TEST_NAMES:
        candidate = folder / name.format(lang=lang)
        if candidate.is_file():
            return candidate
    expected = " o ".join(name.format(lang=lang) for name in TATOEBA_TEST_NAMES)
    raise DataError(
        f"La carpeta `path` ({folder}) no contiene el archivo del conjunto de prueba: busqué {expected}. "
        "Copia ahí los dos archivos (.eng y .spa) o no des la carpeta y se usará la caché o se descargarán."
    )


def load_tatoeba_test(
    path: str | Path | None = None, url: str = TATOEBA_TEST_URL, sha256: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """Los 10 000 pares ``(inglés, español)`` del conjunto de prueba ``tatoeba-test-v2020-07-28``.

    Es el conjunto oficial del *Tatoeba Translation Challenge* (Helsinki-NLP) para
    inglés–español, tal como lo publica el repositorio ``Helsinki-NLP/OPUS-MT-testsets``
    (``testsets/eng-spa/tatoeba-test-v2020-07-28.eng`` y ``.spa``, una frase por línea,
    alineadas). Con él se publican las puntuaciones de ``opus-mt-en-es`` (BLEU 54,9) y de
    ``opus-mt-es-en`` (BLEU 59,6), así que tus resultados se pueden comparar con esos.

    Los archivos se buscan, por este orden:

    1. en la carpeta ``path``, con cualquiera de los dos nombres (``….eng-spa.eng`` o ``….eng``,
       y lo mismo con ``.spa``), para usarlos sin red;
    2. en la caché (:func:`cache_dir`);
    3. en internet: se descargan, se comprueba su huella SHA-256 y se guardan en la caché.

    Args:
        path: carpeta con una copia local de los dos archivos.
        url: dirección de los archivos sin la extensión (se le añade ``.eng`` y ``.spa``).
        sha256: huellas esperadas, ``{"eng": …, "spa": …}`` (por defecto, las de los archivos publicados).

    Returns:
        Lista de pares ``(inglés, español)`` en el orden de los archivos.

    Raises:
        DataError: si falta un archivo, la descarga falla o los dos archivos no tienen el mismo
            número de líneas.
    """
    hashes = TATOEBA_TEST_SHA256 if sha256 is None else sha256
    if set(hashes) != {"eng", "spa"}:
        raise ValueError(f"`sha256` debe ser un diccionario con las claves `eng` y `spa`; recibí {sorted(hashes)}.")
    files: dict[str, Path] = {}
    if path is not None:
        folder = Path(path)
        if not folder.exists():
            raise DataError(
                f"`path` apunta a {folder}, que no existe: comprueba la ruta de la carpeta con los archivos de "
                "tatoeba-test-v2020-07-28, o no la des y se usará la caché o se descargarán."
            )
        if not folder.is_dir():
            raise DataError(
                f"`path` debe ser la carpeta que contiene los archivos `.eng` y `.spa`; {folder} no es una carpeta."
            )
        files = {lang: _local_test_file(folder, lang) for lang in ("eng", "spa")}
    else:
        for lang in ("eng", "spa"):
            target = cache_dir() / TATOEBA_TEST_NAMES[1].format(lang=lang)
            if not target.exists() or sha256_of(target) != hashes[lang]:
                hint = "Sin conexión, pasa la carpeta de una copia local: load_tatoeba_test('ruta/a/la/carpeta')."
                download(f"{url}.{lang}", target, hashes[lang], hint=hint)
            files[lang] = target
    english, spanish = _read_lines(files["eng"]), _read_lines(files["spa"])
    if len(english) != len(spanish):
        raise DataError(
            f"Los archivos del conjunto de prueba no están alineados: {files['eng'].name} tiene {len(english)} líneas "
            f"y {files['spa'].name} tiene {len(spanish)}."
        )
    return list(zip(english, spanish, strict=True))


def _check_pairs(name: str, pairs: object) -> list[tuple[str, str]]:
    """Comprueba que ``pairs`` es una lista de pares de cadenas y la devuelve como lista de pares ``(str, str)``."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"`{name}` debe ser una lista de pares (inglés, español); recibí {type(pairs).__name__}.")
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(s, str) for s in pair):
            raise TypeError(f"`{name}[{i}]` debe ser un par de cadenas (inglés, español); recibí {pair!r}.")
        checked.append((pair[0], pair[1]))
    return checked


def drop_test_overlap(pairs: Sequence[tuple[str, str]], test_pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Quita de ``pairs`` todo par cuya frase inglesa **o** española aparezca tal cual en ``test_pairs``.

    No basta con quitar los pares idénticos: si ``I'm hungry.`` está en la prueba, un modelo
    que la vio al entrenar (aunque fuera con otra traducción) tendría una puntuación
    inflada. Con los datos reales se quitan unos 8 700 pares de ``spa-eng`` y quedan unos
    110 000. La comparación es exacta (mayúsculas y puntuación incluidas).

    Args:
        pairs: pares ``(inglés, español)`` de entrenamiento.
        test_pairs: pares ``(inglés, español)`` de prueba.

    Returns:
        Los pares de ``pairs`` que no comparten ninguna frase con la prueba, en su orden original.
    """
    pairs = _check_pairs("pairs", pairs)
    test_pairs = _check_pairs("test_pairs", test_pairs)
    test_english = {en for en, _ in test_pairs}
    test_spanish = {es for _, es in test_pairs}
    return [(en, es) for en, es in pairs if en not in test_english and es not in test_spanish]


def split_pairs(
    pairs: Sequence[tuple[str, str]], valid_size: int | float, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Separa ``pairs`` en entrenamiento y validación, al azar pero de forma reproducible.

    Los pares de validación se eligen con ``random.Random(seed)``: la misma semilla da la
    misma partición en cualquier máquina. Las dos partes conservan el orden original y
    entre las dos contienen cada par exactamente una vez.

    Args:
        pairs: los pares a repartir.
        valid_size: cuántos pares van a validación: un entero (de 0 a ``len(pairs)``) o una
            fracción entre 0 y 1 (``0.02`` = el 2 %, redondeado).
        seed: semilla del sorteo.

    Returns:
        ``(train, valid)``, dos listas de pares.
    """
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"`pairs` debe ser una lista de pares; recibí {type(pairs).__name__}.")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"`seed` debe ser un entero; recibí {type(seed).__name__}.")
    n = len(pairs)
    if isinstance(valid_size, float):
        if not 0.0 < valid_size < 1.0:
            raise ValueError(
                f"`valid_size` como fracción debe estar entre 0 y 1 (sin incluirlos); recibí {valid_size}."
            )
        count = round(valid_size * n)
    elif isinstance(valid_size, int) and not isinstance(valid_size, bool):
        if not 0 <= valid_size <= n:
            raise ValueError(f"`valid_size` debe estar entre 0 y len(pairs) = {n}; recibí {valid_size}.")
        count = valid_size
    else:
        raise TypeError(f"`valid_size` debe ser un entero o una fracción; recibí {type(valid_size).__name__}.")
    chosen = set(random.Random(seed).sample(range(n), count))
    train = [tuple(pairs[i]) for i in range(n) if i not in chosen]
    valid = [tuple(pairs[i]) for i in range(n) if i in chosen]
    return train, valid
