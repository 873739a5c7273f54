"""Entregas que perdieron los metadatos de nbgrader o borraron pruebas, y la señal «REVISAR A MANO».

De extremo a extremo (marcadas ``cuadernos``): un curso temporal con 02_autoatencion corrige
en una sola pasada una solución correcta y otra equivocada sin metadatos, una correcta con
una prueba borrada, otra sin metadatos Y con una prueba borrada (la que nbgrader, solo, no
sabe dónde volver a poner) y otra con una celda añadida sospechosa. Sin
:class:`course_grading.restore.RestoreMetadata`, las correctas sacan 0 sin ningún aviso.

Sin nbgrader: cómo empareja :func:`course_grading.restore.restore` las celdas (con celdas
fuente sacadas de ``solutions/``) y qué lee :func:`course_grading.preprocessors.suspicious_answers`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests

from course_grading.preprocessors import suspicious_answers
from course_grading.restore import SourceCell, released_source, restore
from tests.cuadernos import (
    RELEASE,
    ROOT,
    filled_release,
    grade_cells,
    make_course,
    mistakes_for,
    nbgrader,
    nbgrader_meta,
    read,
    release_path,
    solution_path,
)

ASSIGNMENT = "02_autoatencion"
ANSWER = "scaled_dot_product_attention"
DELETED = "test_SelfAttention_forward"  # la prueba que borra «prueba_borrada»
UNANCHORED = "test_scaled_dot_product_attention_formas"  # la anterior en la fuente es una comprobación
SNIPPET = "import gc\ngc.collect()\n"  # inofensivo, pero toca el intérprete: se señala


def strip_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Como si se hubiera copiado celda a celda en un cuaderno nuevo: sin metadatos de nbgrader."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode()
    return nb


def without(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    """``nb`` sin la celda ``grade_id`` (buscada por su código, por si ya no tiene metadatos)."""
    release = read(release_path(ASSIGNMENT)).cells
    source = next(c.source for c in release if nbgrader_meta(c).get("grade_id") == grade_id)
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.source != source]
    return nb


def with_added_cell(nb: nbformat.NotebookNode, after: str, source: str) -> nbformat.NotebookNode:
    """``nb`` con una celda nueva del alumno tras la celda ``after``."""
    nb = copy.deepcopy(nb)
    at = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == after)
    nb.cells.insert(at + 1, new_code_cell(source))
    return nb


def wrong() -> nbformat.NotebookNode:
    """La solución con el primer error frecuente sembrado de 02_autoatencion."""
    return filled_release(ASSIGNMENT, mistakes_for(ASSIGNMENT)[0].answers(ASSIGNMENT))


SUBMISSIONS = {
    "solucion": lambda: filled_release(ASSIGNMENT),
    "sin_metadatos": lambda: strip_metadata(filled_release(ASSIGNMENT)),
    "sin_metadatos_mal": lambda: strip_metadata(wrong()),
    "prueba_borrada": lambda: without(filled_release(ASSIGNMENT), DELETED),
    "todo_perdido": lambda: without(strip_metadata(filled_release(ASSIGNMENT)), UNANCHORED),
    "celda_sospechosa": lambda: with_added_cell(filled_release(ASSIGNMENT), "SelfAttention", SNIPPET),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Corrige todas las entregas de :data:`SUBMISSIONS` en un curso nuevo; notas por celda y registro."""
    course = make_course(tmp_path_factory.mktemp("curso_metadatos"), ASSIGNMENT)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    for student, build in SUBMISSIONS.items():
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(), target)
    result = nbgrader("autograde", ASSIGNMENT, "--force", cwd=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {
            student: {g.name: g.score for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades}
            for student in SUBMISSIONS
        }
    return {"scores": scores, "log": result.stdout + result.stderr, "course": course}


def log_lines(graded: dict, text: str) -> list[str]:
    return [line for line in graded["log"].splitlines() if text in line]


def restore_line(graded: dict, student: str) -> str:
    lines = log_lines(graded, f"Entrega de {student}/{ASSIGNMENT}:")
    assert len(lines) == 1, f"se esperaba un aviso para {student}: {lines}"
    return lines[0]


@pytest.mark.cuadernos
@pytest.mark.parametrize("student", ["sin_metadatos", "prueba_borrada", "todo_perdido"])
def test_correct_submission_gets_full_marks(graded: dict, student: str) -> None:
    """(a) y (c): sin metadatos, sin una prueba o sin ambas, la solución saca la nota máxima."""
    assert graded["scores"][student] == grade_cells(ASSIGNMENT)


@pytest.mark.cuadernos
def test_wrong_submission_without_metadata_loses_points(graded: dict) -> None:
    """(b): restaurar los metadatos no regala puntos a una respuesta equivocada."""
    scores = graded["scores"]["sin_metadatos_mal"]
    assert set(scores) == set(grade_cells(ASSIGNMENT))
    assert sum(scores.values()) < sum(grade_cells(ASSIGNMENT).values())
    assert any(score > 0 for score in scores.values()), "el ejercicio sin error también debería puntuar"


@pytest.mark.cuadernos
def test_the_log_names_the_submission_and_what_was_restored(graded: dict) -> None:
    """(c) y (d): un aviso en español por entrega, con el alumno, el cuaderno y lo restaurado."""
    stripped = restore_line(graded, "sin_metadatos")
    assert "se restauraron los metadatos de 10 celdas" in stripped
    assert all(name in stripped for name in (ANSWER, "SelfAttention", "configuracion", DELETED))
    deleted = restore_line(graded, "prueba_borrada")
    assert f"se añadió 1 prueba borrada ({DELETED})" in deleted and "restauraron" not in deleted
    both = restore_line(graded, "todo_perdido")
    assert "se restauraron los metadatos de 9 celdas" in both
    assert f"se añadió 1 prueba borrada ({UNANCHORED})" in both
    assert not log_lines(graded, f"Entrega de solucion/{ASSIGNMENT}"), "una entrega intacta no se avisa"


@pytest.mark.cuadernos
def test_added_test_runs_after_the_answer(graded: dict) -> None:
    """En el cuaderno corregido, la prueba añadida va tras la respuesta que prueba y se ejecutó."""
    path = graded["course"] / "autograded" / "todo_perdido" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    ids = [nbgrader_meta(c).get("grade_id") for c in read(path).cells]
    assert ids.index(ANSWER) < ids.index(UNANCHORED) < ids.index("test_scaled_dot_product_attention_valores")


@pytest.mark.cuadernos
def test_an_added_suspicious_cell_is_flagged(graded: dict) -> None:
    """La señal lee también las celdas que añade el alumno; las bloqueadas de la fuente, no."""
    flagged = log_lines(graded, "REVISAR A MANO")
    assert [line for line in flagged if f"celda_sospechosa/{ASSIGNMENT}" in line and "gc" in line]
    others = [line for line in flagged if f"celda_sospechosa/{ASSIGNMENT}" not in line]
    assert not others, f"entregas sin código sospechoso señaladas: {others}"


def test_the_repository_config_restores_before_overwriting(monkeypatch: pytest.MonkeyPatch) -> None:
    """``nbgrader_config.py`` pone ``RestoreMetadata`` justo antes de ``OverwriteCells`` al sanear."""
    from nbgrader.preprocessors import OverwriteCells
    from traitlets.config.loader import PyFileConfigLoader

    from course_grading.restore import RestoreMetadata

    for name in ("JUPYTER_PATH", "CURSO_CALIFICACION_OCULTAR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # harden() los cambia; que se restauren
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    sanitize = list(config.Autograde.sanitize_preprocessors)
    assert sanitize.index(RestoreMetadata) + 1 == sanitize.index(OverwriteCells)


# --- Sin nbgrader: el emparejamiento -----------------------------------------------------------


def source_cells() -> list[SourceCell]:
    """Las celdas fuente como las guarda la base de notas (respuestas ya vaciadas)."""
    released = {nbgrader_meta(c)["grade_id"]: c for c in read(release_path(ASSIGNMENT)).cells if nbgrader_meta(c)}
    points = grade_cells(ASSIGNMENT)
    cells = []
    for cell in read(solution_path(ASSIGNMENT)).cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade_id"):
            continue
        name = meta["grade_id"]
        source = cell.source if meta.get("locked") else released[name].source
        cells.append(
            SourceCell(
                name=name,
                cell_type=cell.cell_type,
                source=source,
                released=released_source(source, cell.cell_type, ClearHiddenTests()),
                checksum=None,
                locked=bool(meta.get("locked")),
                grade=bool(meta.get("grade")),
                solution=bool(meta.get("solution")),
                points=points.get(name),
            )
        )
    return cells


def test_cells_that_match_nothing_stay_plain() -> None:
    nb = with_added_cell(filled_release(ASSIGNMENT), "SelfAttention", "print('hola')")
    nb = strip_metadata(nb)
    restore(nb, source_cells())
    added = next(c for c in nb.cells if c.source == "print('hola')")
    assert "nbgrader" not in added.metadata
    demos = [c for c in nb.cells if c.cell_type == "markdown" or c.source.startswith("d_model, d_k = 512")]
    assert all("nbgrader" not in c.metadata for c in demos)


def test_an_edited_test_is_replaced_not_restored() -> None:
    """Una prueba editada no recupera sus metadatos: vuelve la original y la editada queda normal."""
    nb = strip_metadata(filled_release(ASSIGNMENT))
    test = next(c for c in nb.cells if c.source.startswith('"""Forward:'))
    test.source = "pass"
    done = restore(nb, source_cells())
    assert done.added == [DELETED] and DELETED not in done.matched
    assert "nbgrader" not in test.metadata
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells]
    assert ids.index("test_SelfAttention_estructura") + 1 == ids.index(DELETED)


def test_an_answer_is_found_by_what_it_defines_even_if_moved() -> None:
    """La respuesta se reconoce por su ``def`` aunque el alumno la haya movido al final."""
    nb = strip_metadata(filled_release(ASSIGNMENT))
    answer = next(c for c in nb.cells if f"def {ANSWER}(" in c.source)
    nb.cells.remove(answer)
    nb.cells.append(answer)
    restore(nb, source_cells())
    assert nbgrader_meta(answer).get("grade_id") == ANSWER and nbgrader_meta(answer).get("solution")


def test_a_cell_with_an_unknown_grade_id_is_identified_by_its_code() -> None:
    """Un ``grade_id`` que la base de notas no conoce (otra versión del cuaderno) no estorba."""
    nb = filled_release(ASSIGNMENT)
    test = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == DELETED)
    test.metadata.nbgrader["grade_id"] = "prueba_de_otra_version"
    done = restore(nb, source_cells())
    assert done.matched == [DELETED] and not done.added and nbgrader_meta(test)["grade_id"] == DELETED


def test_restored_metadata_validates() -> None:
    from nbgrader.nbgraderformat import MetadataValidator

    nb = without(strip_metadata(filled_release(ASSIGNMENT)), UNANCHORED)
    restore(nb, source_cells())
    MetadataValidator().validate_nb(nb)


# --- Sin nbgrader: qué lee la señal «REVISAR A MANO» -------------------------------------------


def instructor_cell(source: str, grade_id: str = "configuracion") -> nbformat.NotebookNode:
    """Una celda bloqueada de la fuente tal como queda tras el saneado (suma de comprobación al día)."""
    cell = new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "locked": True, "solution": False}})
    cell.metadata.nbgrader["checksum"] = utils.compute_checksum(cell)
    return cell


def test_suspicious_code_in_an_added_cell_is_flagged() -> None:
    answer = new_code_cell("def f():\n    return 1", metadata={"nbgrader": {"solution": True, "grade_id": "f"}})
    nb = new_notebook(cells=[instructor_cell("import subprocess"), answer, new_code_cell(SNIPPET)])
    assert suspicious_answers(nb) == {"celda 3": ["gc"]}
    nb.cells.pop()
    assert suspicious_answers(nb) == {}, "la celda bloqueada de la fuente no se señala"


def test_a_locked_cell_whose_code_changed_is_read() -> None:
    """Metadatos de celda bloqueada con otro código (no saneada): se lee como código del alumno."""
    cell = instructor_cell("x = 1")
    cell.source = "import ctypes"
    assert suspicious_answers(new_notebook(cells=[cell])) == {"celda 1": ["ctypes"]}


def test_model_eval_is_not_the_builtin_eval() -> None:
    """``modelo.eval()`` (cuadernos 03 y 06) no es ``eval(...)``: no se señala."""
    nb = new_notebook(cells=[new_code_cell("layer = nn.Linear(2, 2).eval()"), new_code_cell("eval('1 + 1')")])
    assert suspicious_answers(nb) == {"celda 2": ["eval("]}


@pytest.mark.parametrize("path", sorted(RELEASE.glob("*/*.ipynb")), ids=lambda p: p.parent.name)
def test_the_released_notebooks_are_not_flagged(path: Path) -> None:
    """Ninguna celda editable de lo repartido se señala: la señal no avisa de todas las entregas."""
    nb = read(path)
    nb.cells = [c for c in nb.cells if not utils.is_locked(c)]
    assert suspicious_answers(nb) == {}
