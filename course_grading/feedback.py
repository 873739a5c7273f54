"""``make feedback``: los comentarios de las entregas corregidas, con varios procesos de nbgrader a la vez.

Para cada cuaderno, los alumnos con el cuaderno corregido en ``autograded/`` (todos, o los de
``--alumno``) se reparten en lotes (:mod:`course_grading.parallel`) y cada lote va a un ``nbgrader
generate_feedback --force``, hasta ``--trabajos`` a la vez. Al comentar, nbgrader solo lee
``gradebook.db``, y cada proceso escribe ``feedback/<alumno>/`` de sus alumnos: el resultado es el mismo
que con un solo proceso. Si alguno falla, lo dice y sale con estado 1 sin pasar al cuaderno siguiente.

``python -m course_grading.feedback 06_transformer --alumno ana --trabajos auto``
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from course_grading import parallel
from course_lib.cli import SpanishArgumentParser


def graded_students(course: Path, assignment: str, patterns: Sequence[str] = ()) -> list[str]:
    """Alumnos con ``assignment`` corregido en ``autograded/`` (los que casen con ``patterns``, si hay)."""
    found = sorted(p.parent.name for p in (course / "autograded").glob(f"*/{assignment}") if p.is_dir())
    if patterns:
        found = [s for s in found if any(fnmatch.fnmatchcase(s, p) for p in patterns)]
    return found


def feedback_students(course: Path, assignment: str, students: Sequence[str], echo: TextIO) -> parallel.Pass:
    """Los comentarios de ``students`` con un solo ``nbgrader generate_feedback --force``; su salida, a ``echo``."""
    everyone = graded_students(course, assignment)
    command = parallel.nbgrader_command(course, "generate_feedback", assignment, students, everyone)
    return parallel.stream(command, course, (echo,))


def generate(course: Path, assignment: str, students: Sequence[str], jobs: int) -> list[str]:
    """Comenta a ``students`` con ``jobs`` procesos a la vez; devuelve los alumnos de los lotes que fallaron."""

    def work(batch: list[str], _log: TextIO, echo: TextIO) -> tuple[list[str], int]:
        return batch, feedback_students(course, assignment, batch, echo).returncode

    results = parallel.run_batches(work, parallel.batches(students, jobs), jobs, sys.stdout)
    return [student for batch, returncode in results if returncode != 0 for student in batch]


def parser() -> argparse.ArgumentParser:
    """La línea de órdenes, con la ayuda en español."""
    p = SpanishArgumentParser(
        prog="python -m course_grading.feedback",
        description=(
            "Genera con nbgrader generate_feedback los comentarios de las entregas corregidas (autograded/) "
            "en feedback/<alumno>/<cuaderno>/<cuaderno>.html. Se ejecuta desde la raíz del curso."
        ),
        epilog="Sale con estado 1 si nbgrader falla con algún lote. Lo habitual es usarlo con make feedback.",
    )
    p.add_argument("cuadernos", nargs="+", metavar="CUADERNO", help="cuadernos que se comentan, p. ej. 06_transformer")
    p.add_argument(
        "--alumno",
        action="append",
        default=[],
        metavar="ID",
        help="comenta solo a este alumno (se puede repetir; admite comodines como ana*)",
    )
    p.add_argument(
        "--trabajos",
        type=parallel.parse_jobs,
        default=1,
        metavar="N",
        help=(
            f"procesos de nbgrader a la vez; {parallel.AUTO}: tantos como núcleos tiene la máquina "
            f"(aquí, {parallel.machine_jobs()}). Nunca más que alumnos. Por defecto, 1"
        ),
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.feedback CUADERNO…``: devuelve el estado de salida."""
    args = parser().parse_args(argv)
    course = Path.cwd()
    for assignment in args.cuadernos:
        students = graded_students(course, assignment, args.alumno)
        if not students:
            whose = f" de {', '.join(args.alumno)}" if args.alumno else ""
            print(
                f"No hay cuadernos corregidos de {assignment}{whose} en autograded/: "
                f"corrígelos antes con make autograde CUADERNO={assignment}.",
                flush=True,
            )
            return 1
        jobs = parallel.jobs_for(args.trabajos, len(students))
        notes = [f"solo {', '.join(students)}"] if args.alumno else []
        notes += [f"{jobs} procesos a la vez"] if jobs > 1 else []
        detail = f" ({', '.join(notes)})" if notes else ""
        print(f"Generando los comentarios de {assignment}{detail}…", flush=True)
        failed = generate(course, assignment, students, jobs)
        if failed:
            print(
                f"nbgrader no pudo generar los comentarios de {assignment} para alguno de estos alumnos "
                f"(el motivo, arriba): {', '.join(failed)}",
                flush=True,
            )
            return 1
    print("Comentarios en feedback/<alumno>/<tarea>/<tarea>.html. Siguiente paso: make export", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
