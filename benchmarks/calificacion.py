"""Rendimiento de la corrección: una clase simulada corregida con nbgrader y las defensas del curso.

Cada alumno entrega TODOS los cuadernos; según su número es de un tipo:

- ``bien``: las soluciones;
- ``en_blanco``: la versión del alumnado sin tocar;
- ``errores``: las soluciones con el primer error frecuente de cada ejercicio (tests/errores_frecuentes);
- ``hostil``: respuestas en blanco con una trampa de tests/hostiles.py en la primera respuesta
  (parchear ``checks``, un transformador de entrada, un gancho de eventos, leer las soluciones
  o matar el núcleo), rotando entre alumnos.

Se corrige con ``nbgrader autograde`` de verdad, un proceso por cuaderno y ``--procesos`` a la vez
(cada proceso escribe en la misma base de notas SQLite). Imprime el tiempo total, los segundos
por cuaderno y por entrega completa (todos los cuadernos de un alumno), las notas máximas
indebidas (alumnos no ``bien`` con la nota máxima en algún cuaderno; objetivo 0) y las
correcciones caídas (cuadernos sin nota; objetivo 0).

    python benchmarks/calificacion.py --alumnos 30 --procesos 2
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostiles  # noqa: E402
from tests.cuadernos import (  # noqa: E402
    ALL_ASSIGNMENTS,
    MISTAKES,
    answer_sources,
    filled_release,
    grade_cells,
    read,
    release_path,
    tool_env,
)

KINDS = ("bien", "en_blanco", "errores", "hostil", "bien")
CHEATS = [
    hostiles.PATCH_CHECKS,
    hostiles.INPUT_TRANSFORMER,
    hostiles.EVENT_HOOK,
    hostiles.READ_SOLUTIONS,
    hostiles.KILL_KERNEL,
]


def submission(kind: str, number: int, assignment: str) -> nbformat.NotebookNode:
    """El cuaderno que entrega un alumno de tipo ``kind``."""
    if kind == "bien":
        return filled_release(assignment)
    if kind == "en_blanco":
        return read(release_path(assignment))
    if kind == "errores":
        answers = answer_sources(assignment)
        seen = set()
        for mistake in MISTAKES.get(assignment, []):
            if mistake.grade_id not in seen:
                seen.add(mistake.grade_id)
                answers[mistake.grade_id] = mistake.answers(assignment)[mistake.grade_id]
        return filled_release(assignment, answers)
    nb = read(release_path(assignment))
    first = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    first.source = CHEATS[number % len(CHEATS)] + "\n" + first.source
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description="Mide cuánto tarda corregir una clase simulada con nbgrader.")
    parser.add_argument("--alumnos", type=int, default=30, help="alumnos de la clase (por defecto, 30)")
    parser.add_argument("--procesos", type=int, default=2, help="cuadernos que se corrigen a la vez (por defecto, 2)")
    parser.add_argument("--cuadernos", default=",".join(ALL_ASSIGNMENTS), help="ids separados por comas")
    args = parser.parse_args()
    assignments = [a for a in args.cuadernos.split(",") if a]
    course = Path(tempfile.mkdtemp(prefix="curso-rendimiento-"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    env = tool_env()

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run([*nbgrader, *command], cwd=course, env=env, capture_output=True, text=True)

    print(f"Preparando el curso en {course} …", flush=True)
    for assignment in assignments:
        run("generate_assignment", assignment, "--force")
    students = {f"alumno{n:03d}_{KINDS[n % len(KINDS)]}": (KINDS[n % len(KINDS)], n) for n in range(args.alumnos)}
    for student, (kind, number) in students.items():
        for assignment in assignments:
            path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(kind, number, assignment), path)

    print(f"Corrigiendo {len(students)} alumnos × {len(assignments)} cuadernos con {args.procesos} procesos …")
    start = time.perf_counter()
    seconds: dict[str, float] = {}

    def grade(assignment: str) -> subprocess.CompletedProcess:
        t0 = time.perf_counter()
        result = run("autograde", assignment, "--force")
        seconds[assignment] = time.perf_counter() - t0
        return result

    with ThreadPoolExecutor(max_workers=args.procesos) as pool:
        logs = dict(zip(assignments, pool.map(grade, assignments), strict=True))
    wall = time.perf_counter() - start
    run("export")
    with open(course / "grades.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] in assignments]
    graded = {(r["student_id"], r["assignment"]): r for r in rows}
    missing = [(s, a) for s in students for a in assignments if not (course / "autograded" / s / a).exists()]
    undeserved = [
        (s, a)
        for (s, a), r in graded.items()
        if students[s][0] != "bien" and float(r["score"]) >= sum(grade_cells(a).values())
    ]
    wrong_correct = [
        (s, a)
        for (s, a), r in graded.items()
        if students[s][0] == "bien" and float(r["score"]) < sum(grade_cells(a).values())
    ]
    locked = sum("database is locked" in (log.stdout + log.stderr) for log in logs.values())

    notebooks = len(students) * len(assignments)
    machine = platform.processor() or platform.machine()
    print(f"\nMáquina: {machine}, {os.cpu_count()} núcleos; Python {sys.version.split()[0]}")
    print(f"Tiempo total de autograde: {wall:.0f} s para {notebooks} cuadernos ({len(students)} alumnos)")
    print(f"  {wall / notebooks:.1f} s por cuaderno corregido; {wall / len(students):.1f} s por entrega completa")
    for assignment in assignments:
        print(f"  {assignment}: {seconds[assignment]:.0f} s ({seconds[assignment] / len(students):.1f} s por alumno)")
    print(f"Notas máximas indebidas: {len(undeserved)} {undeserved[:5]}")
    print(f"Soluciones correctas sin la nota máxima: {len(wrong_correct)} {wrong_correct[:5]}")
    print(f"Cuadernos sin corregir (corrección caída): {len(missing)} {missing[:5]}")
    print(f"Procesos con «database is locked»: {locked}")
    for student, assignment in missing[:3]:  # por qué: las líneas del registro de nbgrader que lo nombran
        lines = (logs[assignment].stdout + logs[assignment].stderr).splitlines()
        named = [i for i, line in enumerate(lines) if student in line]
        start_line = named[0] if named else max(len(lines) - 20, 0)
        print(f"\nRegistro de {assignment} para {student}:\n" + "\n".join(lines[start_line : start_line + 40]))


if __name__ == "__main__":
    main()
