"""Pruebas unitarias de course_grading (las herramientas del docente), sin ejecutar cuadernos.

Las pruebas de extremo a extremo (nbgrader corrigiendo entregas reales u hostiles) están en
test_calificacion.py, test_hostiles.py, test_flujo_docente.py y test_make.py; aquí, las piezas
sueltas: los nombres de archivo del LMS, ShortTracebacks, la señal «REVISAR A MANO», la
configuración del repositorio y la flecha entre los dos paquetes (course_grading importa
course_lib, nunca al revés).
"""

from __future__ import annotations

import ast
import copy
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_grading import lms
from course_grading.preprocessors import ShortTracebacks, suspicious_answers
from tests.cuadernos import ALL_ASSIGNMENTS, ROOT, read

ASSIGNMENT = "00_preliminares"


# --- La flecha: course_lib no sabe nada de la corrección ---------------------------------------


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "course_lib").rglob("*.py")), ids=lambda p: p.name)
def test_course_lib_never_imports_the_grading_tools(path: Path) -> None:
    """Lo que instala el alumnado no depende de nbgrader ni de course_grading."""
    forbidden = {n for n in _imports(path) if n.split(".")[0] in ("course_grading", "nbgrader", "nbconvert")}
    assert not forbidden, f"{path.relative_to(ROOT)} importa {sorted(forbidden)}"


def test_grading_tools_live_in_course_grading() -> None:
    """Los preprocesadores, el núcleo, el aislamiento, el LMS y la plantilla no están en course_lib."""
    for name in ("grading.py", "guard.py", "sandbox.py", "lms.py", "plantillas"):
        assert not (ROOT / "course_lib" / name).exists(), f"course_lib/{name} es del docente: va en course_grading/"
    assert (ROOT / "course_grading" / "plantillas" / "comentarios" / "index.html.j2").is_file()


# --- La señal «REVISAR A MANO» ----------------------------------------------------------------


def test_suspicious_answers_flags_answers_that_touch_the_interpreter() -> None:
    answer = new_code_cell(
        "import builtins\ntorch.allclose = lambda *a, **k: True",
        metadata={"nbgrader": {"solution": True, "grade_id": "resp"}},
    )
    honest = new_code_cell("x = torch.ones(3)", metadata={"nbgrader": {"solution": True, "grade_id": "bien"}})
    found = suspicious_answers(new_notebook(cells=[answer, honest]))
    assert set(found) == {"resp"}
    assert "builtins" in found["resp"] and any(hit.startswith("torch.allclose") for hit in found["resp"])


# --- Nombres de archivo del LMS ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ana__00_preliminares.ipynb", "ana__00_preliminares.ipynb"),
        ("ana__00_preliminares (1).ipynb", "ana__00_preliminares.ipynb"),
        ("ana__00_preliminares(12).ipynb", "ana__00_preliminares.ipynb"),
        ("Copia de ana__00_preliminares.ipynb", "ana__00_preliminares.ipynb"),
        ("ana__Copia de 00_preliminares.ipynb", "ana__00_preliminares.ipynb"),
        ("Copy of Copia de ana__00_preliminares (3).ipynb", "ana__00_preliminares.ipynb"),
        ("ana__00_preliminares - copia.IPYNB", "ana__00_preliminares.ipynb"),
        ("copia_de_seguridad__00_preliminares.ipynb", "copia_de_seguridad__00_preliminares.ipynb"),
    ],
)
def test_normalise_name(name: str, expected: str) -> None:
    assert lms.normalise_name(name) == expected


def test_classify_students_with_underscores_and_problems(tmp_path: Path) -> None:
    names = [
        "ana_maria_lopez__00_preliminares.ipynb",  # el alumno lleva guiones bajos
        "ana__02_autoatencion.ipynb",  # otro cuaderno
        "ana 00_preliminares.ipynb",  # sin el separador
        "Ana García__00_preliminares.ipynb",  # espacio en el identificador
        "..__00_preliminares.ipynb",  # no vale como carpeta
        "luis__00_preliminares.ipynb",  # dos archivos del mismo alumno
        "luis__00_preliminares (1).ipynb",
        "notas.pdf",
        "__MACOSX/._ana__00_preliminares.ipynb",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}", encoding="utf-8")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    entries = {e.shown: e for e in lms.classify(files, tmp_path, [f"{ASSIGNMENT}.ipynb"])}
    assert {n: e.status for n, e in entries.items()} == {
        "ana_maria_lopez__00_preliminares.ipynb": lms.IMPORTED,
        "ana__02_autoatencion.ipynb": lms.UNRECOGNISED,
        "ana 00_preliminares.ipynb": lms.UNRECOGNISED,
        "Ana García__00_preliminares.ipynb": lms.UNRECOGNISED,
        "..__00_preliminares.ipynb": lms.UNRECOGNISED,
        "luis__00_preliminares.ipynb": lms.UNRECOGNISED,
        "luis__00_preliminares (1).ipynb": lms.UNRECOGNISED,
        "notas.pdf": lms.UNRECOGNISED,
        "__MACOSX/._ana__00_preliminares.ipynb": lms.IGNORED,
    }
    assert entries["ana_maria_lopez__00_preliminares.ipynb"].student_id == "ana_maria_lopez"
    assert "hay 2 archivos de luis" in entries["luis__00_preliminares.ipynb"].reason
    assert "02_autoatencion" in entries["ana__02_autoatencion.ipynb"].reason
    line = lms.summary(list(entries.values()))
    assert line.startswith("1 archivo importado, 7 sin reconocer: ")
    assert "notas.pdf" in line and "__MACOSX" not in line


def test_notebook_ids_never_contain_the_separator() -> None:
    """El separador es el último «__» porque ningún cuaderno lo lleva en su identificador."""
    assert [a for a in ALL_ASSIGNMENTS if lms.SEPARATOR in a] == []


def test_help_is_spanish() -> None:
    text = lms.parser().format_help()
    assert text.startswith("uso: ") and "opciones:" in text and "muestra esta ayuda" in text
    assert "usage" not in text and "show this help" not in text


# --- La configuración del repositorio ------------------------------------------------------------


def test_the_repository_config_uses_the_defences(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader_config.py, cargado como lo carga nbgrader: GuardedExecute y comentarios sin pruebas ocultas."""
    from nbgrader.preprocessors import ClearHiddenTests, Execute
    from traitlets.config.loader import PyFileConfigLoader

    from course_grading.preprocessors import GuardedExecute, ShortTracebacks

    for name in ("JUPYTER_PATH", "CURSO_CALIFICACION_OCULTAR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # harden() los cambia; que se restauren
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    graders = config.Autograde.autograde_preprocessors
    assert GuardedExecute in graders and Execute not in graders
    assert config.GuardedExecute.timeout == 120 and config.GuardedExecute.interrupt_on_timeout
    assert {ClearHiddenTests, ShortTracebacks} <= set(config.GenerateFeedback.preprocessors)
    assert str(ROOT) in os.environ["CURSO_CALIFICACION_OCULTAR"].split(os.pathsep)
    assert read(ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").cells


# --- preprocessors.ShortTracebacks ----------------------------------------------------------------


def error_output(ename: str = "CheckError", evalue: str = "✗ algo falló\n  Pista: mira aquí"):
    long_traceback = [f"\x1b[0;31mlínea {i} de una prueba oculta\x1b[0m" for i in range(30)]
    return new_output("error", ename=ename, evalue=evalue, traceback=long_traceback)


def make_notebook() -> nbformat.NotebookNode:
    graded = new_code_cell("assert False", metadata={"nbgrader": {"grade": True, "grade_id": "t1", "points": 1}})
    graded.outputs = [new_output("stream", name="stdout", text="hola\n"), error_output()]
    ungraded = new_code_cell("1 / 0", metadata={"nbgrader": {"grade": False, "solution": True}})
    ungraded.outputs = [error_output("ZeroDivisionError", "division by zero")]
    plain = new_code_cell("1 / 0")
    plain.outputs = [error_output("ZeroDivisionError", "division by zero")]
    return new_notebook(cells=[new_markdown_cell("# Título"), graded, ungraded, plain])


def test_short_tracebacks_shortens_graded_cells():
    """En una celda calificada, el traceback largo queda en una línea «Tipo: mensaje»."""
    nb = make_notebook()
    result, _ = ShortTracebacks().preprocess(nb, {})
    graded = result.cells[1]
    error = graded.outputs[1]
    assert error.traceback == ["CheckError: ✗ algo falló\n  Pista: mira aquí"]
    assert error.ename == "CheckError" and error.evalue.startswith("✗"), "ename y evalue no cambian"
    assert graded.outputs[0].text == "hola\n", "las salidas que no son errores no se tocan"


def test_short_tracebacks_leaves_other_cells_untouched():
    """Las celdas no calificadas (o sin metadatos de nbgrader) conservan su traceback completo."""
    nb = make_notebook()
    original = copy.deepcopy(nb)
    result, _ = ShortTracebacks().preprocess(nb, {})
    for index in (0, 2, 3):
        assert result.cells[index] == original.cells[index], f"la celda {index} no debería cambiar"
    assert len(result.cells[2].outputs[0].traceback) == 30


def test_short_tracebacks_is_enabled_when_called_like_nbgrader():
    """nbgrader llama al preprocesador como objeto (``pp(nb, resources)``), que no hace nada si no está
    encendido: por defecto debe estarlo, o los tracebacks con pruebas ocultas llegarían al alumno."""
    nb = make_notebook()
    result, _ = ShortTracebacks()(nb, {})
    assert result.cells[1].outputs[1].traceback == ["CheckError: ✗ algo falló\n  Pista: mira aquí"]
