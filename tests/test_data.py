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


# --- Conjunto de prueba tatoeba-test y particiones ------------------------------------------

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_TEST = SHARED_DATA / "tatoeba-test"
TEST_ENG = "I'm hungry.\nWhere is the station?\nGo.\n"
TEST_SPA = "Tengo hambre.\n¿Dónde está la estación?\nVe.\n"
TEST_EXPECTED = [
    ("I'm hungry.", "Tengo hambre."),
    ("Where is the station?", "¿Dónde está la estación?"),
    ("Go.", "Ve."),
]
UNREACHABLE = "http://127.0.0.1:9/tatoeba-test-v2020-07-28"


def write_test_set(folder: Path, eng: str = TEST_ENG, spa: str = TEST_SPA, name: str = "{lang}") -> Path:
    """Escribe un conjunto de prueba pequeño con el patrón de nombre ``name`` y devuelve la carpeta."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name.format(lang="eng")).write_text(eng, encoding="utf-8")
    (folder / name.format(lang="spa")).write_text(spa, encoding="utf-8")
    return folder


@pytest.fixture()
def test_set_server(tmp_path: Path):
    """Sirve en 127.0.0.1 los dos archivos pequeños, como el repositorio OPUS-MT-testsets; cuenta las peticiones."""
    folder = write_test_set(tmp_path / "servidor", name="tatoeba-test-v2020-07-28.{lang}")
    hashes = {
        lang: hashlib.sha256((folder / f"tatoeba-test-v2020-07-28.{lang}").read_bytes()).hexdigest()
        for lang in ("eng", "spa")
    }
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):  # noqa: N802 (nombre impuesto por http.server)
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/tatoeba-test-v2020-07-28", hashes, requests
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("name", ["tatoeba-test-v2020-07-28.eng-spa.{lang}", "tatoeba-test-v2020-07-28.{lang}"])
def test_tatoeba_test_from_local_folder_with_either_name(tmp_path, name) -> None:
    folder = write_test_set(tmp_path / "copia", name=name)
    assert data.load_tatoeba_test(folder, url=UNREACHABLE) == TEST_EXPECTED


def test_tatoeba_test_keeps_lines_with_unusual_separators(tmp_path) -> None:
    # U+2028 y U+0085 dentro de una frase no deben partirla (str.splitlines lo haría).
    folder = write_test_set(tmp_path, eng="a\u2028b\nc\x85d\n", spa="x\ny\n", name="tatoeba-test-v2020-07-28.{lang}")
    assert data.load_tatoeba_test(folder) == [("a\u2028b", "x"), ("c\x85d", "y")]


def test_tatoeba_test_download_checks_hash_and_caches(test_set_server, tmp_path, monkeypatch) -> None:
    url, hashes, requests = test_set_server
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    assert data.load_tatoeba_test(url=url, sha256=hashes) == TEST_EXPECTED
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "tatoeba-test-v2020-07-28.eng",
        "tatoeba-test-v2020-07-28.spa",
    ]
    assert data.load_tatoeba_test(url=url, sha256=hashes) == TEST_EXPECTED
    assert sorted(requests) == ["/tatoeba-test-v2020-07-28.eng", "/tatoeba-test-v2020-07-28.spa"], (
        "la segunda vez debe leer de la caché, sin descargar"
    )


def test_tatoeba_test_wrong_hash_leaves_nothing_in_cache(test_set_server, tmp_path, monkeypatch) -> None:
    url, hashes, _ = test_set_server
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="huella"):
        data.load_tatoeba_test(url=url, sha256={"eng": hashes["eng"], "spa": "0" * 64})
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["tatoeba-test-v2020-07-28.eng"]


def test_tatoeba_test_without_network_suggests_a_local_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(data.DATA_DIR_VAR, str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match=r"load_tatoeba_test\('ruta"):
        data.load_tatoeba_test(url=UNREACHABLE)


def test_tatoeba_test_misaligned_files(tmp_path) -> None:
    folder = write_test_set(tmp_path, spa="Tengo hambre.\nVe.\n", name="tatoeba-test-v2020-07-28.{lang}")
    with pytest.raises(data.DataError, match="3 líneas.*tiene 2"):
        data.load_tatoeba_test(folder)


def test_tatoeba_test_bad_local_path(tmp_path) -> None:
    with pytest.raises(data.DataError, match="`path`.*no existe"):
        data.load_tatoeba_test(tmp_path / "no-existe")
    write_test_set(tmp_path, name="otro-nombre.{lang}")
    with pytest.raises(data.DataError, match=r"tatoeba-test-v2020-07-28\.eng-spa\.eng o tatoeba-test-v2020-07-28\.eng"):
        data.load_tatoeba_test(tmp_path)
    with pytest.raises(data.DataError, match="no es una carpeta"):
        data.load_tatoeba_test(tmp_path / "otro-nombre.eng")
    with pytest.raises(ValueError, match="`sha256`"):
        data.load_tatoeba_test(tmp_path, sha256={"eng": "0" * 64})


def test_drop_test_overlap_drops_either_side() -> None:
    pairs = [
        ("Go.", "Ve."),  # las dos frases están en la prueba
        ("Go.", "Vete."),  # solo la inglesa
        ("Leave.", "Ve."),  # solo la española
        ("go.", "ve."),  # mayúsculas distintas: no es la misma frase
        ("I'm cold.", "Tengo frío."),
        ("Where is the station?", "¿Dónde queda la estación?"),
    ]
    assert data.drop_test_overlap(pairs, TEST_EXPECTED) == [("go.", "ve."), ("I'm cold.", "Tengo frío.")]
    assert data.drop_test_overlap(pairs, []) == pairs


def test_drop_test_overlap_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="`pairs`"):
        data.drop_test_overlap("Go.\tVe.", TEST_EXPECTED)
    with pytest.raises(TypeError, match=r"`test_pairs\[1\]`"):
        data.drop_test_overlap([], [("Go.", "Ve."), ("solo una frase",)])


def test_split_pairs_is_a_seeded_partition() -> None:
    pairs = [(f"sentence {i}", f"frase {i}") for i in range(100)]
    train, valid = data.split_pairs(pairs, valid_size=10, seed=0)
    assert (len(train), len(valid)) == (90, 10)
    assert sorted(train + valid) == sorted(pairs), "cada par debe ir exactamente a una de las dos partes"
    assert train == [p for p in pairs if p in train], "el entrenamiento conserva el orden original"
    assert data.split_pairs(pairs, valid_size=10, seed=0) == (train, valid)
    assert data.split_pairs(pairs, valid_size=10, seed=1)[1] != valid
    assert len(data.split_pairs(pairs, valid_size=0.25)[1]) == 25
    assert data.split_pairs(pairs, valid_size=0) == (pairs, [])


@pytest.mark.parametrize(
    ("valid_size", "error"),
    [(101, ValueError), (-1, ValueError), (1.5, ValueError), (True, TypeError), ("10", TypeError)],
)
def test_split_pairs_rejects_bad_valid_size(valid_size, error) -> None:
    pairs = [(f"sentence {i}", f"frase {i}") for i in range(100)]
    with pytest.raises(error, match="`valid_size`"):
        data.split_pairs(pairs, valid_size=valid_size)


@pytest.mark.skipif(
    not SHARED_TEST.exists(), reason="no está ../shared/data/tatoeba-test (solo en las máquinas del proyecto)"
)
def test_real_tatoeba_test_from_shared_copy() -> None:
    for lang, digest in data.TATOEBA_TEST_SHA256.items():
        assert data.sha256_of(SHARED_TEST / f"tatoeba-test-v2020-07-28.eng-spa.{lang}") == digest
    test_pairs = data.load_tatoeba_test(SHARED_TEST, url=UNREACHABLE)
    assert len(test_pairs) == 10_000
    assert test_pairs[0] == ("You ask questions, that are unanswerable.", "Hacen preguntas que no tienen respuesta.")
    assert all(en and es for en, es in test_pairs)


@pytest.mark.skipif(
    not (SHARED_TEST.exists() and SHARED_ZIP.exists()), reason="no están los datos reales en ../shared/data"
)
def test_real_overlap_is_removed() -> None:
    pairs = data.load_spa_eng(SHARED_ZIP)
    test_pairs = data.load_tatoeba_test(SHARED_TEST, url=UNREACHABLE)
    # Según ../shared/data/README.md, el 57,8 % de los pares de prueba están tal cual en spa.txt.
    known = set(pairs)
    assert sum(pair in known for pair in test_pairs) == 5_778
    kept = data.drop_test_overlap(pairs, test_pairs)
    assert 8_600 <= len(pairs) - len(kept) <= 8_800
    assert 109_000 <= len(kept) <= 111_000
    english = {en for en, _ in test_pairs}
    spanish = {es for _, es in test_pairs}
    assert not any(en in english or es in spanish for en, es in kept), "ninguna frase de la prueba debe quedar"
    train, valid = data.split_pairs(kept, valid_size=2_000)
    assert len(train) + len(valid) == len(kept)
