"""Datos reales del traductor (cuaderno 07): los pares inglés–español de Tatoeba/ManyThings.

El archivo es el que usan los tutoriales de TensorFlow y Keras para traducir del inglés
al español (``spa-eng.zip``, licencia ``CC-BY 2.0``; créditos: www.manythings.org/anki y
tatoeba.org). :func:`load_spa_eng` lo busca, por este orden:

1. en la ruta que le des (el ``.zip`` o el ``spa.txt`` ya descomprimido), para usarlo sin red;
2. en la caché (``~/.cache/atencion-transformers`` o la carpeta de ``CURSO_DATOS``);
3. en internet: lo descarga, comprueba su huella SHA-256 y lo guarda en la caché.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
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


def download(url: str, target: Path, sha256: str, timeout: float = 60.0) -> Path:
    """Descarga ``url`` en ``target`` solo si su huella coincide con ``sha256``.

    Se descarga primero a un archivo temporal de la misma carpeta y se renombra al final,
    así que una descarga interrumpida o corrupta nunca queda en la caché.
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
        raise DataError(
            f"No pude descargar {url}: {error}. Sin conexión, pasa la ruta de una copia local: "
            "load_spa_eng('ruta/a/spa-eng.zip')."
        ) from error
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
            raise DataError(f"`path` apunta a {source}, que no existe.")
    else:
        source = cache_dir() / "spa-eng.zip"
        if not source.exists() or sha256_of(source) != sha256:
            download(url, source, sha256)
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as archive:
            try:
                raw = archive.read(SPA_ENG_MEMBER)
            except KeyError:
                raise DataError(f"{source} no contiene {SPA_ENG_MEMBER}.") from None
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8").read()
    else:
        text = source.read_text(encoding="utf-8")
    return read_pairs(text)
