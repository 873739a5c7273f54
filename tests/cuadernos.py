"""Utilidades de las pruebas para leer, rellenar y corregir cuadernos del curso."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
ALL_ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").exists())
# CURSO_CUADERNOS=02_autoatencion,03_multicabeza limita las pruebas de cuadernos a esos (para
# trabajar en uno sin esperar a los demás); sin la variable, se prueban todos.
_ONLY = [a for a in os.environ.get("CURSO_CUADERNOS", "").split(",") if a]
ASSIGNMENTS = [a for a in ALL_ASSIGNMENTS if a in _ONLY] if _ONLY else ALL_ASSIGNMENTS
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def solution_path(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def release_path(assignment: str) -> Path:
    return RELEASE / assignment / f"{assignment}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_sources(assignment: str) -> dict[str, str]:
    """``{grade_id: código}`` de cada celda de respuesta, tal como la escribiría un alumno."""
    return {
        nbgrader_meta(cell)["grade_id"]: SOLUTION_MARKERS.sub("", cell.source)
        for cell in read(solution_path(assignment)).cells
        if nbgrader_meta(cell).get("solution") and cell.cell_type == "code"
    }


def filled_release(assignment: str, answers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """La versión del alumnado con las respuestas puestas (por defecto, las correctas)."""
    nb = read(release_path(assignment))
    answers = answer_sources(assignment) if answers is None else answers
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def grade_cells(assignment: str) -> dict[str, float]:
    """``{grade_id: puntos}`` de las celdas calificadas."""
    return {
        nbgrader_meta(cell)["grade_id"]: float(nbgrader_meta(cell)["points"])
        for cell in read(solution_path(assignment)).cells
        if nbgrader_meta(cell).get("grade")
    }


def tool_env(**extra: str) -> dict[str, str]:
    """Entorno para lanzar nbgrader/jupyter: el del entorno virtual primero, modo rápido."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CURSO_RAPIDO"] = "1"
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def nbgrader(
    *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Ejecuta ``nbgrader`` en ``cwd`` y devuelve el proceso (con su registro)."""
    exe = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run(
        [str(exe), *args], cwd=cwd, env=tool_env(**(env or {})), capture_output=True, text=True, timeout=1800
    )
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} falló ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


T = TypeVar("T")
WORKERS = max(1, min(4, os.cpu_count() or 1))


def per_assignment(work: Callable[[str], T]) -> dict[str, T]:
    """Ejecuta ``work(cuaderno)`` para todos los cuadernos, en paralelo (un hilo por núcleo)."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(zip(ASSIGNMENTS, pool.map(work, ASSIGNMENTS), strict=True))


def make_course(root: Path, assignment: str) -> Path:
    """Un directorio de curso nuevo con la configuración y la fuente de un cuaderno."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(SOLUTIONS / assignment, root / "solutions" / assignment)
    return root


@dataclass(frozen=True)
class Mistake:
    """Un error frecuente sembrado en una respuesta correcta."""

    name: str  # identificador del alumno simulado
    grade_id: str  # celda de respuesta que se estropea
    old: str  # fragmento de la solución...
    new: str  # ...y lo que se escribe en su lugar
    hint: str  # texto de la pista en español que debe ver el alumno

    def answers(self, assignment: str) -> dict[str, str]:
        answers = answer_sources(assignment)
        source = answers[self.grade_id]
        if self.old not in source:
            raise AssertionError(f"El error sembrado {self.name} no encuentra {self.old!r} en {self.grade_id}.")
        answers[self.grade_id] = source.replace(self.old, self.new)
        return answers


def mistakes_for(assignment: str) -> list[Mistake]:
    """Errores sembrados de un cuaderno: ``tests/errores_frecuentes/c<id>.py`` define ``MISTAKES``."""
    name = f"tests.errores_frecuentes.c{assignment}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return []
    return list(module.MISTAKES)


MISTAKES: dict[str, list[Mistake]] = {a: mistakes_for(a) for a in ASSIGNMENTS}
