"""Nombres con tilde y eñe en las descargas de Moodle y de Canvas, con la marca de UTF-8 del zip y sin ella.

Un zip dice que los nombres de sus archivos están en UTF-8 con el bit 11 de cada cabecera; sin él,
``zipfile`` (y nbgrader, que extrae con él) los lee en cp437: «muñozgarcíajosé» llega como
«mu├▒ozgarc├¡ajos├⌐», y Canvas escribe sus zips con rubyzip, que solo pone la marca si se le pide
(véase ``course_grading/lms.py``). Aquí los zips se escriben de las dos maneras, comprobando los bytes
de las cabeceras, y pasan por :func:`course_grading.lms.zip_name` y por el extractor, y después,
con «Muñoz García, José», «Núñez Peña, Begoña» e «Ibáñez», por ``make corregir-todo`` entero: se
recogen, se corrigen, se exportan y se devuelven con su nombre.
"""

from __future__ import annotations

import csv
import json
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_grading import lms, presets
from tests.flujo import ASSIGNMENT, FULL, new_course, submission, succeed

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
UTF8_FLAG = 0x800  # bit 11 de las marcas de cada cabecera (APPNOTE.TXT 4.4.4)

# Descarga de Moodle (carpetas por participante, nombre completo «Apellidos, Nombre») → ¿resuelto?
MOODLE_FILES = {
    f"Muñoz García, José_1234567_assignsubmission_file/{NOTEBOOK}": True,
    f"Núñez Peña, Begoña_1234568_assignsubmission_file/{NOTEBOOK}": False,
    f"Ibáñez_1234569_assignsubmission_file/{NOTEBOOK}": True,
}
# Descarga de Canvas: el nombre ordenable en minúsculas y sin signos, con sus tildes y eñes.
CANVAS_FILES = {
    f"muñozgarcíajosé_48213_901001_{NOTEBOOK}": True,
    f"núñezpeñabegoña_48214_901002_{NOTEBOOK}": False,
    f"ibáñez_48215_901003_{NOTEBOOK}": True,
}
FILES = {presets.MOODLE: MOODLE_FILES, presets.CANVAS: CANVAS_FILES}
# Alumno en nbgrader → (nombre que escribió el LMS, prefijo con que se le devuelven los comentarios).
EXPECTED = {
    presets.MOODLE: {
        "munoz_garcia_jose": ("Muñoz García, José", "Muñoz García, José_1234567_assignsubmission_file"),
        "nunez_pena_begona": ("Núñez Peña, Begoña", "Núñez Peña, Begoña_1234568_assignsubmission_file"),
        "ibanez": ("Ibáñez", "Ibáñez_1234569_assignsubmission_file"),
    },
    presets.CANVAS: {
        "48213": ("muñozgarcíajosé", "muñozgarcíajosé_48213_901001"),
        "48214": ("núñezpeñabegoña", "núñezpeñabegoña_48214_901002"),
        "48215": ("ibáñez", "ibáñez_48215_901003"),
    },
}
SCORES = {  # alumno → nota
    "munoz_garcia_jose": FULL, "nunez_pena_begona": 0.0, "ibanez": FULL,
    "48213": FULL, "48214": 0.0, "48215": FULL,
}  # fmt: skip


# --- Los zips, byte a byte ------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Un archivo del zip tal como está escrito: su nombre en bytes y las marcas de sus dos cabeceras."""

    name: bytes
    central_flags: int
    local_flags: int
    central_at: int  # dónde empieza su cabecera en el directorio central
    local_at: int  # dónde empieza su cabecera local


def headers(path: Path) -> list[Header]:
    """Las cabeceras de cada archivo de ``path``, leídas a mano (APPNOTE.TXT 4.3.7, 4.3.12 y 4.3.16)."""
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    count, _, at = struct.unpack_from("<HII", data, end + 10)
    found = []
    for _ in range(count):
        assert data[at : at + 4] == b"PK\x01\x02"
        (central_flags,) = struct.unpack_from("<H", data, at + 8)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        (local_at,) = struct.unpack_from("<I", data, at + 42)
        name = data[at + 46 : at + 46 + name_len]
        assert data[local_at : local_at + 4] == b"PK\x03\x04"
        (local_flags,) = struct.unpack_from("<H", data, local_at + 6)
        (local_name_len,) = struct.unpack_from("<H", data, local_at + 26)
        assert data[local_at + 30 : local_at + 30 + local_name_len] == name
        found.append(Header(name, central_flags, local_flags, at, local_at))
        at += 46 + name_len + extra_len + comment_len
    return found


def rewrite(path: Path, utf8_flag: bool, names: dict[bytes, bytes] | None = None) -> None:
    """Pone o quita la marca de UTF-8 de cada cabecera de ``path`` y cambia nombres por otros bytes del mismo largo.

    ``zipfile`` marca siempre un nombre que no es ASCII; así se escribe el zip de rubyzip sin
    ``Zip.unicode_names`` (los bytes UTF-8 del nombre, sin marca) o uno de un Windows antiguo (cp437).
    """
    data = bytearray(path.read_bytes())
    for h in headers(path):
        new = (names or {}).get(h.name, h.name)
        assert len(new) == len(h.name)
        for flags_at, flags, name_at in ((h.central_at + 8, h.central_flags, h.central_at + 46),
                                         (h.local_at + 6, h.local_flags, h.local_at + 30)):  # fmt: skip
            flags = flags | UTF8_FLAG if utf8_flag else flags & ~UTF8_FLAG
            struct.pack_into("<H", data, flags_at, flags)
            data[name_at : name_at + len(new)] = new
    path.write_bytes(bytes(data))


def write_zip(path: Path, files: dict[str, str] | list[str], utf8_flag: bool) -> Path:
    """Un zip con ``files`` (``{nombre: contenido}``, o solo nombres: ``{}``), con la marca de UTF-8 o sin ella."""
    files = files if isinstance(files, dict) else dict.fromkeys(files, "{}")
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    rewrite(path, utf8_flag)
    return path


@pytest.mark.parametrize("utf8_flag", [True, False], ids=["con_marca", "sin_marca"])
def test_zips_are_written_with_and_without_the_flag(tmp_path: Path, utf8_flag: bool) -> None:
    names = list(CANVAS_FILES)
    archive = write_zip(tmp_path / "entregas.zip", names, utf8_flag)
    written = headers(archive)
    assert [h.name for h in written] == [n.encode("utf-8") for n in names]  # los mismos bytes, en UTF-8
    assert {bool(h.central_flags & UTF8_FLAG) for h in written} == {utf8_flag}
    assert {bool(h.local_flags & UTF8_FLAG) for h in written} == {utf8_flag}
    with zipfile.ZipFile(archive) as z:
        read = z.namelist()
        assert read == (names if utf8_flag else [n.encode("utf-8").decode("cp437") for n in names])
        assert z.read(read[0]) == b"{}"
    if not utf8_flag:  # lo que ve nbgrader sin la marca, y por qué Canvas no se reconocía
        assert read[0].startswith("mu├▒ozgarc├¡ajos├⌐_48213")


@pytest.mark.parametrize("utf8_flag", [True, False], ids=["con_marca", "sin_marca"])
def test_zip_name_reads_the_name_as_the_lms_wrote_it(tmp_path: Path, utf8_flag: bool) -> None:
    names = [*MOODLE_FILES, *CANVAS_FILES, "README.txt"]
    with zipfile.ZipFile(write_zip(tmp_path / "entregas.zip", names, utf8_flag)) as z:
        assert [lms.zip_name(info) for info in z.infolist()] == names


def test_an_unflagged_name_that_is_not_utf8_stays_cp437(tmp_path: Path) -> None:
    # Un zip de un Windows antiguo: «José» en cp437 (é = 0x82), sin marca. No es UTF-8 válido.
    archive = write_zip(tmp_path / "viejo.zip", ["JosX.ipynb"], utf8_flag=False)
    rewrite(archive, utf8_flag=False, names={b"JosX.ipynb": "José.ipynb".encode("cp437")})
    assert headers(archive)[0].name == b"Jos\x82.ipynb"
    with zipfile.ZipFile(archive) as z:
        assert lms.zip_name(z.infolist()[0]) == "José.ipynb"


def extract(tmp_path: Path, archive: Path) -> Path:
    """Lo que hace ``zip_collect``: ``archive/`` → ``extracted/`` con el extractor del curso."""
    staged, extracted = tmp_path / "archive", tmp_path / "extracted"
    staged.mkdir()
    archive.rename(staged / archive.name)
    lms.LMSExtractor().extract(str(staged), str(extracted))
    return extracted


@pytest.mark.parametrize("utf8_flag", [True, False], ids=["con_marca", "sin_marca"])
@pytest.mark.parametrize("preset", [presets.MOODLE, presets.CANVAS])
def test_extracted_downloads_are_recognised_by_name(tmp_path: Path, preset: str, utf8_flag: bool) -> None:
    archive = write_zip(tmp_path / "entregas.zip", list(FILES[preset]), utf8_flag)
    extracted = extract(tmp_path, archive)
    files = sorted(p for p in extracted.rglob("*") if p.is_file())
    assert sorted(p.relative_to(extracted / "entregas").as_posix() for p in files) == sorted(FILES[preset])
    entries = lms.classify(files, extracted, [NOTEBOOK], lms=preset)
    got = {e.student_id: (e.lms.name, e.lms.prefix) for e in entries if e.status == lms.IMPORTED}
    assert got == EXPECTED[preset]


@pytest.mark.parametrize("utf8_flag", [True, False], ids=["con_marca", "sin_marca"])
def test_macos_decomposed_accents_are_composed(tmp_path: Path, utf8_flag: bool) -> None:
    # El compresor de macOS escribe los acentos descompuestos (NFD): «n» + «◌̃» en lugar de «ñ».
    names = [unicodedata.normalize("NFD", n) for n in MOODLE_FILES]
    assert names != list(MOODLE_FILES)
    extracted = extract(tmp_path, write_zip(tmp_path / "entregas.zip", names, utf8_flag))
    files = sorted(p for p in extracted.rglob("*") if p.is_file())
    entries = lms.classify(files, extracted, [NOTEBOOK], lms=presets.MOODLE)
    got = {e.student_id: (e.lms.name, e.lms.prefix) for e in entries if e.status == lms.IMPORTED}
    assert got == EXPECTED[presets.MOODLE]


def test_extractor_copies_loose_files_and_opens_zips_inside_zips(tmp_path: Path) -> None:
    # Como el extractor de nbgrader: un zip que subió el alumno se abre en una carpeta con su nombre.
    inner = write_zip(tmp_path / "interior.zip", [f"Núñez Peña, Begoña/{NOTEBOOK}"], utf8_flag=False)
    staged = tmp_path / "archive"
    staged.mkdir()
    (staged / "suelto.ipynb").write_text("{}", encoding="utf-8")
    folder = "Núñez Peña, Begoña_1234568_assignsubmission_file"
    with zipfile.ZipFile(staged / "entregas.zip", "w") as z:
        z.write(inner, f"{folder}/entrega de Begoña.zip")
    rewrite(staged / "entregas.zip", utf8_flag=False)
    extracted = tmp_path / "extracted"
    lms.LMSExtractor().extract(str(staged), str(extracted))
    found = {p.relative_to(extracted).as_posix() for p in extracted.rglob("*") if p.is_file()}
    assert found == {
        "suelto.ipynb",
        f"entregas/{folder}/entrega de Begoña.zip",
        f"entregas/{folder}/entrega de Begoña/Núñez Peña, Begoña/{NOTEBOOK}",
    }


def test_a_broken_zip_is_reported_in_spanish(tmp_path: Path) -> None:
    broken = tmp_path / "entregas.zip"
    broken.write_bytes(b"PK\x03\x04 cortado")
    with pytest.raises(lms.CollectError, match="no es un zip válido"):
        extract(tmp_path, broken)


# --- De la descarga al LMS, con make corregir-todo -------------------------------------------------


@dataclass(frozen=True)
class Run:
    lms: str
    utf8_flag: bool
    root: Path
    output: str


@pytest.fixture(
    scope="module",
    params=[(presets.MOODLE, True), (presets.MOODLE, False), (presets.CANVAS, True), (presets.CANVAS, False)],
    ids=["moodle_con_marca", "moodle_sin_marca", "canvas_con_marca", "canvas_sin_marca"],
)
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    preset, utf8_flag = request.param
    root = new_course(tmp_path_factory.mktemp(f"nombres_{preset}"))
    (root / "descargas").mkdir()
    files = {name: submission(solved) for name, solved in FILES[preset].items()}
    archive = write_zip(root / "descargas" / "entregas.zip", files, utf8_flag)
    assert {bool(h.local_flags & UTF8_FLAG) for h in headers(archive)} == {utf8_flag}
    output = succeed(root, "corregir-todo", f"ENTREGAS={archive}", f"CUADERNO={ASSIGNMENT}", f"LMS={preset}")
    return Run(preset, utf8_flag, root, output)


@pytest.mark.cuadernos
def test_every_student_is_collected_under_their_name(graded: Run) -> None:
    assert "3 archivos importados, 0 sin reconocer." in graded.output
    expected = EXPECTED[graded.lms]
    assert {p.name for p in (graded.root / "submitted").iterdir()} == set(expected)
    record = json.loads((graded.root / "downloaded" / ASSIGNMENT / lms.RECORD_NAME).read_text(encoding="utf-8"))
    assert {student: (info["nombre"], info["prefijo"]) for student, info in record["alumnos"].items()} == expected


@pytest.mark.cuadernos
def test_each_grade_is_exported_under_their_name(graded: Run) -> None:
    with open(graded.root / "grades.csv", encoding="utf-8", newline="") as f:
        grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert grades == {student: SCORES[student] for student in EXPECTED[graded.lms]}
    # Los archivos para el LMS (su formato lo prueban tests/test_moodle_canvas.py y tests/test_flujo_lms.py)
    # llevan el nombre que escribió el LMS, no el que leyó zipfile.
    exported = "\n".join(p.read_text(encoding="utf-8") for p in sorted((graded.root / "para_el_lms").glob("*.csv")))
    assert "├" not in exported
    for name, _ in EXPECTED[graded.lms].values():
        assert name in exported


@pytest.mark.cuadernos
def test_feedback_goes_back_under_the_names_of_the_download(graded: Run) -> None:
    out = graded.root / "para_el_lms" / f"comentarios_{ASSIGNMENT}_{graded.lms}.zip"
    name = "{}/{}_comentarios.html" if graded.lms == presets.MOODLE else "{}_{}_comentarios.html"
    expected = {name.format(prefix, ASSIGNMENT): s for s, (_, prefix) in EXPECTED[graded.lms].items()}
    assert {h.local_flags & h.central_flags & UTF8_FLAG for h in headers(out)} == {UTF8_FLAG}  # el LMS los lee en UTF-8
    with zipfile.ZipFile(out) as z:
        assert set(z.namelist()) == set(expected)
        for path, student in expected.items():
            assert f"{SCORES[student]:g} de {FULL:g} puntos" in z.read(path).decode("utf-8")
