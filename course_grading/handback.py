"""Lo que vuelve al LMS: las notas, una fila por alumno, y los comentarios, en el zip que el LMS sabe repartir.

- :class:`LMSExport` (``make export``): un exportador de ``nbgrader export`` que escribe
  ``para_el_lms/notas_<lms>.csv``: una fila por alumno, una columna por cuaderno y el total,
  con la columna que usa el LMS para saber de quién es cada fila. El CSV largo de nbgrader
  (``grades.csv``, una fila por alumno y cuaderno) sigue saliendo como siempre.

  - ``canvas``: el formato de importación del libro de calificaciones de Canvas: ``Student``,
    ``ID`` (el id de usuario de Canvas), ``SIS User ID``, ``SIS Login ID``, ``Section``, una
    columna por cuaderno y una fila ``Points Possible`` con la nota máxima. El total va en
    ``Final Points``, una columna que Canvas calcula él mismo y no importa.
  - ``moodle``: ``id_lms`` (el de la lista de clase o, si no hay, el correo), correo, nombre,
    apellidos, una columna por cuaderno y ``Total``; en «Importar calificaciones → Archivo CSV»
    se empareja ``id_lms`` con el campo de usuario que sea (correo, número de ID o id).
  - ``convencion``: ``id``, ``nombre``, ``apellidos``, ``email``, ``id_lms``, cuadernos y ``total``.

  Una celda vacía es un cuaderno sin entrega (no un 0: al importar, el LMS la deja como estaba).

- :func:`pack_feedback` (``make devolver``): ``para_el_lms/comentarios_<cuaderno>_<lms>.zip`` con el
  HTML de ``feedback/`` de cada alumno, con los nombres que el LMS reconoce al subirlo:

  - ``moodle``: una carpeta por participante con el nombre de su carpeta de la descarga
    (``Nombre Apellidos_<n>_assignsubmission_file/<cuaderno>_comentarios.html``), lo que espera
    «Subir varios archivos de retroalimentación en un zip» (Moodle lee el participante de ahí);
  - ``canvas``: ``<prefijo de la descarga>_<cuaderno>_comentarios.html`` en la raíz, lo que espera
    «Volver a subir entregas» (Canvas lee el id de usuario y el del archivo de los dos primeros
    números del nombre y lo adjunta como comentario de esa entrega);
  - ``convencion``: ``<alumno>/<cuaderno>.html``, una carpeta por alumno.

  Los prefijos salen de ``downloaded/<cuaderno>/entregas.json``, que escribe ``make recoger``.
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from course_lib.cli import SpanishArgumentParser

from .lms import RECORD_NAME
from .presets import CANVAS, CONVENTION, MOODLE, PRESETS, check_preset

OUT_DIR = "para_el_lms"


@dataclass
class Row:
    """Un alumno con sus notas (``None``: sin entrega)."""

    id: str
    first_name: str
    last_name: str
    email: str
    lms_id: str
    scores: dict[str, float | None]

    @property
    def total(self) -> float:
        return sum(score for score in self.scores.values() if score is not None)


def recorded_students(course: Path) -> dict[str, dict[str, str]]:
    """Lo que dijeron las recogidas (``downloaded/*/entregas.json``) de cada alumno: su nombre y su id de Canvas.

    ``{"alumno": {"nombre": …, "id_lms": …}}``. El id solo de Canvas: su id de usuario es el mismo
    en todas las tareas; el número de participante de Moodle cambia de una tarea a otra y no
    sirve para el libro de calificaciones.
    """
    found: dict[str, dict[str, str]] = {}
    for path in sorted(Path(course).glob(f"downloaded/*/{RECORD_NAME}")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for student, info in record.get("alumnos", {}).items():
            known = found.setdefault(student, {"nombre": "", "id_lms": ""})
            known["nombre"] = known["nombre"] or info.get("nombre", "")
            lms_id = info.get("id_lms", "")
            if record.get("lms") == CANVAS and lms_id and not lms_id.startswith("anon_"):
                known["id_lms"] = known["id_lms"] or lms_id
    return found


def gradebook_rows(
    gradebook: Gradebook, recorded: dict[str, dict[str, str]] | None = None
) -> tuple[dict[str, float], list[Row]]:
    """``(nota máxima de cada cuaderno, filas)`` de ``gradebook``, con alumnos y cuadernos por orden.

    ``recorded`` (:func:`recorded_students`) completa el id del LMS y, si la lista de clase no da
    nombre, pone el que escribió el LMS en la descarga.
    """
    recorded = recorded or {}
    maxima = {a.name: float(a.max_score) for a in sorted(gradebook.assignments, key=lambda a: a.name)}
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        scores: dict[str, float | None] = {}
        for name in maxima:
            try:
                scores[name] = float(gradebook.find_submission(name, student.id).score)
            except MissingEntry:
                scores[name] = None
        seen = recorded.get(student.id, {})
        lms_id = student.lms_user_id or seen.get("id_lms", "")
        first, last = student.first_name or "", student.last_name or ""
        if not (first or last):
            first = seen.get("nombre", "")
        rows.append(Row(student.id, first, last, student.email or "", lms_id, scores))
    return maxima, rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def wide_table(lms: str, maxima: dict[str, float], rows: Sequence[Row]) -> list[list[str]]:
    """Las filas del CSV por alumno en el formato de ``lms`` (encabezado incluido)."""
    check_preset(lms)
    notebooks = list(maxima)
    if lms == CANVAS:
        table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *notebooks, "Final Points"]]
        table.append(["Points Possible", "", "", "", "", *map(_number, maxima.values()), _number(sum(maxima.values()))])
        for r in rows:
            name = (
                f"{r.last_name}, {r.first_name}"
                if r.last_name and r.first_name
                else r.last_name or r.first_name or r.id
            )
            scores = [_number(r.scores[n]) for n in notebooks]
            table.append([name, r.lms_id, "", "", "", *scores, _number(r.total)])
    elif lms == MOODLE:
        table = [["id_lms", "Dirección de correo", "Nombre", "Apellido(s)", *notebooks, "Total"]]
        for r in rows:
            scores = [_number(r.scores[n]) for n in notebooks]
            table.append([r.lms_id or r.email, r.email, r.first_name, r.last_name, *scores, _number(r.total)])
    else:
        table = [["id", "nombre", "apellidos", "email", "id_lms", *notebooks, "total"]]
        for r in rows:
            scores = [_number(r.scores[n]) for n in notebooks]
            table.append([r.id, r.first_name, r.last_name, r.email, r.lms_id, *scores, _number(r.total)])
    return table


class LMSExport(ExportPlugin):
    """Exportador de ``nbgrader export``: una fila por alumno en el formato de un LMS (:func:`wide_table`)."""

    lms = Unicode(CONVENTION, help=f"Formato del CSV: {', '.join(PRESETS)}.").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        lms = check_preset(self.lms or CONVENTION)
        course = Path(self.parent.coursedir.root) if getattr(self.parent, "coursedir", None) else Path.cwd()
        dest = Path(self.to) if self.to else course / OUT_DIR / f"notas_{lms}.csv"
        maxima, rows = gradebook_rows(gradebook, recorded_students(course))
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(wide_table(lms, maxima, rows))
        missing = [r.id for r in rows if not (r.lms_id or (lms == MOODLE and r.email))]
        students = "1 alumno" if len(rows) == 1 else f"{len(rows)} alumnos"
        notebooks = "1 cuaderno" if len(maxima) == 1 else f"{len(maxima)} cuadernos"
        self.log.warning("Notas por alumno (%s) en %s: %s, %s.", lms, dest, students, notebooks)
        if missing and lms != CONVENTION:
            self.log.warning(
                "Sin id del LMS (%d): %s. Pon su id_lms en la lista de clase (make alumnos LISTA=…) o el LMS no "
                "sabrá de quién son esas filas.",
                len(missing),
                ", ".join(missing),
            )


class HandbackError(Exception):
    """Un problema que impide empaquetar los comentarios (con su explicación en español)."""


def pack_feedback(course: Path, assignment: str, lms: str | None = None) -> tuple[Path, list[str], list[str]]:
    """Empaqueta los comentarios de ``assignment`` para subirlos al LMS.

    Returns:
        ``(zip, alumnos empaquetados, avisos)``; los avisos dicen qué alumno con comentarios no
        se pudo empaquetar y por qué.
    """
    course = Path(course).resolve()
    record_path = course / "downloaded" / assignment / RECORD_NAME
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else {}
    lms = check_preset(lms or record.get("lms") or CONVENTION)
    if lms != CONVENTION and record.get("lms") != lms:
        raise HandbackError(
            f"No hay una recogida de {assignment} con LMS={lms} ({record_path.relative_to(course)}): los nombres que "
            f"{lms.capitalize()} reconoce salen de su descarga. Recoge antes con make recoger LMS={lms} …"
        )
    students = record.get("alumnos", {})
    files = sorted(course.glob(f"feedback/*/{assignment}/{assignment}.html"))
    if not files:
        raise HandbackError(f"No hay comentarios de {assignment} en feedback/: ejecuta antes make feedback.")
    out = course / OUT_DIR / f"comentarios_{assignment}_{lms}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    packed, warnings = [], []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for html in files:
            student = html.parent.parent.name
            info = students.get(student, {})
            if lms == CONVENTION:
                name = f"{student}/{assignment}.html"
            elif not info.get("prefijo"):
                warnings.append(f"{student}: no viene de la descarga de {lms.capitalize()}; súbelo a mano")
                continue
            elif lms == MOODLE:
                name = f"{info['prefijo']}/{assignment}_comentarios.html"
            elif info["prefijo"].removeprefix("LATE_").startswith("anon_"):
                warnings.append(f"{student}: entrega anónima; Canvas no la reconoce por el nombre, súbelo a mano")
                continue
            else:
                name = f"{info['prefijo']}_{assignment}_comentarios.html"
            z.write(html, name)
            packed.append(student)
    return out, packed, warnings


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_grading.handback --cuaderno ID [--lms …]``: el zip de comentarios para el LMS."""
    parser = SpanishArgumentParser(
        prog="python -m course_grading.handback",
        description="Empaqueta los comentarios de feedback/ de un cuaderno en un zip listo para subir al LMS.",
        epilog="Lo habitual es usarlo con make devolver CUADERNO=<id>, desde la raíz del curso.",
    )
    parser.add_argument("--cuaderno", required=True, metavar="ID", help="cuaderno, p. ej. 02_autoatencion")
    parser.add_argument("--lms", choices=PRESETS, default=None, help="formato (por defecto, el de la recogida)")
    args = parser.parse_args(argv)
    try:
        out, packed, warnings = pack_feedback(Path.cwd(), args.cuaderno, args.lms)
    except HandbackError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"Comentarios de {len(packed)} alumnos en {out.relative_to(Path.cwd())}.")
    for warning in warnings:
        print(f"Aviso: {warning}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
