"""Muchos alumnos a la vez: las entregas de un cuaderno repartidas entre varios procesos de nbgrader.

nbgrader corrige y comenta las entregas una tras otra, en un solo proceso: de 6 a 11 s por cuaderno en
la máquina de 2 núcleos del proyecto, así que una clase de 300 alumnos con 9 cuadernos es de 4 a 8
horas. Aquí los alumnos de un cuaderno se parten en lotes (:func:`batches`) y se lanzan hasta
``trabajos`` procesos de nbgrader a la vez (:func:`run_batches`; ``make autograde JOBS=N``, ``make
feedback JOBS=N``), todos sobre el mismo curso. Cada entrega se sigue ejecutando en su propio núcleo
aislado, y cada proceso solo escribe ``autograded/<alumno>/`` (o ``feedback/<alumno>/``) de sus alumnos.

Las notas van todas a la misma ``gradebook.db``, sin copias del curso que luego haya que fundir (una
copia del curso fuera de él tampoco quedaría tapada por el aislamiento del núcleo). ``sqlite`` deja escribir
a un proceso cada vez y hace esperar a los demás; nbgrader abre la base solo en pasos cortos (registrar
la entrega, guardar las notas de cada celda), nunca mientras el núcleo ejecuta, y el controlador
``sqlite3`` de Python no abre la transacción hasta la primera escritura, así que nadie sube de lector a
escritor a mitad de una transacción (el caso en que ``sqlite`` falla sin esperar): basta con esperar. La
espera de ``sqlite3`` por defecto es de 5 s; cada proceso espera aquí hasta :data:`DB_TIMEOUT_S`, por si
otro programa deja la base bloqueada un rato (un visor de bases de datos abierto, ``make alumnos``). Lo medido
está en benchmarks/RESULTS.md, sección 5.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

# Segundos que un proceso espera a que otro suelte gradebook.db antes de dar ``database is locked``.
# Las escrituras de nbgrader duran milésimas de segundo; esto cubre a otro programa con la base abierta.
DB_TIMEOUT_S = 120
# Alumnos por proceso de nbgrader como mucho. Cada proceso tarda unos 4 s en arrancar (Python,
# ``nbformat``, la configuración) frente a 5–25 s por entrega; lotes pequeños reparten mejor una entrega
# lenta (una celda que agota su tiempo) entre los procesos, y con 8 el arranque es menos del 10 %.
BATCH_SIZE = 8
AUTO = "auto"

T = TypeVar("T")


@dataclass
class Pass:
    """Una llamada a nbgrader: su estado de salida y lo que escribió."""

    returncode: int
    output: str


def machine_jobs() -> int:
    """Los núcleos de esta máquina: cuántos procesos de nbgrader van a la vez por defecto."""
    return os.cpu_count() or 1


def parse_jobs(text: str) -> int:
    """``--trabajos``: un entero de 1 en adelante, o ``auto`` (tantos como núcleos)."""
    if text.strip().lower() == AUTO:
        return machine_jobs()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"debe ser un número de procesos de 1 en adelante, o {AUTO} (tantos como núcleos); recibí {text!r}"
        )
    return value


def jobs_for(requested: int, students: int) -> int:
    """Procesos que de verdad se lanzan: los pedidos, sin pasar del número de alumnos (al menos 1)."""
    return max(1, min(requested, students))


def batches(students: Sequence[str], jobs: int) -> list[list[str]]:
    """``students`` en lotes para ``jobs`` procesos: uno solo con ``jobs == 1``; si no, de hasta :data:`BATCH_SIZE`.

    Los lotes, en orden y sin repetir ni perder a nadie, miden lo mismo (±1), y son tantos como procesos
    o un múltiplo: cada ronda de lotes ocupa a todos los procesos, en lugar de acabar el cuaderno con uno
    trabajando y los demás esperando (300 alumnos y 16 procesos: 48 lotes de 6 o 7, tres rondas llenas,
    y no 38 de 8, con la tercera ronda a 6 de 16). Con pocos alumnos, cada proceso corrige su parte de un tirón.
    """
    students = list(students)
    if not students:
        return []
    if jobs <= 1:
        return [students]
    rounds = math.ceil(math.ceil(len(students) / BATCH_SIZE) / jobs)
    count = min(len(students), jobs * rounds)
    step, extra = divmod(len(students), count)
    groups, start = [], 0
    for number in range(count):
        end = start + step + (number < extra)
        groups.append(students[start:end])
        start = end
    return groups


def database_url(course: Path) -> str:
    """La ``gradebook.db`` del curso, con la espera de :data:`DB_TIMEOUT_S` s (``CourseDirectory.db_url``)."""
    return f"sqlite:///{(Path(course) / 'gradebook.db').resolve()}?timeout={DB_TIMEOUT_S}"


def nbgrader_command(
    course: Path, subcommand: str, assignment: str, students: Sequence[str], everyone: Sequence[str]
) -> list[str]:
    """``nbgrader <subcommand> <assignment> --force`` para ``students`` (de ``everyone``), con :func:`database_url`."""
    command = [sys.executable, "-m", "nbgrader", subcommand, assignment, "--force"]
    command.append(f"--CourseDirectory.db_url={database_url(course)}")
    if len(students) == 1:
        command += ["--student", students[0]]
    elif set(students) != set(everyone):
        others = [s for s in everyone if s not in set(students)]
        command.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    return command


class Tagged:
    """Un flujo de texto que varios hilos comparten: cada línea entera, con la etiqueta de su lote delante.

    Con varios procesos a la vez, sus líneas se intercalan en la terminal y en el registro; la etiqueta
    (``[lote 2/5] ``) dice de qué proceso es cada una.
    """

    def __init__(self, stream: TextIO, tag: str, lock: threading.Lock) -> None:
        self.stream, self.tag, self.lock = stream, tag, lock

    def write(self, text: str) -> int:
        with self.lock:
            for line in text.splitlines(keepends=True):
                self.stream.write(self.tag + line)
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self.stream.flush()


def stream(command: Sequence[str], cwd: Path, outputs: Sequence[TextIO]) -> Pass:
    """Ejecuta ``command`` en ``cwd`` y copia su salida, línea a línea, a cada uno de ``outputs``."""
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        for output in outputs:
            output.write(line)
            output.flush()
    return Pass(process.wait(), "".join(lines))


def run_batches(
    work: Callable[[list[str], TextIO, TextIO], T], groups: Sequence[list[str]], jobs: int, log: TextIO
) -> list[T]:
    """``work(lote, registro, terminal)`` para cada lote, hasta ``jobs`` a la vez; los resultados, en orden.

    Con un solo lote o un solo proceso, ``work`` escribe en ``log`` y en la terminal tal cual; si no, cada
    lote escribe con su etiqueta (:class:`Tagged`).
    """
    if len(groups) <= 1 or jobs <= 1:
        return [work(group, log, sys.stdout) for group in groups]
    lock = threading.Lock()

    def tagged(number: int, group: list[str]) -> T:
        tag = f"[lote {number}/{len(groups)}] "
        return work(group, Tagged(log, tag, lock), Tagged(sys.stdout, tag, lock))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(tagged, range(1, len(groups) + 1), groups))
