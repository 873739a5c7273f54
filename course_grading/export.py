"""Las notas que vuelven al LMS, en archivos que su importador no puede malinterpretar (``make export``).

:class:`LMSExport` (``make export``) es un exportador de ``nbgrader export``. Sin ``LMS=`` usa el LMS
de las recogidas (:func:`resolve_lms`). Escribe en ``para_el_lms/``:

- ``moodle``, dos archivos por cuaderno; **usa la hoja de la tarea** si el cuaderno es una tarea de
  Moodle y lo recogiste con ``make recoger LMS=moodle``:

  - ``hoja_moodle_<cuaderno>.csv``, la hoja de calificación de la tarea («Subir la hoja de
    calificaciones» en la página de entregas; hace falta activar la «Hoja de calificaciones externa»
    entre los tipos de retroalimentación de la tarea). Moodle reconoce a cada alumno por su número de
    participante, el de las carpetas de la descarga, así que no necesita ``id_lms`` y sirve con la
    calificación anónima; salta las celdas vacías y no sobrescribe una nota cambiada en Moodle
    después de la exportación (columna de última modificación).
  - ``notas_moodle_<cuaderno>.csv``, para el libro de calificaciones (Calificaciones → Importar →
    Archivo CSV), por ``id_lms`` o correo de la lista de clase: cuando la nota no va a una tarea
    (un elemento de calificación manual) o no hubo recogida de Moodle. Solo lleva a los alumnos
    con nota en ese cuaderno: ese importador borra la nota de una celda vacía.

- ``canvas``: ``notas_canvas_<cuaderno>.csv`` en el formato de importación del libro de
  calificaciones de Canvas (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, el
  cuaderno y la fila ``Points Possible``), solo con los alumnos con nota y con id de usuario.
- ``convencion``: ``notas_convencion.csv``, una fila por alumno (``id``, ``nombre``, ``apellidos``,
  ``email``, ``id_lms``, cuadernos y ``total``); una celda vacía es un cuaderno sin entrega. No es
  para importarlo en un LMS.

Un alumno con nota que no puede ir en un archivo (sin identificador, fuera de la lista de clase,
anónimo, identificador repetido) va a ``para_el_lms/sin_subir_<lms>.txt`` con el motivo y el arreglo,
y ``make export`` lo dice en voz alta. Las reglas salen del código de los importadores, citado en
:func:`moodle_gradebook_table`, :func:`moodle_worksheet_table` y :func:`canvas_table`, y las
prueban ``tests/test_moodle_canvas.py`` con esas reglas escritas en Python.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from .lms import RECORD_NAME
from .presets import CANVAS, CONVENTION, MOODLE, PRESETS, check_preset

OUT_DIR = "para_el_lms"
Table = list[list[str]]


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

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class LeftOut:
    """Una nota que no va en un archivo para el LMS: de quién, en qué archivo, por qué y qué hacer."""

    student: str
    notebook: str
    score: float
    max_score: float
    file: str
    reason: str
    fix: str


class ExportError(Exception):
    """Un problema que impide exportar las notas (con su explicación en español)."""


def read_records(course: Path) -> dict[str, dict]:
    """``{cuaderno: registro}`` de cada ``downloaded/<cuaderno>/entregas.json`` (lo que escribe ``make recoger``)."""
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(Path(course).glob(f"downloaded/*/{RECORD_NAME}"))
    }


def resolve_lms(course: Path, given: str = "") -> str:
    """El LMS de la exportación: ``given`` si se dio (``make export LMS=…``); si no, el de las recogidas.

    Sin recogidas, ``convencion``. Si las recogidas son de LMS distintos, :class:`ExportError`: no
    se adivina cuál, porque ``make devolver`` también usa el de cada recogida y los dos deben casar.
    """
    if given:
        try:
            return check_preset(given)
        except ValueError as error:
            raise ExportError(str(error)) from None
    found = {notebook: record.get("lms", CONVENTION) for notebook, record in read_records(course).items()}
    kinds = sorted(set(found.values()))
    if len(kinds) > 1:
        detail = "; ".join(f"{notebook}: {lms}" for notebook, lms in found.items())
        raise ExportError(
            f"Las recogidas no son del mismo LMS ({detail}). Di de cuál son las notas que exportas: "
            f"make export LMS={kinds[0]} (o {', '.join(kinds[1:])})."
        )
    return check_preset(kinds[0]) if kinds else CONVENTION


def recorded_students(course: Path) -> dict[str, dict[str, str]]:
    """Lo que dijeron las recogidas (``downloaded/*/entregas.json``) de cada alumno: su nombre y su id de Canvas.

    ``{"alumno": {"nombre": …, "id_lms": …}}``. El id solo de Canvas: su id de usuario es el mismo
    en todas las tareas; el número de participante de Moodle cambia de una tarea a otra y no
    sirve para el libro de calificaciones (sí para la hoja de la tarea: :func:`moodle_worksheet_table`).
    """
    found: dict[str, dict[str, str]] = {}
    for record in read_records(course).values():
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


def convention_table(maxima: dict[str, float], rows: Sequence[Row]) -> Table:
    """``notas_convencion.csv``: una fila por alumno, una columna por cuaderno y el total (encabezado incluido)."""
    notebooks = list(maxima)
    table = [["id", "nombre", "apellidos", "email", "id_lms", *notebooks, "total"]]
    for r in rows:
        scores = [_number(r.scores[n]) for n in notebooks]
        table.append([r.id, r.first_name, r.last_name, r.email, r.lms_id, *scores, _number(r.total)])
    return table


def _unique(
    keyed: list[tuple[str, Row]], notebook: str, max_score: float, file: str, what: str
) -> tuple[list[tuple[str, Row]], list[LeftOut]]:
    """Aparta a los alumnos que comparten identificador: el importador daría las dos notas a la misma persona."""
    counts = Counter(key for key, _ in keyed)
    kept, left = [], []
    for key, r in keyed:
        if counts[key] == 1:
            kept.append((key, r))
            continue
        others = ", ".join(o.id for k, o in keyed if k == key and o is not r)
        left.append(
            LeftOut(r.id, notebook, r.scores[notebook], max_score, file,
                    f"comparte {what} «{key}» con {others}: el importador daría las dos notas a la misma persona",
                    "corrige su identificador en la lista de clase (make alumnos LISTA=…) y repite make export")
        )  # fmt: skip
    return kept, left


# --- Moodle: el libro de calificaciones -------------------------------------------------------


def moodle_identifier_is_blank(value: str) -> bool:
    """Si Moodle toma ``value`` por una celda de identificador vacía: ``!empty($value)`` tras ``trim``.

    Para ``empty()``, ``"0"`` también está vacío.
    """
    return value.strip() in ("", "0")


def moodle_gradebook_table(notebook: str, max_score: float, rows: Sequence[Row]) -> tuple[str, Table, list[LeftOut]]:
    """``notas_moodle_<cuaderno>.csv`` para «Importar → Archivo CSV» del libro de calificaciones.

    Reglas de ``grade/import/csv/classes/load_data.php`` (moodle/moodle, commit 0289d8c76654):

    - una celda de nota vacía borra la nota (``if ($value === '' or $value == '-') { $value = null; //
      No grade.``): solo van los alumnos con nota en este cuaderno, y solo este cuaderno;
    - el alumno se fija una vez antes de las filas (``$this->studentid = null;``) y una fila con el
      identificador vacío no lo cambia (``// Skip invalid row with blank user field.`` ``if
      (!empty($value)) {``): sus notas irían al alumno de la fila anterior. Sin ``id_lms`` ni correo
      (o con ``0``), el alumno va a :class:`LeftOut`;
    - un identificador que Moodle no conoce anula toda la importación (``usermappingerror``): no
      estropea nada, pero no entra ninguna nota;
    - el total del curso y los de categoría no se pueden elegir como destino (``// Skip course type
      and category type.``): no se escribe ``Total``; Moodle lo calcula.
    """
    file = f"notas_moodle_{notebook}.csv"
    keyed, left = [], []
    for r in rows:
        if r.scores[notebook] is None:
            continue
        key = (r.lms_id or r.email).strip()
        if moodle_identifier_is_blank(key):
            left.append(
                LeftOut(r.id, notebook, r.scores[notebook], max_score, file,
                        "no tiene id_lms ni correo (no está en la lista de clase, o es una entrega anónima): "
                        "Moodle daría su nota al alumno de la fila anterior",
                        f"ponle id_lms o correo en la lista de clase (make alumnos LISTA=…) y repite make export, "
                        f"o sube su nota con hoja_moodle_{notebook}.csv, que lo reconoce por su número de participante")
            )  # fmt: skip
        else:
            keyed.append((key, r))
    kept, repeated = _unique(keyed, notebook, max_score, file, "el id_lms o el correo")
    table = [["id_lms", "Dirección de correo", "Nombre", "Apellido(s)", notebook]]
    table += [[key, r.email, r.first_name, r.last_name, _number(r.scores[notebook])] for key, r in kept]
    return file, table, left + repeated


# --- Moodle: la hoja de calificación de la tarea ---------------------------------------------

# Las columnas que busca el importador de la hoja, en el idioma de quien la sube, y el texto que
# precede al número de participante. En ``importgradeslib.php``:
#   ``$strgrade = get_string('gradenoun');``
#   ``$strid = get_string('recordid', 'assign');``
#   ``$strmodified = get_string('lastmodifiedgrade', 'assign');``
#   ``$id = substr($idstr, strlen(get_string('hiddenuser', 'assign')));``
# Los textos: en inglés, ``mod/assign/lang/en/assign.php`` (moodle/moodle, commit 0085741f6f10) y
# ``lang/en/moodle.php``; en español, ``es/assign.php`` (commit 098d428f69db) y ``es/moodle.php`` (commit
# 5ffebfbc2240) del paquete de idioma (projectestac/moodle-langpacks). Las dos columnas de cada dato van
# en la hoja: cada Moodle lee las de su idioma y no mira las demás, así que sirve en español y en inglés.
MOODLE_WORKSHEET_LANGUAGES = {
    "es": {"id": "Identificador", "participant": "Participante", "grade": "Calificación",
           "modified": "Última modificación (calificación)"},
    "en": {"id": "Identifier", "participant": "Participant ", "grade": "Grade",
           "modified": "Last modified (grade)"},
}  # fmt: skip


def moodle_worksheet_table(
    notebook: str, max_score: float, rows: Sequence[Row], record: dict, when: datetime
) -> tuple[str, Table, list[LeftOut]]:
    """``hoja_moodle_<cuaderno>.csv``: la hoja de calificación de la tarea, con los alumnos de la recogida.

    Reglas de ``mod/assign/feedback/offline/`` (moodle/moodle; ``importgradeslib.php`` commit 9762977c028c,
    ``locallib.php`` commit 04975560d10b):

    - las columnas se buscan por su nombre exacto en el idioma de quien importa; sin las tres, se
      rechaza la hoja (``if ($this->idindex < 0 || $this->gradeindex < 0 || $this->modifiedindex < 0)
      { return false; }``): van las tres en español y en inglés (:data:`MOODLE_WORKSHEET_LANGUAGES`);
    - el participante es el número que sigue al texto «Participante» (``substr``), el mismo de las
      carpetas de la descarga (``clean_filename($prefix . '_' . $this->get_uniqueid_for_user($userid))``
      al descargar y ``get_string('hiddenuser', 'assign') . $this->assignment->get_uniqueid_for_user(…)``
      en la hoja); una fila de un participante desconocido se salta;
    - una nota vacía se salta (``// Skip - grade has no value.``) y no se sobrescribe una nota
      cambiada en Moodle más de un minuto después de la columna de última modificación
      (``$usergrade->timemodified > ($modified + 60)``, leída con ``strtotime``): se escribe la hora de
      la exportación con su zona horaria (``2026-12-10T14:03:00+01:00``);
    - una columna de retroalimentación (p. ej. «Comentarios de retroalimentación») sustituye el
      comentario de Moodle aunque esté vacía (``if ($newvalue != $oldvalue) {`` …
      ``$plugin->set_editor_text(…)``): no se escribe ninguna;
    - una nota mayor que la máxima de la tarea en Moodle se salta (``// Out of range.``): la tarea de
      Moodle debe tener como máxima la del cuaderno.

    Un alumno con nota que no viene en la recogida de Moodle de este cuaderno va a :class:`LeftOut`.
    """
    file = f"hoja_moodle_{notebook}.csv"
    recorded = record.get("alumnos", {})
    keyed, left = [], []
    for r in rows:
        if r.scores[notebook] is None:
            continue
        participant = str(recorded.get(r.id, {}).get("id_lms", ""))
        if participant.isdigit():
            keyed.append((participant, r))
        else:
            left.append(
                LeftOut(r.id, notebook, r.scores[notebook], max_score, file,
                        f"no viene en la descarga de Moodle de {notebook} (make recoger LMS=moodle): no se sabe su "
                        "número de participante",
                        f"ponle la nota a mano en la tarea, o sube su nota con notas_moodle_{notebook}.csv")
            )  # fmt: skip
    kept, repeated = _unique(keyed, notebook, max_score, file, "el número de participante")
    es, en = MOODLE_WORKSHEET_LANGUAGES["es"], MOODLE_WORKSHEET_LANGUAGES["en"]
    stamp = when.astimezone().isoformat(timespec="seconds")
    table = [[es["id"], en["id"], "Nombre completo", es["grade"], en["grade"], es["modified"], en["modified"]]]
    for participant, r in kept:
        name = r.full_name or recorded.get(r.id, {}).get("nombre", "") or r.id
        grade = _number(r.scores[notebook])
        table.append(
            [es["participant"] + participant, en["participant"] + participant, name, grade, grade, stamp, stamp]
        )
    return file, table, left + repeated


# --- Canvas: el libro de calificaciones -------------------------------------------------------


def canvas_table(notebook: str, max_score: float, rows: Sequence[Row]) -> tuple[str, Table, list[LeftOut]]:
    """``notas_canvas_<cuaderno>.csv`` para «Importar» del libro de calificaciones de Canvas.

    Reglas de ``app/models/gradebook_importer.rb`` (instructure/canvas-lms) y de quien aplica su resultado,
    ``ui/features/gradebook_uploads/…/process_gradebook_upload.js``:

    - una celda vacía cuenta como un cambio (``return false unless current_value.present? &&
      new_value.present?`` en ``no_change_to_value?``) y se envía tal cual (``posted_grade:
      submission.grade``): borra la nota. Un alumno que no está en el archivo no cambia. Solo van los
      alumnos con nota en este cuaderno, y solo este cuaderno;
    - el alumno es el de la columna ``ID`` (``student = @all_students[student_id.to_i] if
      student_id.present?``); sin él, Canvas lo busca por el nombre (``s.name == name ||
      s.sortable_name == name``) o lo da por desconocido. Sin id de usuario (un número), el alumno va a
      :class:`LeftOut`.
    """
    file = f"notas_canvas_{notebook}.csv"
    keyed, left = [], []
    for r in rows:
        if r.scores[notebook] is None:
            continue
        if r.lms_id.isdigit():
            keyed.append((r.lms_id, r))
            continue
        anonymous = r.id.startswith("anon_") or r.lms_id.startswith("anon_")
        reason = (
            "entrega anónima: la descarga de Canvas no dice su usuario"
            if anonymous
            else "no tiene id de usuario de Canvas (no está en la lista de clase ni en una recogida de Canvas): "
            "Canvas buscaría la fila por el nombre"
        )
        fix = (
            "ponle la nota a mano en Canvas"
            if anonymous
            else "pon su id de usuario de Canvas como id_lms en la lista de clase (make alumnos LISTA=…) y repite "
            "make export, o ponle la nota a mano en Canvas"
        )
        left.append(LeftOut(r.id, notebook, r.scores[notebook], max_score, file, reason, fix))
    kept, repeated = _unique(keyed, notebook, max_score, file, "el id de usuario")
    table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", notebook]]
    table.append(["Points Possible", "", "", "", "", _number(max_score)])
    for key, r in kept:
        name = f"{r.last_name}, {r.first_name}" if r.last_name and r.first_name else r.full_name or r.id
        table.append([name, key, "", "", "", _number(r.scores[notebook])])
    return file, table, left + repeated


def lms_files(
    lms: str, maxima: dict[str, float], rows: Sequence[Row], records: dict[str, dict], when: datetime
) -> tuple[dict[str, Table], list[LeftOut], list[str]]:
    """Los archivos para ``lms`` (``moodle`` o ``canvas``): ``({nombre: tabla}, notas que no van, avisos)``.

    Un archivo sin ningún alumno no se escribe. Los avisos dicen de qué cuadernos no hay hoja de Moodle.
    """
    if lms not in (MOODLE, CANVAS):
        raise ValueError(f"lms_files es para moodle y canvas, no para {lms}.")
    files: dict[str, Table] = {}
    left: list[LeftOut] = []
    notes: list[str] = []
    for notebook, max_score in maxima.items():
        if all(r.scores[notebook] is None for r in rows):
            continue
        made = []
        if lms == CANVAS:
            made.append(canvas_table(notebook, max_score, rows))
        elif records.get(notebook, {}).get("lms") == MOODLE:
            made.append(moodle_worksheet_table(notebook, max_score, rows, records[notebook], when))
        else:
            notes.append(
                f"no hay hoja_moodle_{notebook}.csv: {notebook} no se recogió de Moodle (make recoger LMS=moodle); "
                f"usa notas_moodle_{notebook}.csv"
            )
        if lms == MOODLE:
            file, table, missing = moodle_gradebook_table(notebook, max_score, rows)
            if made:  # quien no puede ir en el libro pero sí en la hoja de la tarea: que la use
                sheet, _, sheet_missing = made[0]
                in_sheet = {r.id for r in rows if r.scores[notebook] is not None} - {i.student for i in sheet_missing}
                missing = [
                    replace(i, fix=f"sube su nota con {sheet}, donde sí está") if i.student in in_sheet else i
                    for i in missing
                ]
            made.append((file, table, missing))
        for name, table, missing in made:
            left += missing
            if len(table) > (2 if lms == CANVAS else 1):  # encabezado (y Points Possible en Canvas)
                files[name] = table
    return files, left, notes


def left_out_report(lms: str, left: Sequence[LeftOut], when: datetime) -> str:
    """El informe ``sin_subir_<lms>.txt``: cada nota que no está en los archivos, con el motivo y el arreglo."""
    lines = [
        f"Notas que NO están en los archivos para {lms.capitalize()} de {OUT_DIR}/ "
        f"(make export, {when.astimezone():%Y-%m-%d %H:%M}).",
        "Ponlas a mano en el LMS, o arregla el motivo y vuelve a ejecutar make export.",
    ]
    for file in dict.fromkeys(item.file for item in left):
        lines += ["", f"{file}:"]
        for item in (i for i in left if i.file == file):
            lines.append(f"  - {item.student}: {_number(item.score)} de {_number(item.max_score)} puntos.")
            lines.append(f"    Motivo: {item.reason}.")
            lines.append(f"    Arreglo: {item.fix}.")
    return "\n".join(lines) + "\n"


def write_lms_export(
    out_dir: Path, lms: str, maxima: dict[str, float], rows: Sequence[Row], records: dict[str, dict], when: datetime
) -> tuple[dict[Path, int], list[LeftOut], list[str]]:
    """Escribe en ``out_dir`` los archivos de ``lms`` y el informe ``sin_subir_<lms>.txt`` (si hace falta).

    Returns:
        ``({archivo: alumnos}, notas que no van, avisos)``. Borra los archivos de una exportación anterior
        de los mismos cuadernos que ahora no tocan (y el antiguo ``notas_<lms>.csv`` de una fila por
        alumno, que borraba notas en el LMS) y lo dice en los avisos.
    """
    files, left, notes = lms_files(lms, maxima, rows, records, when)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[Path, int] = {}
    for name, table in files.items():
        path = out_dir / name
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(table)
        written[path] = len(table) - (2 if lms == CANVAS else 1)
    report = out_dir / f"sin_subir_{lms}.txt"
    if left:
        report.write_text(left_out_report(lms, left, when), encoding="utf-8")
    old_format = out_dir / f"notas_{lms}.csv"  # una fila por alumno: sus celdas vacías borraban notas
    stale = [old_format] + ([] if left else [report])
    for notebook in maxima:
        stale.append(out_dir / f"notas_{lms}_{notebook}.csv")
        if lms == MOODLE:
            stale.append(out_dir / f"hoja_moodle_{notebook}.csv")
    for path in stale:
        if path.exists() and path not in written:
            path.unlink()
            why = "su formato borraba notas al importarlo" if path == old_format else "de una exportación anterior"
            notes.append(f"borrado {path.name} ({why})")
    return written, left, notes


class LMSExport(ExportPlugin):
    """Exportador de ``nbgrader export``: las notas en los archivos de cada LMS (ver el principio del módulo)."""

    lms = Unicode(
        "", help=f"LMS: {', '.join(PRESETS)}; si se deja vacío, el de las recogidas (downloaded/*/entregas.json)."
    ).tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        course = Path(self.parent.coursedir.root) if getattr(self.parent, "coursedir", None) else Path.cwd()
        try:
            lms = resolve_lms(course, self.lms)
        except ExportError as error:
            self.log.error("Error: %s", error)
            sys.exit(1)
        maxima, rows = gradebook_rows(gradebook, recorded_students(course))
        if lms == CONVENTION:
            dest = Path(self.to) if self.to else course / OUT_DIR / f"notas_{lms}.csv"
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "w", encoding="utf-8", newline="") as f:
                csv.writer(f).writerows(convention_table(maxima, rows))
            self.log.warning("Notas por alumno (%s) en %s: %s, %s.", lms, dest, _count(len(rows), "alumno"),
                             _count(len(maxima), "cuaderno"))  # fmt: skip
            return
        out_dir = Path(self.to) if self.to else course / OUT_DIR
        when = datetime.now().astimezone()
        written, left, notes = write_lms_export(out_dir, lms, maxima, rows, read_records(course), when)
        for path, count in written.items():
            self.log.warning("Para %s: %s (%s).", lms.capitalize(), path, _count(count, "alumno"))
        for note in notes:
            self.log.warning("Aviso: %s.", note)
        if not written and not left:
            self.log.warning("No hay notas que exportar para %s.", lms.capitalize())
        if left:
            per_file = Counter(item.file for item in left)
            self.log.warning(
                "ATENCIÓN: %s NO están en los archivos para %s (%s): %s. Motivo y arreglo de cada una en %s.",
                _count(len(left), "nota"),
                lms.capitalize(),
                ", ".join(f"{n} en {file}" for file, n in per_file.items()),
                ", ".join(sorted({item.student for item in left})),
                out_dir / f"sin_subir_{lms}.txt",
            )


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"
