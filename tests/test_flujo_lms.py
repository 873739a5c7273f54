"""La ida y vuelta con un LMS de verdad: una descarga de Moodle y otra de Canvas, con ``make corregir-todo``.

Cada una en un curso temporal nuevo (sin gradebook.db), con los nombres exactos que producen esas
plataformas (tests/test_lms_presets.py los prueba uno a uno): de la descarga a las notas que se
suben al LMS (``para_el_lms/hoja_moodle_<cuaderno>.csv`` y ``notas_<lms>_<cuaderno>.csv``, cuyas
reglas prueba tests/test_moodle_canvas.py) y al zip de comentarios, leído con las reglas con que
lo leen Moodle y Canvas (tests/test_handback.py).
"""

from __future__ import annotations

import csv
import subprocess
import sys
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


def lms_csv(root: Path, name: str) -> list[list[str]]:
    with open(root / "para_el_lms" / name, encoding="utf-8", newline="") as f:
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
    sheet = lms_csv(root, f"hoja_moodle_{ASSIGNMENT}.csv")  # por número de participante, el de la descarga
    assert sheet[0][:2] == ["Identificador", "Identifier"]
    assert {row[0]: float(row[3]) for row in sheet[1:]} == {"Participante1234567": FULL, "Participante1234570": 0.0}
    table = lms_csv(root, f"notas_moodle_{ASSIGNMENT}.csv")  # por el id_lms de la lista de clase
    assert table[0] == ["id_lms", "Dirección de correo", "Nombre", "Apellido(s)", ASSIGNMENT]
    assert {row[0]: float(row[4]) for row in table[1:]} == {"ana@uni.es": FULL, "luis@uni.es": 0.0}
    assert not (root / "para_el_lms" / "sin_subir_moodle.txt").exists()


def test_export_without_lms_uses_the_lms_of_the_download(moodle: dict) -> None:
    """Lo que hará make export sin LMS=: nbgrader export con LMSExport y sin --LMSExport.lms."""
    out = moodle["root"] / "para_el_lms"
    for path in out.glob("*_moodle_*.csv"):
        path.unlink()
    result = subprocess.run(
        [Path(sys.prefix) / "bin" / "nbgrader", "export", "--exporter=course_grading.export.LMSExport",
         "--log-level=WARN"],
        cwd=moodle["root"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.glob("*_moodle_*.csv")) == [
        f"hoja_moodle_{ASSIGNMENT}.csv",
        f"notas_moodle_{ASSIGNMENT}.csv",
    ]


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
    table = lms_csv(canvas["root"], f"notas_canvas_{ASSIGNMENT}.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert table[1][0] == "Points Possible" and float(table[1][5]) == FULL
    assert {row[1]: float(row[5]) for row in table[2:]} == {"48213": FULL, "48214": 0.0}


def test_canvas_feedback_zip_is_read_by_canvas_as_each_submission(canvas: dict) -> None:
    out = canvas["root"] / "para_el_lms" / f"comentarios_{ASSIGNMENT}_canvas.zip"
    with zipfile.ZipFile(out) as z:
        found = {canvas_user_and_attachment(name): z.read(name).decode("utf-8") for name in z.namelist()}
    assert set(found) == {("48213", "901001"), ("48214", "901002")}
    assert f"{FULL:g} de {FULL:g} puntos" in found["48213", "901001"]
