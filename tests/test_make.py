"""Las órdenes del docente en el Makefile funcionan: release, autograde, feedback y export."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.cuadernos import ROOT, filled_release, grade_cells

pytestmark = pytest.mark.cuadernos

ASSIGNMENT = "02_autoatencion"


@pytest.fixture()
def course_copy(tmp_path: Path) -> Path:
    """Copia del repositorio (sin .venv) que reutiliza el entorno ya instalado."""
    if not (Path(sys.prefix) / ".instalado-test").exists():
        pytest.skip("el entorno no se instaló con el Makefile (falta .venv/.instalado-test)")
    for name in ("Makefile", "nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "ci", tmp_path / "ci", copy_function=shutil.copy2)
    for name in ("solutions", "notebooks"):
        shutil.copytree(ROOT / name / ASSIGNMENT, tmp_path / name / ASSIGNMENT, copy_function=shutil.copy2)
    return tmp_path


def make(course: Path, *targets: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        # -o: el entorno ya está instalado; nunca se reinstala desde la copia (no tiene course_lib/).
        [
            "make",
            f"VENV={sys.prefix}",
            *[f"-o{sys.prefix}/.instalado-{extras}" for extras in ("lab", "docente", "test")],
            *targets,
        ],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"make {' '.join(targets)} falló:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Instalando" not in result.stdout, "las órdenes del docente no deberían reinstalar el entorno"
    return result


def test_release_then_grade_with_make(course_copy: Path) -> None:
    shutil.rmtree(course_copy / "notebooks")
    make(course_copy, "release", f"TAREAS={ASSIGNMENT}")
    assert (course_copy / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

    target = course_copy / "submitted" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(filled_release(ASSIGNMENT), target)
    make(course_copy, "autograde", "feedback", "export")

    assert (course_copy / "feedback" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
    with open(course_copy / "grades.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT]
    assert [(r["student_id"], float(r["score"])) for r in rows] == [("ana", sum(grade_cells(ASSIGNMENT).values()))]


def test_autograde_without_submissions_explains(course_copy: Path) -> None:
    result = subprocess.run(
        [
            "make",
            f"VENV={sys.prefix}",
            *[f"-o{sys.prefix}/.instalado-{extras}" for extras in ("lab", "docente", "test")],
            "autograde",
        ],
        cwd=course_copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "No hay entregas" in result.stdout + result.stderr
