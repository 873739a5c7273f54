"""La lista de clase: quiénes son los alumnos y cómo los llama el LMS (``make alumnos LISTA=clase.csv``).

Un CSV con una fila por alumno y, en la primera, los nombres de las columnas::

    id,nombre,apellidos,email,id_lms
    ana_garcia,Ana,García López,ana@uni.es,48213

- ``id`` (obligatoria): el identificador del alumno en nbgrader (carpetas de ``submitted/``…).
- ``nombre``, ``apellidos``, ``email``: para las exportaciones y para reconocer en Moodle al alumno
  por su nombre (Moodle no pone en la descarga nada fijo de un alumno salvo su nombre).
- ``id_lms``: el identificador del alumno en el LMS: en Canvas, el id de usuario (columna «ID» de
  la exportación del libro de calificaciones); en Moodle, el que uses para importar las notas
  (el correo, el número de ID o el id de usuario). Las exportaciones por alumno van por él.

Se aceptan también los encabezados en inglés (``first name``, ``last name``, ``email address``,
``lms id``…) y el punto y coma como separador (el de Excel en español). Los alumnos se guardan en
``gradebook.db`` (tabla de alumnos de nbgrader, con su campo ``lms_user_id``).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from course_lib.cli import SpanishArgumentParser

from .presets import plain

# Columna → encabezados que se aceptan (sin tildes ni mayúsculas y con ``_`` en lugar de espacios).
COLUMNS = {
    "id": ("id", "id_alumno", "student_id"),
    "first_name": ("nombre", "first_name", "firstname", "nombre_de_pila"),
    "last_name": ("apellidos", "apellido", "last_name", "lastname", "surname"),
    "email": ("email", "correo", "correo_electronico", "direccion_de_correo", "email_address", "e-mail"),
    "lms_id": ("id_lms", "lms_id", "lms_user_id", "id_de_usuario"),
}


class RosterError(ValueError):
    """Un problema con la lista de clase, explicado en español."""


@dataclass(frozen=True)
class Student:
    """Un alumno de la lista de clase."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_id: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def read_class_list(path: Path) -> list[Student]:
    """Lee la lista de clase de ``path`` y la comprueba (ids válidos y sin repetir)."""
    from .lms import VALID_STUDENT_ID  # aquí: lms importa este módulo

    path = Path(path)
    if not path.is_file():
        raise RosterError(f"No existe la lista de clase {path}.")
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(text.splitlines(), dialect))
    if not rows:
        raise RosterError(f"{path.name} está vacío: la primera fila debe ser id,nombre,apellidos,email,id_lms.")
    header = ["_".join(plain(cell).split()) for cell in rows[0]]
    where = {}
    for field, names in COLUMNS.items():
        found = [i for i, cell in enumerate(header) if cell in names]
        if found:
            where[field] = found[0]
    if "id" not in where:
        raise RosterError(
            f"{path.name}: falta la columna «id» en la primera fila (encontré: {', '.join(rows[0])}). "
            "Columnas: id,nombre,apellidos,email,id_lms."
        )
    students, seen, seen_lms = [], {}, {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {field: (row[i].strip() if i < len(row) else "") for field, i in where.items()}
        student = Student(**values)
        if not VALID_STUDENT_ID.match(student.id):
            raise RosterError(
                f"{path.name}, fila {number}: el id «{student.id}» no vale (solo letras, números y . _ - @ +, "
                "sin espacios: acaba siendo el nombre de una carpeta)."
            )
        if student.id in seen:
            raise RosterError(f"{path.name}: el id «{student.id}» está en las filas {seen[student.id]} y {number}.")
        if student.lms_id and student.lms_id in seen_lms:
            raise RosterError(
                f"{path.name}: el id_lms «{student.lms_id}» está en las filas {seen_lms[student.lms_id]} y {number}."
            )
        seen[student.id] = number
        if student.lms_id:
            seen_lms[student.lms_id] = number
        students.append(student)
    return students


def database_url(course: Path) -> str:
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def import_students(students: Sequence[Student], course: Path) -> tuple[int, int]:
    """Crea o actualiza los alumnos en ``gradebook.db``; devuelve ``(nuevos, actualizados)``."""
    from nbgrader.api import Gradebook

    with Gradebook(database_url(course)) as gradebook:
        known = {s.id for s in gradebook.students}
        for s in students:
            gradebook.update_or_create_student(
                s.id, first_name=s.first_name, last_name=s.last_name, email=s.email, lms_user_id=s.lms_id or None
            )
    new = sum(s.id not in known for s in students)
    return new, len(students) - new


def load_roster(course: Path) -> list[Student]:
    """Los alumnos de ``gradebook.db`` (vacía si aún no existe: no la crea)."""
    db = Path(course) / "gradebook.db"
    if not db.exists():
        return []
    from nbgrader.api import Gradebook

    with Gradebook(database_url(course)) as gradebook:
        return [
            Student(s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or "")
            for s in gradebook.students
        ]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.roster clase.csv``: importa la lista de clase a ``gradebook.db``."""
    parser = SpanishArgumentParser(
        prog="python -m course_grading.roster",
        description="Importa la lista de clase (CSV: id,nombre,apellidos,email,id_lms) a gradebook.db.",
        epilog="Lo habitual es usarlo con make alumnos LISTA=clase.csv, desde la raíz del curso.",
    )
    parser.add_argument("lista", type=Path, help="CSV con una fila por alumno")
    args = parser.parse_args(argv)
    try:
        students = read_class_list(args.lista)
    except RosterError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    new, updated = import_students(students, Path.cwd())
    without_lms = [s.id for s in students if not s.lms_id]
    print(f"Lista de clase: {new} alumnos nuevos y {updated} actualizados en gradebook.db.")
    if without_lms:
        print(f"Sin id_lms ({len(without_lms)}): {', '.join(without_lms)}; la exportación por alumno los deja sin él.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
