"""``make autograde``: corrige con ``nbgrader autograde`` y no deja a nadie sin nota por accidente.

``nbgrader autograde`` sigue adelante cuando no puede corregir una entrega (el núcleo no arrancó, un
cuaderno ilegible…): lo anota en inglés entre cientos de líneas y esa entrega se queda sin nota.
Esta orden, para cada cuaderno:

1. corrige las entregas de ``submitted/`` (todas, o las de ``--alumno``) con ``nbgrader autograde
   --force``: un solo proceso, o con ``--trabajos N`` los alumnos repartidos en lotes entre N procesos
   a la vez sobre el mismo curso y la misma ``gradebook.db`` (:mod:`course_grading.parallel` dice por qué
   así no se pierde ninguna nota);
2. mira, lote a lote, quién se quedó sin nota: sin cuaderno en ``autograded/`` o sin entrega en
   ``gradebook.db``, y por qué (la última línea de la traza que el nbgrader de su lote dejó para esa entrega);
3. a quien se quedó sin nota porque su núcleo no llegó a arrancar (una máquina cargada un momento),
   sea del lote que sea, lo vuelve a corregir tras ``--pausa`` segundos (también en paralelo);
4. escribe un resumen en español que nombra a cada alumno que sigue sin nota, con el motivo, y sale
   con estado 1 si queda alguno.

Todo lo que escribe nbgrader (y el resumen) se guarda además en ``registros/autograde-<fecha>.log``,
en la carpeta del curso: uno por ejecución, nunca se sobrescribe. Con varios procesos a la vez, cada
línea lleva delante el lote del que sale (``[lote 2/5] ``).

``python -m course_grading.autograde 06_transformer --alumno ana --pausa 15 --trabajos auto``

:func:`grade_students` corrige una lista de alumnos con un proceso de nbgrader: la unidad que se
reparte entre los procesos.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from course_grading import parallel
from course_grading.parallel import Pass
from course_lib.cli import SpanishArgumentParser

LOG_DIR = "registros"
PAUSE_S = 15.0
# Motivos por los que una entrega se queda sin nota sin culpa de su código: se vuelve a corregir.
# El primero es el de ``course_grading.preprocessors.KernelStartupError`` (no se importa de ahí para
# no cargar ``nbconvert`` en este proceso); los demás, los de ``jupyter_client`` y ``sqlite3`` en inglés.
RETRYABLE = re.compile(
    r"el núcleo de corrección no arrancó|"
    r"Kernel\sdied\sbefore\sreplying|kernel_info|didn't\srespond|database\sis\slocked",
    re.IGNORECASE,
)
# La línea con la que nbgrader empieza la traza de una entrega que no pudo corregir.
_FAILED = re.compile(r"There\swas\san\serror\sprocessing\sassignment:\s(?P<path>.+?)\s*$")
_TRACE_PREFIX = re.compile(r"^\S*KernelStartupError: ")
NO_REASON = "nbgrader no la corrigió y no dejó el motivo en el registro"


@dataclass
class Outcome:
    """Cómo acabó un cuaderno: quién tiene nota y quién no (con el motivo)."""

    assignment: str
    students: list[str]
    missing: dict[str, str] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)

    @property
    def graded(self) -> list[str]:
        return [s for s in self.students if s not in self.missing]


def submitted_students(course: Path, assignment: str, patterns: Sequence[str] = ()) -> list[str]:
    """Alumnos con entrega de ``assignment`` en ``submitted/`` (los que casen con ``patterns``, si hay)."""
    found = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if patterns:
        found = [s for s in found if any(fnmatch.fnmatchcase(s, p) for p in patterns)]
    return found


def grade_students(
    course: Path, assignment: str, students: Sequence[str], log: TextIO, echo: TextIO | None = None
) -> Pass:
    """Corrige ``students`` de ``assignment`` con un solo ``nbgrader autograde --force``.

    Lo que escribe nbgrader va a ``log`` y a ``echo`` (la terminal, por defecto) línea a línea.
    """
    echo = sys.stdout if echo is None else echo
    everyone = submitted_students(course, assignment)
    command = parallel.nbgrader_command(course, "autograde", assignment, students, everyone)
    return parallel.stream(command, course, (echo, log))


def _in_gradebook(course: Path, assignment: str) -> set[str] | None:
    """Alumnos con entrega de ``assignment`` en ``gradebook.db`` (``None`` si no hay base de notas que leer).

    Lee las tablas de nbgrader con ``sqlalchemy``: ``nbgrader.api`` tarda unos 2,5 s en importarse y su
    ``Gradebook`` llama a ``alembic`` antes de abrir la base.
    """
    db = course / "gradebook.db"
    if not db.exists():
        return None
    from sqlalchemy import MetaData, Table, create_engine, exc, select

    # Otros procesos pueden estar escribiendo sus notas: se espera a que suelten la base, como ellos.
    engine = create_engine(f"sqlite:///{db}", connect_args={"timeout": parallel.DB_TIMEOUT_S})
    try:
        tables = MetaData()
        submitted = Table("submitted_assignment", tables, autoload_with=engine)
        assignments = Table("assignment", tables, autoload_with=engine)
        query = (
            select(submitted.c.student_id)
            .join(assignments, assignments.c.id == submitted.c.assignment_id)
            .where(assignments.c.name == assignment)
        )
        with engine.connect() as connection:
            return set(connection.scalars(query))
    except exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def ungraded(course: Path, assignment: str, students: Sequence[str]) -> list[str]:
    """Quién de ``students`` no tiene nota de ``assignment``.

    Tiene nota quien tiene sus cuadernos en ``autograded/`` (nbgrader los borra si la corrección
    falla, también al repetirla con ``--force``) y su entrega en ``gradebook.db``.
    """
    in_db = _in_gradebook(course, assignment)
    missing = []
    for student in students:
        notebooks = [p.name for p in (course / "submitted" / student / assignment).glob("*.ipynb")]
        done = course / "autograded" / student / assignment
        if not notebooks or not all((done / name).exists() for name in notebooks):
            missing.append(student)
        elif in_db is not None and student not in in_db:
            missing.append(student)
    return missing


def reasons(output: str, assignment: str) -> dict[str, str]:
    """``{alumno: motivo}`` de las entregas que nbgrader no pudo corregir, leído de su registro.

    El motivo es la última línea de la traza que nbgrader escribe tras la línea
    ``There was an error processing assignment: …/submitted/<alumno>/<cuaderno>``.
    """
    found: dict[str, str] = {}
    lines = output.splitlines()
    for number, line in enumerate(lines):
        match = _FAILED.search(line)
        if not match:
            continue
        parts = Path(match["path"]).parts
        if len(parts) < 2 or parts[-1] != assignment:
            continue
        trace = []
        for following in lines[number + 1 :]:
            if following.startswith("[") and trace:
                break
            trace.append(following)
        last = next((t.strip() for t in reversed(trace) if t.strip() and not t.startswith("[")), "")
        found[parts[-2]] = _TRACE_PREFIX.sub("", last) or NO_REASON
    return found


def _grade_batch(course: Path, assignment: str, batch: list[str], log: TextIO, echo: TextIO) -> dict[str, str | None]:
    """Un lote con un proceso de nbgrader: ``{alumno: motivo}`` de quien se quedó sin nota (``None``: sin motivo)."""
    result = grade_students(course, assignment, batch, log, echo)
    why = reasons(result.output, assignment)
    return {student: why.get(student) for student in ungraded(course, assignment, batch)}


def _grade_batches(
    course: Path, assignment: str, students: Sequence[str], log: TextIO, jobs: int
) -> dict[str, str | None]:
    """``students`` en lotes, hasta ``jobs`` procesos a la vez: quién se quedó sin nota en cualquiera de ellos."""
    missing: dict[str, str | None] = {}

    def work(batch: list[str], out: TextIO, echo: TextIO) -> dict[str, str | None]:
        return _grade_batch(course, assignment, batch, out, echo)

    for found in parallel.run_batches(work, parallel.batches(students, jobs), jobs, log):
        missing.update(found)
    return missing


def grade(
    course: Path, assignment: str, students: Sequence[str], log: TextIO, pause: float = PAUSE_S, jobs: int = 1
) -> Outcome:
    """Corrige ``students`` con ``jobs`` procesos a la vez; tras ``pause`` segundos, otra vez a quien se quedó
    sin nota porque el núcleo no arrancó."""
    outcome = Outcome(assignment, list(students))
    first = _grade_batches(course, assignment, students, log, jobs)
    outcome.missing = {s: reason or NO_REASON for s, reason in first.items()}
    outcome.retried = [s for s, reason in outcome.missing.items() if RETRYABLE.search(reason)]
    if outcome.retried:
        note = (
            f"\n{len(outcome.retried)} sin nota porque el núcleo no arrancó ({', '.join(outcome.retried)}): "
            f"los vuelvo a corregir dentro de {pause:g} s…\n"
        )
        for stream in (sys.stdout, log):
            stream.write(note)
            stream.flush()
        time.sleep(pause)
        still = _grade_batches(course, assignment, outcome.retried, log, jobs)
        for student in outcome.retried:
            if student in still:
                outcome.missing[student] = still[student] or outcome.missing[student]
            else:
                del outcome.missing[student]
    return outcome


def summary(outcomes: Sequence[Outcome], log_path: Path, pause: float) -> str:
    """El resumen en español: cuántos tienen nota y, uno por uno, quién no y por qué."""
    lines = ["", "Resumen de la corrección:"]
    for o in outcomes:
        lines.append(f"  {o.assignment}: {len(o.graded)} de {len(o.students)} entregas con nota.")
        for student, reason in sorted(o.missing.items()):
            again = f" (también al repetirla tras {pause:g} s)" if student in o.retried else ""
            lines.append(f"    SIN NOTA {student}: {reason}{again}")
    missing = [(o.assignment, s) for o in outcomes for s in sorted(o.missing)]
    if missing:
        others = " Las demás tienen nota." if any(o.graded for o in outcomes) else ""
        lines.append(
            f"ATENCIÓN: {len(missing)} {'entrega se quedó' if len(missing) == 1 else 'entregas se quedaron'} "
            f"sin nota (arriba, cada una con su motivo).{others}"
        )
        lines.append("  Para volver a corregir cada una cuando se arregle su motivo:")
        lines += [f"    make autograde CUADERNO={assignment} ALUMNO={student}" for assignment, student in missing]
    else:
        lines.append(
            "Todas las entregas tienen nota: cuadernos corregidos en autograded/ y notas en gradebook.db. "
            "Siguiente paso: make feedback"
        )
    lines.append(f"Registro completo: {log_path}")
    return "\n".join(lines) + "\n"


def new_log(course: Path) -> Path:
    """``registros/autograde-<fecha>.log``, sin pisar el de otra ejecución."""
    folder = course / LOG_DIR
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    path = folder / f"autograde-{stamp}.log"
    number = 2
    while path.exists():
        path = folder / f"autograde-{stamp}-{number}.log"
        number += 1
    return path


def parser() -> argparse.ArgumentParser:
    """La línea de órdenes, con la ayuda en español."""
    p = SpanishArgumentParser(
        prog="python -m course_grading.autograde",
        description=(
            "Corrige con nbgrader autograde las entregas de submitted/, vuelve a corregir tras una pausa "
            "a quien se quedó sin nota porque el núcleo no arrancó y nombra, con el motivo, a quien sigue "
            f"sin nota. Guarda el registro en {LOG_DIR}/autograde-<fecha>.log. Se ejecuta desde la raíz del curso."
        ),
        epilog="Sale con estado 1 si alguna entrega se queda sin nota. Lo habitual es usarlo con make autograde.",
    )
    p.add_argument("cuadernos", nargs="+", metavar="CUADERNO", help="cuadernos que se corrigen, p. ej. 06_transformer")
    p.add_argument(
        "--alumno",
        action="append",
        default=[],
        metavar="ID",
        help="corrige solo a este alumno (se puede repetir; admite comodines como ana*)",
    )
    p.add_argument(
        "--trabajos",
        type=parallel.parse_jobs,
        default=1,
        metavar="N",
        help=(
            "entregas que se corrigen a la vez, cada una en su núcleo (un proceso de nbgrader por lote de "
            f"alumnos); {parallel.AUTO}: tantas como núcleos tiene la máquina (aquí, {parallel.machine_jobs()}). "
            "Nunca más que entregas. Por defecto, 1"
        ),
    )
    p.add_argument(
        "--pausa",
        type=float,
        default=PAUSE_S,
        metavar="S",
        help=(
            "segundos antes de repetir a quien se quedó sin nota porque su núcleo no arrancó "
            f"(por defecto, {PAUSE_S:g})"
        ),
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.autograde CUADERNO…``: corrige, repite, resume. Devuelve el estado de salida."""
    args = parser().parse_args(argv)
    course = Path.cwd()
    log_path = new_log(course)
    outcomes = []
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# make autograde, {dt.datetime.now().isoformat(timespec='seconds')}: {' '.join(sys.argv)}\n")
        for assignment in args.cuadernos:
            students = submitted_students(course, assignment, args.alumno)
            if not students:
                whose = f" de {', '.join(args.alumno)}" if args.alumno else ""
                message = f"No hay entregas de {assignment}{whose} en submitted/."
                print(message, flush=True)
                log.write(message + "\n")
                continue
            jobs = parallel.jobs_for(args.trabajos, len(students))
            who = f"solo {', '.join(students)}" if args.alumno else f"{len(students)} entregas"
            at_once = f", {jobs} a la vez" if jobs > 1 else ""
            print(f"Corrigiendo {assignment} ({who}{at_once})…", flush=True)
            log.write(f"\n## {assignment}: {', '.join(students)}\n")
            outcomes.append(grade(course, assignment, students, log, args.pausa, jobs))
        text = summary(outcomes, log_path.relative_to(course), args.pausa)
        log.write(text)
    print(text, end="", flush=True)
    return 1 if any(o.missing for o in outcomes) or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
