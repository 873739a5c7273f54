"""El flujo del docente con las entregas de un LMS: recoger, corregir, comentar, exportar y repetir.

Un curso temporal con un solo cuaderno (00_preliminares, el más rápido) y dos alumnos, sin
gradebook.db (como un clon nuevo). El zip del LMS trae una entrega con el nombre bien puesto,
otra renombrada por Colab y por el navegador («Copia de … (1)»), un archivo que no sigue la
convención y la basura que añade macOS. Se usan las órdenes del Makefile, como lo haría el
docente: ``make corregir-todo`` se detiene tras recoger porque hay un archivo sin reconocer;
``make autograde feedback export`` corrige lo importado; después un alumno vuelve a entregar y
``make corregir-todo ALUMNO=…`` lo corrige solo a él. Los nombres sueltos se prueban sin nbgrader
en tests/test_course_grading.py.
"""

from __future__ import annotations

import csv
import html
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.flujo import ASSIGNMENT, FULL, make, new_course, submission, succeed

pytestmark = pytest.mark.cuadernos

# Archivo del zip → alumno que debe salir (None: no se importa).
LMS_FILES = {
    "ana__00_preliminares.ipynb": "ana",
    "Copia de luis_perez__00_preliminares (1).ipynb": "luis_perez",
    "tarea de pedro.ipynb": None,
}
SOLVED = {"ana"}  # entrega la solución; luis_perez, el cuaderno sin tocar
UNRECOGNISED = "tarea de pedro.ipynb"
ENGLISH_FEEDBACK = ["Score", "Student's answer", "Comments", "Test cell", "No response", "(Top)", "In&nbsp;["]


# --- El flujo completo con make -----------------------------------------------------------------


def grades(course: Path) -> dict[str, float]:
    with open(course / "grades.csv", encoding="utf-8") as f:
        return {r["student_id"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}


def feedback_path(course: Path, student: str) -> Path:
    return course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Curso temporal tras ``make corregir-todo`` (que se detiene) y ``make autograde feedback export``."""
    root = new_course(tmp_path_factory.mktemp("flujo_docente"))

    archive = root / "descargas" / "entregas.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        for name, student in LMS_FILES.items():
            z.writestr(name, submission(student in SOLVED or student is None))
        z.writestr("__MACOSX/._ana__00_preliminares.ipynb", "basura de macOS")

    stopped = make(root, "corregir-todo", f"ENTREGAS={archive}", f"CUADERNO={ASSIGNMENT}")
    graded = succeed(root, "autograde", "feedback", "export", f"CUADERNO={ASSIGNMENT}")
    return {"root": root, "stopped": stopped, "graded": graded}


def test_collect_imports_known_students(course: dict) -> None:
    root = course["root"]
    expected = {s for s in LMS_FILES.values() if s}
    assert {p.name for p in (root / "submitted").iterdir()} == expected
    for student in expected:
        assert (root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_collect_reports_unrecognised_and_stops(course: dict) -> None:
    result = course["stopped"]
    output = result.stdout + result.stderr
    assert result.returncode != 0, "con un archivo sin reconocer, make corregir-todo debe fallar"
    assert f"2 archivos importados, 1 sin reconocer: {UNRECOGNISED}." in output
    assert "nombre normalizado" in output
    assert "Corrigiendo" not in result.stdout, "no debe corregir tras un archivo sin reconocer"


def test_grades_csv(course: dict) -> None:
    assert grades(course["root"]) == {
        student: FULL if student in SOLVED else 0.0 for student in LMS_FILES.values() if student
    }


def test_fresh_gradebook_is_registered(course: dict) -> None:
    assert "aún no está en gradebook.db" in course["graded"]


def test_feedback_in_spanish(course: dict) -> None:
    for student, score in grades(course["root"]).items():
        page = feedback_path(course["root"], student).read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)))
        assert '<html lang="es">' in page
        assert f"{ASSIGNMENT}: {score:g} de {FULL:g} puntos" in text, student
        assert "Prueba calificada" in text and "Puntuación:" in text
        english = [w for w in ENGLISH_FEEDBACK if w in text or w in page]
        assert not english, f"comentarios de {student} con textos en inglés: {english}"


def test_autograde_unknown_student_explains(course: dict) -> None:
    result = make(course["root"], "autograde", "ALUMNO=nadie", f"CUADERNO={ASSIGNMENT}")
    assert result.returncode != 0
    assert f"No hay entregas de {ASSIGNMENT} de nadie" in result.stdout + result.stderr


def test_resubmission_regrades_only_that_student(course: dict, tmp_path: Path) -> None:
    """Va la última: cambia el curso. Luis vuelve a entregar (ahora bien), en una carpeta."""
    root = course["root"]
    before = grades(root)
    assert before["luis_perez"] == 0
    # Si la corrección tocara a Ana, su nota cambiaría: su entrega pasa a estar en blanco.
    (root / "submitted" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(submission(False), encoding="utf-8")
    ana_feedback = feedback_path(root, "ana").stat().st_mtime_ns

    folder = tmp_path / "reentrega"
    folder.mkdir()
    (folder / "luis_perez__00_preliminares.ipynb").write_text(submission(True), encoding="utf-8")
    output = succeed(root, "corregir-todo", f"ENTREGAS={folder}", f"CUADERNO={ASSIGNMENT}", "ALUMNO=luis_perez")
    assert "1 archivo importado, 0 sin reconocer." in output

    assert grades(root) == {**before, "luis_perez": FULL}
    assert feedback_path(root, "ana").stat().st_mtime_ns == ana_feedback
    assert f"{ASSIGNMENT}: {FULL:g} de {FULL:g} puntos" in feedback_path(root, "luis_perez").read_text(encoding="utf-8")


def test_editing_after_submissions_allows_points_and_test_bodies_not_cell_changes(course: dict) -> None:
    """Tras la reentrega (el curso tiene entregas corregidas): cambiar puntos y cuerpos de prueba vale;
    renombrar una celda calificada, no, y make release lo explica en español."""
    root = course["root"]
    source = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    original = source.read_text(encoding="utf-8")
    nb = nbformat.reads(original, as_version=4)
    graded = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")
    graded.metadata.nbgrader.points += 1
    graded.source += "\nassert True  # una comprobación más, añadida tras repartir"
    nbformat.write(nb, source)
    succeed(root, "release", f"TAREAS={ASSIGNMENT}")
    succeed(root, "autograde", "export", f"CUADERNO={ASSIGNMENT}", "ALUMNO=luis_perez")
    assert grades(root)["luis_perez"] == FULL + 1  # la nueva nota máxima, con la prueba nueva

    graded.metadata.nbgrader.grade_id += "_renombrada"
    nbformat.write(nb, source)
    refused = make(root, "release", f"TAREAS={ASSIGNMENT}")
    assert refused.returncode != 0
    assert "nbgrader no deja añadir, quitar ni renombrar (grade_id) celdas" in refused.stdout + refused.stderr
    source.write_text(original, encoding="utf-8")
