"""Pruebas de course_lib.data: descarga con huella, caché, uso sin red y el archivo real si está a mano."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from course_lib import data

SHARED_ZIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "spa-eng.zip"
TEXT = "Go.\tVe.\nHi.\tHola.\nWhere is the station?\t¿Dónde está la estación?\nHow nice!\t¡Qué bonito!\tCC-BY\n"
EXPECTED = [
    ("Go.", "Ve."),
    ("Hi.", "Hola."),
    ("Where is the station?", "¿Dónde está la estación?"),
    ("How nice!", "¡Qué bonito!"),
]


@pytest.fixture()
def small_zip(tmp_path: Path) -> tuple[Path, str]:
    """Un spa-eng.zip pequeño, con la misma estructura que el real, y su huella."""
    served = tmp_path / "servidor"
    served.mkdir()
    archive = served / "spa-eng.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(data.SPA_ENG_MEMBER, TEXT.encode("utf-8"))
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture()
def server(small_zip):
    """Un servidor HTTP en 127.0.0.1 que sirve el zip pequeño y cuenta las peticiones."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(small_zip[0].parent), **kwargs)

        def do_GET(self):  # noqa: N802 (nombre impuesto por http.server)
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/spa-eng.zip", requests
    httpd.shutdown()
    httpd.server_close()


def test_download_checks_hash_and_caches(server, small_zip, tmp_path, monkeypatch) -> None:
    url, requests = server
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    assert data.load_spa_eng(url=url, sha256=small_zip[1]) == EXPECTED
    assert (tmp_path / "cache" / "spa-eng.zip").exists()
    assert data.load_spa_eng(url=url, sha256=small_zip[1]) == EXPECTED
    assert len(requests) == 1, "la segunda vez debe leer de la caché, sin descargar"


def test_download_with_wrong_hash_leaves_nothing(server, tmp_path, monkeypatch) -> None:
    url, _ = server
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="huella"):
        data.load_spa_eng(url=url, sha256="0" * 64)
    assert list((tmp_path / "cache").iterdir()) == [], "una descarga corrupta no debe quedar en la caché"


def test_corrupted_cache_is_downloaded_again(server, small_zip, tmp_path, monkeypatch) -> None:
    url, requests = server
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "spa-eng.zip").write_bytes(b"a medias")
    assert data.load_spa_eng(url=url, sha256=small_zip[1]) == EXPECTED
    assert len(requests) == 1


def test_offline_from_local_zip_or_txt(small_zip, tmp_path) -> None:
    assert data.load_spa_eng(small_zip[0], url="http://127.0.0.1:9/no-se-usa") == EXPECTED
    text = tmp_path / "spa.txt"
    text.write_text(TEXT, encoding="utf-8")
    assert data.load_spa_eng(text) == EXPECTED


def test_without_network_the_error_suggests_a_local_copy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="copia local"):
        data.load_spa_eng(url="http://127.0.0.1:9/spa-eng.zip", sha256="0" * 64)


@pytest.mark.parametrize("bad", ["no existe.zip"])
def test_missing_local_path(tmp_path, bad) -> None:
    with pytest.raises(data.DataError, match="`path`"):
        data.load_spa_eng(tmp_path / bad)


def test_malformed_line_names_its_number() -> None:
    with pytest.raises(data.DataError, match="línea 2"):
        data.read_pairs("Go.\tVe.\nsin tabulador\n")


@pytest.mark.skipif(
    not SHARED_ZIP.exists(), reason="no está ../shared/data/spa-eng.zip (solo en las máquinas del proyecto)"
)
def test_real_file_from_shared_copy() -> None:
    assert data.sha256_of(SHARED_ZIP) == data.SPA_ENG_SHA256
    pairs = data.load_spa_eng(SHARED_ZIP)
    assert len(pairs) == 118_964
    assert pairs[0] == ("Go.", "Ve.")
    assert all(en and es for en, es in pairs)
