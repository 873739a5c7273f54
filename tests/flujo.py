"""Lo común a las pruebas del flujo del docente con make: un curso temporal y las órdenes del Makefile.

Un curso temporal con un solo cuaderno (00_preliminares, el más rápido), sin gradebook.db (como
un clon nuevo), y ``make`` con el entorno ya instalado (nunca se reinstala desde la copia).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.cuadernos import ROOT, filled_release, grade_cells, read, release_path

ASSIGNMENT = "00_preliminares"
FULL = sum(grade_cells(ASSIGNMENT).values())


def new_course(root: Path, assignment: str = ASSIGNMENT) -> Path:
    """Copia en ``root`` lo que necesita un curso para corregir ``assignment`` con make."""
    if not (Path(sys.prefix) / ".instalado-test").exists():
        pytest.skip("el entorno no se instaló con el Makefile (falta .venv/.instalado-test)")
    for name in ("Makefile", "nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "ci", root / "ci", copy_function=shutil.copy2)
    for name in ("solutions", "notebooks"):
        shutil.copytree(ROOT / name / assignment, root / name / assignment, copy_function=shutil.copy2)
    return root


def make(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        # -o: el entorno ya está instalado; nunca se reinstala desde la copia (no tiene course_lib/).
        [
            "make",
            f"VENV={sys.prefix}",
            *[f"-o{sys.prefix}/.instalado-{extras}" for extras in ("lab", "docente", "test")],
            *args,
        ],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=900,
    )


def succeed(course: Path, *args: str) -> str:
    result = make(course, *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"make {' '.join(args)} falló:\n{output[-4000:]}"
    assert "Instalando" not in result.stdout, "las órdenes del docente no deberían reinstalar el entorno"
    return output


def submission(solved: bool) -> str:
    return nbformat.writes(filled_release(ASSIGNMENT) if solved else read(release_path(ASSIGNMENT)))
