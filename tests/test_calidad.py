"""Puertas de calidad sobre todo el repositorio, y la prueba de que cada una puede fallar.

Se ejecutan solas con ``make calidad``. Las funciones están en ``tests/calidad.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

import course_lib
from tests import calidad
from tests.cuadernos import ROOT

SOLUTION_NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASE_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
LIBRARY = sorted([*(ROOT / "course_lib").rglob("*.py"), *(ROOT / "course_grading").rglob("*.py")])
HUNSPELL_MISSING = (
    "Hunspell con diccionario español no está instalado: en Debian/Ubuntu, "
    "`sudo apt-get install hunspell hunspell-es` (CI lo instala en .ci/run)."
)


def project_texts() -> list[Path]:
    """Los textos escritos para el curso (notebooks/ se genera a partir de solutions/)."""
    paths = [*ROOT.glob("*.md"), ROOT / "nbgrader_config.py", *SOLUTION_NOTEBOOKS]
    for folder in ("course_lib", "course_grading", "tests", "benchmarks"):
        paths += sorted((ROOT / folder).rglob("*.py"))
    return paths


def spelling_segments(notebooks: list[Path], modules: list[Path]):
    for path in notebooks:
        yield from calidad.markdown_segments(path)
    for path in modules:
        yield from calidad.python_segments(path)


def require(result):
    if result is None:
        pytest.skip(HUNSPELL_MISSING)
    return result


# --- 1. Esqueleto --------------------------------------------------------------------------


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_gate_skeleton(path: Path) -> None:
    assert calidad.skeleton(path, course_lib.REPO_URL, course_lib.REPO_BRANCH) == []


@pytest.fixture()
def good_notebook(tmp_path: Path) -> tuple[Path, nbformat.NotebookNode]:
    """Una copia de un cuaderno correcto, para estropearla."""
    source = SOLUTION_NOTEBOOKS[0]
    target = tmp_path / source.parent.name / source.name
    target.parent.mkdir()
    return target, nbformat.read(source, as_version=4)


def _setup_index(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if calidad._meta(c).get("grade_id") == calidad.SETUP_ID)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda nb: nb.cells.pop(_setup_index(nb)), "exactamente una celda de configuración"),
        (lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source.replace("colab.research", "x")), "insignia"),
        (
            lambda nb: nb.cells.pop(next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Resumen"))),
            "Resumen",
        ),
        (
            lambda nb: setattr(
                nb.cells[0], "source", re.sub(r"\*\*\d+ puntos\*\*", "**99 puntos**", nb.cells[0].source)
            ),
            "99",
        ),
        (lambda nb: nb.metadata.pop("kernelspec"), "kernelspec"),
        (lambda nb: nb.cells.pop(), "Cómo entregar"),
        (
            lambda nb: nb.cells.pop(next(i for i, c in enumerate(nb.cells) if calidad._meta(c).get("solution")) + 2),
            "comprobación visible",
        ),
        (
            lambda nb: nb.cells.__setitem__(
                next(i for i, c in enumerate(nb.cells) if "**Qué ver:**" in c.source),
                nbformat.v4.new_markdown_cell("Un texto que no dice qué mirar."),
            ),
            "qué ver",
        ),
    ],
    ids=[
        "sin_configuracion",
        "sin_insignia",
        "sin_resumen",
        "puntos",
        "sin_kernelspec",
        "sin_como_entregar",
        "sin_comprobacion",
        "sin_que_ver",
    ],
)
def test_gate_skeleton_can_fail(good_notebook, damage, expected: str) -> None:
    path, nb = good_notebook
    damage(nb)
    nbformat.write(nb, path)
    problems = calidad.skeleton(path, course_lib.REPO_URL, course_lib.REPO_BRANCH)
    assert any(expected in p and path.name in p for p in problems), problems


# --- 2. Ortografía -------------------------------------------------------------------------


def test_gate_spelling() -> None:
    problems = require(calidad.spelling(spelling_segments(SOLUTION_NOTEBOOKS, LIBRARY), calidad.allowed_words()))
    assert problems == [], (
        "\n".join(problems) + "\n(si una palabra es correcta, añádela a tests/palabras_permitidas.txt)"
    )


def test_gate_word_list() -> None:
    assert require(calidad.word_list_problems()) == []


def test_gate_spelling_can_fail(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("La atencion es la idea clave; `atencion_x` no cuenta.")]
    )
    path = tmp_path / "malo.ipynb"
    nbformat.write(nb, path)
    module = tmp_path / "malo.py"
    module.write_text(
        'def f():\n    """Devuelve la funcion de perdida."""\n    # comentario con eror\n', encoding="utf-8"
    )
    problems = require(calidad.spelling(spelling_segments([path], [module]), calidad.allowed_words()))
    assert any("malo.ipynb, celda 1" in p and "atencion" in p and "atencion_x" not in p for p in problems), problems
    assert any("malo.py, línea 2" in p and "funcion" in p for p in problems), problems
    assert any("malo.py, línea 3" in p and "eror" in p for p in problems), problems


def test_gate_word_list_can_fail(tmp_path: Path) -> None:
    words = tmp_path / "palabras.txt"
    words.write_text("softmax\nfuncion\n", encoding="utf-8")
    problems = require(calidad.word_list_problems(words))
    assert any("orden alfabético" in p for p in problems), problems
    assert any("«funcion»" in p and "función" in p for p in problems), problems


# --- 3. Lint -------------------------------------------------------------------------------


def test_gate_lint() -> None:
    paths = [ROOT / "course_lib", ROOT / "course_grading", ROOT / "tests", ROOT / "nbgrader_config.py"]
    paths += [ROOT / "solutions", ROOT / "notebooks"]
    paths += [ROOT / name for name in ("benchmarks", "libro", "ci") if (ROOT / name).exists()]
    problems = calidad.lint(paths)
    assert problems == [], "\n".join(problems)


def test_gate_lint_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "malo.py"
    module.write_text("import os\n\nx = {'a':1}\n", encoding="utf-8")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import math\nprint(1)")])
    notebook = tmp_path / "malo.ipynb"
    nbformat.write(nb, notebook)
    problems = calidad.lint([module, notebook])
    assert any("malo.py, línea 1: F401" in p for p in problems), problems
    assert any("malo.ipynb, celda 1, línea 1: F401" in p for p in problems), problems
    assert any("malo.py: sin formato" in p for p in problems), problems


# --- 4. Cuadernos limpios ------------------------------------------------------------------


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS + RELEASE_NOTEBOOKS, ids=lambda p: f"{p.parts[-3]}/{p.parent.name}")
def test_gate_clean_notebooks(path: Path) -> None:
    assert calidad.clean_notebook(path) == []


def test_gate_clean_notebooks_can_fail(tmp_path: Path) -> None:
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    dirty = tmp_path / "sucio.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), dirty)
    problems = calidad.clean_notebook(dirty)
    assert any("sucio.ipynb, celda 1: tiene salidas" in p for p in problems), problems
    assert any("contador de ejecución" in p for p in problems), problems

    big = tmp_path / "grande.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x" * 250_000)]), big)
    assert any("grande.ipynb: ocupa" in p for p in calidad.clean_notebook(big))

    broken = tmp_path / "roto.ipynb"
    broken.write_text(json.dumps({"cells": "no"}), encoding="utf-8")
    assert any("roto.ipynb: no es un cuaderno válido" in p for p in calidad.clean_notebook(broken))


# --- 5. Prosa propia -----------------------------------------------------------------------

needs_seeds = pytest.mark.skipif(not calidad.SEEDS.exists(), reason="no está ../shared/seeds: no hay con qué comparar")


@needs_seeds
def test_gate_own_prose() -> None:
    segments = [s for path in project_texts() for s in calidad.text_segments(path)]
    problems = calidad.copied_prose(segments, calidad.seed_runs(), calidad.exempt_phrases())
    assert problems == [], "\n".join(problems)


def test_exemptions_have_reasons() -> None:
    for phrase, reason in calidad.exempt_phrases():
        assert reason, f"la exención «{phrase}» no dice por qué"


@needs_seeds
def test_gate_own_prose_can_fail(tmp_path: Path) -> None:
    seed = sorted(calidad.SEEDS.glob("*.txt"))[0]
    words = re.findall(r"\w+", seed.read_text(encoding="utf-8"))[200:214]  # 14 palabras seguidas de una semilla
    copied = tmp_path / "copiado.md"
    copied.write_text("Introducción propia.\n\n" + " ".join(words) + "\n", encoding="utf-8")
    seeds = calidad.seed_runs()
    problems = calidad.copied_prose(calidad.text_segments(copied), seeds, [])
    assert any("copiado.md" in p and seed.name in p for p in problems), problems
    # Una exención sin motivo no exime; con motivo, sí.
    phrase = " ".join(words)
    assert calidad.copied_prose(calidad.text_segments(copied), seeds, [(phrase, "")]) != []
    assert calidad.copied_prose(calidad.text_segments(copied), seeds, [(phrase, "cita")]) == []


def test_hunspell_hint_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sin Hunspell la puerta no pasa en silencio: devuelve None y la prueba se salta con instrucciones."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert calidad.hunspell_unknown(["hola"]) is None
