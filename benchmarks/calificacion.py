"""Rendimiento de la corrección: una clase simulada corregida con nbgrader y las defensas del curso.

Cada alumno entrega TODOS los cuadernos; según su número es de un tipo:

- ``bien``: las soluciones;
- ``en_blanco``: la versión del alumnado sin tocar;
- ``errores``: las soluciones con el primer error frecuente de cada ejercicio (tests/errores_frecuentes);
- ``hostil``: respuestas en blanco con una trampa de tests/hostiles.py en la primera respuesta
  (parchear ``checks``, un transformador de entrada, un gancho de eventos, leer las soluciones
  o matar el núcleo), rotando entre alumnos.

Se corrige como ``make autograde``: ``course_grading.autograde.grade``, un cuaderno tras otro, con los
alumnos repartidos entre ``N`` procesos de ``nbgrader autograde`` a la vez sobre la misma base de notas
SQLite (``course_grading.parallel``). ``--trabajos 1,2`` corrige la misma clase en un curso para cada
``N``, en la misma ejecución, alternando el orden en cada cuaderno (para que una carga que cambie afecte
a los dos por igual). Imprime, para cada ``N``: el tiempo total, los segundos por cuaderno y por entrega
completa (todos los cuadernos de un alumno), las notas máximas indebidas (alumnos no ``bien`` con la nota
máxima en algún cuaderno; objetivo 0) y las correcciones caídas (cuadernos sin nota; objetivo 0); además,
si las notas son las mismas con cada ``N`` (objetivo: ninguna distinta) y una estimación, no medida, de lo
que tardarían 300 alumnos × 9 cuadernos con 8 y 16 núcleos.

    python benchmarks/calificacion.py --alumnos 30 --trabajos 1,2
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_grading import autograde, parallel  # noqa: E402
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


def cpu_model() -> str:
    """El modelo de la CPU, como lo dice ``lscpu`` (o lo que sepa ``platform``)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}).stdout
    except OSError:
        text = ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model name")), "")
    return model or platform.processor() or platform.machine()


def jobs_list(text: str) -> list[int]:
    """``--trabajos 1,2``: los números de procesos que se comparan."""
    return [parallel.parse_jobs(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description="Mide cuánto tarda corregir una clase simulada con nbgrader.")
    parser.add_argument("--alumnos", type=int, default=30, help="alumnos de la clase (por defecto, 30)")
    parser.add_argument(
        "--trabajos",
        type=jobs_list,
        default=[1, 2],
        help="procesos de nbgrader a la vez que se comparan, separados por comas (por defecto, 1,2; auto = núcleos)",
    )
    parser.add_argument("--cuadernos", default=",".join(ALL_ASSIGNMENTS), help="ids separados por comas")
    args = parser.parse_args()
    assignments = [a for a in args.cuadernos.split(",") if a]
    os.environ.update(tool_env())  # los procesos de nbgrader que lanza autograde heredan este entorno
    base = Path(tempfile.mkdtemp(prefix="curso-rendimiento-"))
    course = base / "preparado"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]

    def run(where: Path, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run([*nbgrader, *command], cwd=where, capture_output=True, text=True)

    print(f"Preparando el curso en {course} …", flush=True)
    for assignment in assignments:
        run(course, "generate_assignment", assignment, "--force")
    students = {f"alumno{n:03d}_{KINDS[n % len(KINDS)]}": (KINDS[n % len(KINDS)], n) for n in range(args.alumnos)}
    for student, (kind, number) in students.items():
        for assignment in assignments:
            path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(kind, number, assignment), path)
    # Un curso por número de procesos, todos copia del preparado: la misma clase y la misma base de partida.
    courses = {jobs: shutil.copytree(course, base / f"trabajos-{jobs}", symlinks=True) for jobs in args.trabajos}
    names = sorted(students)
    seconds: dict[int, dict[str, float]] = {jobs: {} for jobs in args.trabajos}
    outcomes: dict[int, list[autograde.Outcome]] = {jobs: [] for jobs in args.trabajos}
    load_before = os.getloadavg()
    started = dt.datetime.now()
    print(
        f"Corrigiendo {len(students)} alumnos × {len(assignments)} cuadernos con "
        f"{' y '.join(map(str, args.trabajos))} procesos (carga media al empezar: {load_before[0]:.2f}) …",
        flush=True,
    )
    for number, assignment in enumerate(assignments):
        order = args.trabajos if number % 2 == 0 else list(reversed(args.trabajos))
        for jobs in order:
            where = courses[jobs]
            log_path = where / f"autograde-{assignment}.log"
            with open(log_path, "w", encoding="utf-8") as log, open(os.devnull, "w") as quiet:
                t0 = time.perf_counter()
                with contextlib.redirect_stdout(quiet):  # la salida de nbgrader va solo al registro
                    outcome = autograde.grade(where, assignment, names, log, jobs=parallel.jobs_for(jobs, len(names)))
                seconds[jobs][assignment] = time.perf_counter() - t0
            outcomes[jobs].append(outcome)
            print(f"  {assignment}, {jobs} a la vez: {seconds[jobs][assignment]:.0f} s", flush=True)
    load_after = os.getloadavg()

    notebooks = len(students) * len(assignments)
    full = {a: sum(grade_cells(a).values()) for a in assignments}
    python = sys.version.split()[0]
    print(f"\nFecha: {started:%Y-%m-%d %H:%M}; máquina: {cpu_model()}, {os.cpu_count()} núcleos; Python {python}")
    print(f"Carga media (1 min) al empezar {load_before[0]:.2f} y al acabar {load_after[0]:.2f}")
    per_notebook: dict[int, float] = {}
    scores: dict[int, dict[tuple[str, str], str]] = {}
    for jobs in args.trabajos:
        where = courses[jobs]
        run(where, "export")
        with open(where / "grades.csv", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["assignment"] in assignments]
        graded = {(r["student_id"], r["assignment"]): r for r in rows}
        scores[jobs] = {key: r["score"] for key, r in graded.items()}
        missing = [(s, a) for s in students for a in assignments if not (where / "autograded" / s / a).exists()]
        undeserved = [
            (s, a) for (s, a), r in graded.items() if students[s][0] != "bien" and float(r["score"]) >= full[a]
        ]
        wrong_correct = [
            (s, a) for (s, a), r in graded.items() if students[s][0] == "bien" and float(r["score"]) < full[a]
        ]
        logs = {a: (where / f"autograde-{a}.log").read_text(encoding="utf-8") for a in assignments}
        locked = sum("database is locked" in text for text in logs.values())
        wall = sum(seconds[jobs].values())
        per_notebook[jobs] = wall / notebooks
        print(f"\n== {jobs} {'proceso' if jobs == 1 else 'procesos'} a la vez")
        print(f"Tiempo total de autograde: {wall:.0f} s para {notebooks} cuadernos ({len(students)} alumnos)")
        print(f"  {wall / notebooks:.2f} s por cuaderno corregido; {wall / len(students):.1f} s por entrega completa")
        for assignment in assignments:
            taken = seconds[jobs][assignment]
            print(f"  {assignment}: {taken:.0f} s ({taken / len(students):.1f} s por alumno)")
        print(f"Notas máximas indebidas: {len(undeserved)} {undeserved[:5]}")
        print(f"Soluciones correctas sin la nota máxima: {len(wrong_correct)} {wrong_correct[:5]}")
        print(f"Cuadernos sin corregir (corrección caída): {len(missing)} {missing[:5]}")
        print(f"Cuadernos con «database is locked» en el registro: {locked}")
        retried = [(s, o.assignment) for o in outcomes[jobs] for s in o.retried]
        print(f"Repetidos porque el núcleo no arrancó: {len(retried)} {retried[:5]}")
        for student, assignment in missing[:3]:  # por qué: las líneas del registro de nbgrader que lo nombran
            lines = logs[assignment].splitlines()
            named = [i for i, line in enumerate(lines) if student in line]
            first = named[0] if named else max(len(lines) - 20, 0)
            print(f"\nRegistro de {assignment} para {student}:\n" + "\n".join(lines[first : first + 40]))

    reference = args.trabajos[0]
    for jobs in args.trabajos[1:]:
        differ = sorted(
            k for k in scores[reference].keys() | scores[jobs].keys() if scores[reference].get(k) != scores[jobs].get(k)
        )
        print(f"\nNotas distintas entre {reference} y {jobs} procesos: {len(differ)} {differ[:5]}")
        print(f"Aceleración con {jobs} procesos: {per_notebook[reference] / per_notebook[jobs]:.2f}×")
    # Estimación, no medida: con un proceso por núcleo y cada proceso tan rápido como aquí con tantos
    # procesos como núcleos, el tiempo de núcleo por cuaderno se reparte entre los núcleos.
    most = max(args.trabajos)
    if most == os.cpu_count():
        core_seconds = per_notebook[most] * most
        total = 300 * 9
        print(f"\nEstimación (no medida) para 300 alumnos × 9 cuadernos = {total} cuadernos:")
        print(f"  un solo proceso, como aquí: {total * per_notebook[min(args.trabajos)] / 3600:.1f} h")
        for cores in (8, 16):
            print(f"  {cores} núcleos, {cores} procesos: {total * core_seconds / cores / 3600:.2f} h")
    print(f"\nCursos corregidos en {base}")


if __name__ == "__main__":
    main()
