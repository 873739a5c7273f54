"""La ida y vuelta con un LMS de verdad: una descarga de Moodle y otra de Canvas, con ``make corregir-todo``.

Cada una en un curso temporal nuevo (sin gradebook.db), con los nombres exactos que producen esas
plataformas (tests/test_lms_presets.py los prueba uno a uno): de la descarga a las notas por
alumno (``para_el_lms/notas_<lms>.csv``) y al zip de comentarios que se sube al LMS, leído con las
reglas con que lo leen Moodle y Canvas (tests/test_handback.py).
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from tests.flujo import ASSIGNMENT, FULL, new_course, submission, succeed
from tests.test_handback import canvas_user_and_attachment, moodle_participant

pytestmark = pytest.mark.cuadernos

MOODLE_FILES = {  # archivo de la descarga → ¿resuelto?
    "Ana García López_1234567_assignsubmission_file/00_preliminares.ipynb": True,
    "Pérez, Luis_1234570_assignsubmission_file_/Copia de 00_preliminares (1).ipynb": False,  # Moodle ≤ 4.0
}
CANVAS_FILES = {
    "garcialopezana_48213_901001_00_preliminares.ipynb": True,
    "perezluis_LATE_48214_901002_00_preliminares-1.ipynb": False,  # tarde y vuelto a subir
}


def download(root: Path, files: dict[str, bool], extra: dict[str, str]) -> Path:
    archive = root / "descargas" / "entregas.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        for name, solved in files.items():
            z.writestr(name, submission(solved))
        for name, text in extra.items():
            z.writestr(name, text)
    return archive


def wide_csv(root: Path, lms: str) -> list[list[str]]:
    with open(root / "para_el_lms" / f"notas_{lms}.csv", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = new_course(tmp_path_factory.mktemp("flujo_moodle"))
    (root / "clase.csv").write_text(
        "id,nombre,apellidos,email,id_lms\nagarcia,Ana,García López,ana@uni.es,ana@uni.es\n"
        "lperez,Luis,Pérez,luis@uni.es,luis@uni.es\n",
        encoding="utf-8",
    )
    listed = succeed(root, "alumnos", "LISTA=clase.csv")
    archive = download(root, MOODLE_FILES, {"Ana García López_1234567_assignsubmission_onlinetext_onlinetext.html": ""})
    output = succeed(root, "corregir-todo", f"ENTREGAS={archive}", f"CUADERNO={ASSIGNMENT}", "LMS=moodle")
    return {"root": root, "listed": listed, "output": output}


@pytest.fixture(scope="module")
def canvas(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = new_course(tmp_path_factory.mktemp("flujo_canvas"))
    archive = download(root, CANVAS_FILES, {})
    output = succeed(root, "corregir-todo", f"ENTREGAS={archive}", f"CUADERNO={ASSIGNMENT}", "LMS=canvas")
    return {"root": root, "output": output}


def test_moodle_download_is_graded_by_class_list_name(moodle: dict) -> None:
    assert "2 alumnos nuevos y 0 actualizados" in moodle["listed"]
    assert "2 archivos importados, 0 sin reconocer." in moodle["output"]
    assert "texto en línea de Moodle" in moodle["output"]
    root = moodle["root"]
    assert {p.name for p in (root / "submitted").iterdir()} == {"agarcia", "lperez"}
    table = wide_csv(root, "moodle")
    assert table[0] == ["id_lms", "Dirección de correo", "Nombre", "Apellido(s)", ASSIGNMENT, "Total"]
    rows = {row[0]: (float(row[4]), float(row[5])) for row in table[1:]}
    assert rows == {"ana@uni.es": (FULL, FULL), "luis@uni.es": (0.0, 0.0)}


def test_moodle_feedback_zip_is_read_by_moodle_as_each_participant(moodle: dict) -> None:
    out = moodle["root"] / "para_el_lms" / f"comentarios_{ASSIGNMENT}_moodle.zip"
    with zipfile.ZipFile(out) as z:
        found = {moodle_participant(name): z.read(name).decode("utf-8") for name in z.namelist()}
    assert set(found) == {("1234567", f"{ASSIGNMENT}_comentarios.html"), ("1234570", f"{ASSIGNMENT}_comentarios.html")}
    assert f"{FULL:g} de {FULL:g} puntos" in found["1234567", f"{ASSIGNMENT}_comentarios.html"]
    assert f"0 de {FULL:g} puntos" in found["1234570", f"{ASSIGNMENT}_comentarios.html"]


def test_canvas_download_is_graded_by_canvas_user_id(canvas: dict) -> None:
    assert "2 archivos importados, 0 sin reconocer." in canvas["output"]
    assert "TARDE según el LMS" in canvas["output"]
    table = wide_csv(canvas["root"], "canvas")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT, "Final Points"]
    assert table[1][0] == "Points Possible" and float(table[1][5]) == FULL
    assert {row[1]: float(row[5]) for row in table[2:]} == {"48213": FULL, "48214": 0.0}


def test_canvas_feedback_zip_is_read_by_canvas_as_each_submission(canvas: dict) -> None:
    out = canvas["root"] / "para_el_lms" / f"comentarios_{ASSIGNMENT}_canvas.zip"
    with zipfile.ZipFile(out) as z:
        found = {canvas_user_and_attachment(name): z.read(name).decode("utf-8") for name in z.namelist()}
    assert set(found) == {("48213", "901001"), ("48214", "901002")}
    assert f"{FULL:g} de {FULL:g} puntos" in found["48213", "901001"]
