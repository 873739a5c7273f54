"""Las notas para Moodle y Canvas, importadas con las reglas de sus importadores escritas en Python.

Una clase con lo que estropea un libro de calificaciones: un alumno sin entrega de un cuaderno con
una nota puesta a mano en el LMS, una alumna fuera de la lista de clase (sin identificador), una
entrega anónima y dos alumnos con el mismo correo. Cada archivo de ``course_grading.export`` se
importa con un importador de mentira que sigue, línea a línea, el código del de verdad (citado en
cada uno, con su ruta y su commit), y se comprueba que ninguna nota ajena cambia y que ninguna va
a quien no es. Las primeras pruebas de cada importador comprueban el importador de mentira con el
formato antiguo (una fila por alumno con celdas vacías): reproduce lo que describía la incidencia.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbgrader.api import MissingEntry

from course_grading import export
from course_grading.export import Row

WHEN = datetime(2026, 12, 10, 14, 3, tzinfo=timezone(timedelta(hours=1)))
MAXIMA = {"00_preliminares": 10.0, "01_atencion": 20.0}
ROWS = [
    Row("agarcia", "Ana", "García", "ana@uni.es", "ana@uni.es", {"00_preliminares": 10.0, "01_atencion": 12.5}),
    Row("lperez", "Luis", "Pérez", "luis@uni.es", "", {"00_preliminares": 4.0, "01_atencion": None}),  # sin 01
    Row("eva_ruiz", "Eva Ruiz", "", "", "", {"00_preliminares": 6.0, "01_atencion": None}),  # fuera de la lista
    Row("participante_99", "Participante", "", "", "", {"00_preliminares": None, "01_atencion": 15.0}),  # anónima
    Row("jgil", "Juan", "Gil", "gil@uni.es", "", {"00_preliminares": 7.0, "01_atencion": None}),  # correo repetido
    Row("jgil2", "Juana", "Gil", "gil@uni.es", "", {"00_preliminares": 8.0, "01_atencion": None}),
]
# Lo que anotó make recoger LMS=moodle: el número de participante de cada tarea.
RECORDS = {
    "00_preliminares": {"lms": "moodle", "alumnos": {
        "agarcia": {"id_lms": "1234567", "nombre": "Ana García"},
        "lperez": {"id_lms": "1234570", "nombre": "Luis Pérez"},
        "eva_ruiz": {"id_lms": "1234571", "nombre": "Eva Ruiz"},
        "jgil": {"id_lms": "1234572", "nombre": "Juan Gil"},
        "jgil2": {"id_lms": "1234573", "nombre": "Juana Gil"},
    }},
    "01_atencion": {"lms": "moodle", "alumnos": {
        "agarcia": {"id_lms": "1234600", "nombre": "Ana García"},
        "participante_99": {"id_lms": "99", "nombre": "Participante"},
    }},
}  # fmt: skip


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


# --- Moodle: «Importar → Archivo CSV» del libro de calificaciones ---------------------------------
# grade/import/csv/classes/load_data.php, moodle/moodle, commit 0289d8c7665458f8ffc47e34527598e15523f104.

MOODLE_USERS = {"ana@uni.es": 11, "luis@uni.es": 12, "eva@uni.es": 13, "marta@uni.es": 14, "gil@uni.es": 15}


class MoodleImportAborted(Exception):
    """``cleanup_import(…)``: no se importa nada."""


def php_empty(value: str) -> bool:
    return value in ("", "0")


def moodle_gradebook_import(table, mapfrom: str, mapping: dict[str, str], grades: dict) -> dict:
    """``prepare_import_grade_data``: ``grades`` (``{(usuario, elemento): nota}``) tras importar ``table``."""
    header = [h.strip() for h in table[0]]
    assert not set(mapping.values()) & {"course", "category"}, (
        "fetch_grade_items: `// Skip course type and category type.`"
    )
    staged = []
    studentid = None  # `$this->studentid = null;`, una vez, antes de `while ($line = $csvimport->next())`
    for line in table[1:]:
        if len(line) <= 1:  # `if (count($line) <= 1) { // There is no data on this line, move on.`
            continue
        newgrades = []
        for key, value in enumerate(line):
            value = value.strip()  # `$value = trim($value);`
            if header[key] == mapfrom:
                # `// Skip invalid row with blank user field.` `if (!empty($value)) {`
                #     `$this->studentid = $this->check_user_exists($value, $userfields[$mappingidentifier]);`
                if not php_empty(value):
                    if value not in MOODLE_USERS:
                        raise MoodleImportAborted("usermappingerror")
                    studentid = MOODLE_USERS[value]
            elif header[key] in mapping:
                # `if ($value === '' or $value == '-') { $value = null; // No grade.`
                newgrades.append((mapping[header[key]], None if value in ("", "-") else float(value)))
        if studentid is None:  # `if (empty($this->studentid) || !is_numeric($this->studentid)) {`
            raise MoodleImportAborted("usermappingerrorusernotfound")
        staged += [(studentid, item, grade) for item, grade in newgrades]
    result = dict(grades)
    result.update({(user, item): grade for user, item, grade in staged})
    return result


# Antes de importar: notas puestas a mano en Moodle.
MOODLE_BEFORE = {(12, "01_atencion"): 7.0, (13, "00_preliminares"): 5.0, (11, "00_preliminares"): 3.0}


def test_the_moodle_importer_rules_reproduce_the_issue() -> None:
    """El formato antiguo (una fila por alumno, celdas vacías): borra la nota puesta a mano y da la de Eva a Luis."""
    old = [
        ["id_lms", "00_preliminares", "01_atencion"],
        ["luis@uni.es", "4", ""],
        ["", "6", ""],  # Eva, fuera de la lista
    ]
    after = moodle_gradebook_import(old, "id_lms", {"00_preliminares": "00_preliminares", "01_atencion": "01_atencion"},
                                    MOODLE_BEFORE)  # fmt: skip
    assert after[12, "01_atencion"] is None  # la nota puesta a mano, borrada
    assert after[12, "00_preliminares"] == 6.0  # la nota de Eva, para Luis
    with pytest.raises(MoodleImportAborted, match="usermappingerrorusernotfound"):  # sin identificador en la primera
        moodle_gradebook_import(old[:1] + old[2:], "id_lms", {"00_preliminares": "00_preliminares"}, MOODLE_BEFORE)


def test_moodle_gradebook_files_change_only_the_grades_of_their_students() -> None:
    files, left, _ = export.lms_files("moodle", MAXIMA, ROWS, RECORDS, WHEN)
    after = dict(MOODLE_BEFORE)
    for notebook in MAXIMA:
        table = files[f"notas_moodle_{notebook}.csv"]
        assert table[0] == ["id_lms", "Dirección de correo", "Nombre", "Apellido(s)", notebook]  # sin «Total»
        after = moodle_gradebook_import(table, "id_lms", {notebook: notebook}, after)
    assert after == {
        (11, "00_preliminares"): 10.0,
        (11, "01_atencion"): 12.5,
        (12, "00_preliminares"): 4.0,
        (12, "01_atencion"): 7.0,  # sin entrega de 01: la nota puesta a mano sigue
        (13, "00_preliminares"): 5.0,  # Eva no está en el archivo: su nota no cambia
    }
    missing = {(item.student, item.notebook, item.file) for item in left}
    assert {
        ("eva_ruiz", "00_preliminares", "notas_moodle_00_preliminares.csv"),
        ("participante_99", "01_atencion", "notas_moodle_01_atencion.csv"),
        ("jgil", "00_preliminares", "notas_moodle_00_preliminares.csv"),  # mismo correo que jgil2
        ("jgil2", "00_preliminares", "notas_moodle_00_preliminares.csv"),
    } == {m for m in missing if m[2].startswith("notas_moodle_")}


def test_a_moodle_identifier_is_blank_as_php_empty_says() -> None:
    assert export.moodle_identifier_is_blank(" ") and export.moodle_identifier_is_blank("0")
    assert not export.moodle_identifier_is_blank("ana@uni.es")
    cero = Row("cero", "", "", "", "0", {"00_preliminares": 1.0})  # «0»: para empty() de PHP, vacío
    _, table, left = export.moodle_gradebook_table("00_preliminares", 10.0, [cero])
    assert table[1:] == [] and [item.student for item in left] == ["cero"]


# --- Moodle: la hoja de calificación de la tarea (feedback/offline) ------------------------------
# mod/assign/feedback/offline/importgradeslib.php (commit 9762977c028cbd1884ed311a94c49efbae87591b) y
# locallib.php (commit 04975560d10b517e76e53b7936ca13ed7f3218be), moodle/moodle. Las cadenas, de los
# paquetes de idioma: mod/assign/lang/en/assign.php (moodle/moodle, 0085741f6f10…) y es/assign.php,
# es/moodle.php (projectestac/moodle-langpacks, 098d428f69db…, 5ffebfbc2240…).
STRINGS = {
    # get_string('gradenoun'), get_string('recordid', 'assign'), get_string('lastmodifiedgrade', 'assign'),
    # get_string('hiddenuser', 'assign')
    "en": ("Grade", "Identifier", "Last modified (grade)", "Participant "),
    "es": ("Calificación", "Identificador", "Última modificación (calificación)", "Participante"),
}
# get_editor_fields() del comentario de retroalimentación: su nombre (pluginname de assignfeedback_comments).
FEEDBACK_FIELDS = {"Feedback comments", "Comentarios de retroalimentación"}


class WorksheetRejected(Exception):
    """``print_error('invalidgradeimport', …)``: la hoja no se importa."""


@dataclass
class AssignGrade:
    grade: float
    timemodified: float
    feedback: str = ""


def moodle_worksheet_import(table, language: str, participants: dict[str, int], grades: dict, max_grade: float):
    """``init()``, ``next()`` y ``process_import_grades`` (sin «ignorar la fecha de modificación»)."""
    strgrade, strid, strmodified, hiddenuser = STRINGS[language]
    columns = table[0]
    index = {name: columns.index(name) for name in (strgrade, strid, strmodified) if name in columns}
    # `if ($this->idindex < 0 || $this->gradeindex < 0 || $this->modifiedindex < 0) { return false; }`
    if len(index) < 3:
        raise WorksheetRejected(language)
    feedback = {i: name for i, name in enumerate(columns) if name in FEEDBACK_FIELDS}
    result = dict(grades)
    for record in table[1:]:
        # `$id = substr($idstr, strlen(get_string('hiddenuser', 'assign')));`
        userid = participants.get(record[index[strid]][len(hiddenuser) :])
        if userid is None:  # `if ($userid = $this->assignment->get_user_id_for_uniqueid($id)) {`
            continue
        text = record[index[strgrade]].strip()
        grade = None if text == "" else float(text)  # `unformat_float($record->grade)`
        modified = datetime.fromisoformat(record[index[strmodified]]).timestamp()  # `strtotime(…)`
        usergrade = result.get(userid)
        stale = usergrade is not None and usergrade.timemodified > modified + 60
        if usergrade is not None and usergrade.grade == grade:  # `// Skip - grade not modified.`
            pass
        elif grade is None or grade < 0:  # `// Skip - grade has no value.`
            pass
        elif stale:  # `// Skip - grade has been modified.`
            pass
        elif grade > max_grade:  # `// Out of range.`
            pass
        else:
            result[userid] = AssignGrade(grade, WHEN.timestamp() + 5, usergrade.feedback if usergrade else "")
        if not stale:
            for i in feedback:  # `if ($newvalue != $oldvalue) {` … `set_editor_text(…)`
                old = result.get(userid, AssignGrade(-1, 0))
                if record[i] != old.feedback:
                    result[userid] = AssignGrade(old.grade, old.timemodified, record[i])
    return result


def test_the_worksheet_importer_rules_reject_missing_columns_and_erase_comments() -> None:
    header = ["Identificador", "Calificación", "Última modificación (calificación)", "Comentarios de retroalimentación"]
    row = ["Participante1234567", "", WHEN.isoformat(), ""]
    before = {11: AssignGrade(3.0, 0.0, "¡Muy bien!")}
    after = moodle_worksheet_import([header, row], "es", {"1234567": 11}, before, 10.0)
    assert after[11] == AssignGrade(3.0, 0.0, "")  # una celda de comentario vacía borra el comentario
    with pytest.raises(WorksheetRejected):
        moodle_worksheet_import([header, row], "en", {"1234567": 11}, before, 10.0)


@pytest.mark.parametrize("language", ["es", "en"])
def test_moodle_worksheets_are_read_by_participant_number_in_both_languages(language: str) -> None:
    files, left, notes = export.lms_files("moodle", MAXIMA, ROWS, RECORDS, WHEN)
    assert notes == []
    later = WHEN.timestamp() + 3600  # Eva tiene una nota puesta a mano en Moodle después de exportar
    before = {
        "00_preliminares": {13: AssignGrade(9.0, later), 11: AssignGrade(3.0, WHEN.timestamp() - 86400)},
        "01_atencion": {12: AssignGrade(7.0, 0.0)},  # Luis no entregó 01: su nota puesta a mano
    }
    participants = {
        "00_preliminares": {"1234567": 11, "1234570": 12, "1234571": 13, "1234572": 15, "1234573": 16},
        "01_atencion": {"1234600": 11, "1234601": 12, "99": 14},
    }
    after = {}
    for notebook, max_grade in MAXIMA.items():
        table = files[f"hoja_moodle_{notebook}.csv"]
        assert not set(table[0]) & FEEDBACK_FIELDS, "una columna de comentarios sustituiría los de Moodle"
        got = moodle_worksheet_import(table, language, participants[notebook], before[notebook], max_grade)
        after[notebook] = {user: g.grade for user, g in got.items()}
    assert after == {
        "00_preliminares": {11: 10.0, 12: 4.0, 13: 9.0, 15: 7.0, 16: 8.0},  # Eva: la de Moodle, posterior
        "01_atencion": {11: 12.5, 12: 7.0, 14: 15.0},  # la anónima, por su número; Luis, como estaba
    }
    assert not [item for item in left if item.file.startswith("hoja_moodle_")]


def test_a_graded_student_missing_from_the_moodle_download_is_reported() -> None:
    records = {"00_preliminares": {"lms": "moodle", "alumnos": {"agarcia": {"id_lms": "1234567"}}}}
    files, left, notes = export.lms_files("moodle", {"00_preliminares": 10.0}, ROWS[:2], records, WHEN)
    assert [r[0] for r in files["hoja_moodle_00_preliminares.csv"][1:]] == ["Participante1234567"]
    assert [(i.student, i.file) for i in left] == [("lperez", "hoja_moodle_00_preliminares.csv")]
    files, left, notes = export.lms_files("moodle", {"00_preliminares": 10.0}, ROWS[:2], {}, WHEN)
    assert list(files) == ["notas_moodle_00_preliminares.csv"] and "no se recogió de Moodle" in notes[0]


# --- Canvas: «Importar» del libro de calificaciones ----------------------------------------------
# app/models/gradebook_importer.rb (instructure/canvas-lms, la versión con ASSIGNMENT_PRELOADED_FIELDS hasta
# final_grader_id) y ui/features/gradebook_uploads/…/process_gradebook_upload.js, que envía el resultado.

CANVAS_STUDENTS = {48213: ("Ana García", "García, Ana"), 48214: ("Luis Pérez", "Pérez, Luis"),
                   48215: ("Eva Ruiz", "Ruiz, Eva")}  # fmt: skip
NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points", "Final Grade")


def canvas_no_change(new, current) -> bool:
    """``no_change_to_value?``."""

    def no_score(value) -> bool:  # `value.blank? || value == "-"`
        return value is None or str(value).strip() in ("", "-")

    if new == current:  # `return true if new_value == current_value`
        return True
    if no_score(current) and no_score(new):
        return True
    if no_score(current) or no_score(new):  # `return false unless current_value.present? && new_value.present?`
        return False
    if "EX" in (str(new).upper(), str(current).upper()):
        return False
    return f"{float(new):.2f}" == f"{float(current):.2f}"


def canvas_import(table, grades: dict) -> dict:
    """``GradebookImporter#parse!`` y ``populateGradeDataPerSubmission``: ``{(usuario, tarea): nota}`` después."""
    header = table[0]
    assert "Student" in header[0] and "ID" in header[1] and header[4] == "Section"  # `header?(row)`
    assignments = [(i, h) for i, h in enumerate(header) if i >= 5 and not h.startswith(NON_ASSIGNMENT)]
    result = dict(grades)
    for row in table[1:]:
        if "Points Possible" in row[0]:  # `if row[0]&.include?("Points Possible")`
            continue
        # `student = @all_students[student_id.to_i] if student_id.present?`; si no, por el nombre
        sid = row[1].strip()
        user = int(sid) if sid.isdigit() and int(sid) in CANVAS_STUDENTS else None
        if user is None:
            user = next((u for u, names in CANVAS_STUDENTS.items() if row[0] in names), f"nuevo: {row[0]}")
        for i, assignment in assignments:
            grade = row[i].strip() if row[i] is not None else None  # `grade = row[assignment_index]&.strip`
            original = result.get((user, assignment))
            if canvas_no_change(grade, original):
                continue
            # `gradeData[assignmentId][studentId] = {posted_grade: submission.grade}`: vacío = sin nota
            result[user, assignment] = grade or None
    return result


CANVAS_BEFORE = {(48214, "01_atencion"): "EX", (48215, "00_preliminares"): "6"}


def test_the_canvas_importer_rules_erase_a_blank_cell() -> None:
    old = [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00_preliminares", "01_atencion", "Final Points"],
        ["Pérez, Luis", "48214", "", "", "", "4", "", "4"],
    ]
    assert canvas_import(old, CANVAS_BEFORE)[48214, "01_atencion"] is None  # la exención, borrada


def test_canvas_files_change_only_the_grades_of_their_students() -> None:
    rows = [
        Row("48213", "Ana", "García", "", "48213", {"00_preliminares": 10.0, "01_atencion": 12.5}),
        Row("48214", "Luis", "Pérez", "", "48214", {"00_preliminares": 4.0, "01_atencion": None}),
        Row("eva_ruiz", "Eva", "Ruiz", "", "", {"00_preliminares": 6.0, "01_atencion": None}),
        Row("anon_Zt9Lm", "", "", "", "", {"00_preliminares": None, "01_atencion": 15.0}),
    ]
    files, left, _ = export.lms_files("canvas", MAXIMA, rows, {}, WHEN)
    after = dict(CANVAS_BEFORE)
    for notebook, max_score in MAXIMA.items():
        table = files[f"notas_canvas_{notebook}.csv"]
        assert table[1] == ["Points Possible", "", "", "", "", f"{max_score:g}"]
        assert all(row[1].isdigit() for row in table[2:]), "una fila sin ID: Canvas la busca por el nombre"
        after = canvas_import(table, after)
    assert after == {
        (48213, "00_preliminares"): "10",
        (48213, "01_atencion"): "12.5",
        (48214, "00_preliminares"): "4",
        (48214, "01_atencion"): "EX",  # sin entrega: la exención sigue
        (48215, "00_preliminares"): "6",  # Eva no está en el archivo
    }
    assert sorted((i.student, i.reason.split(":")[0]) for i in left) == [
        ("anon_Zt9Lm", "entrega anónima"),
        ("eva_ruiz", "no tiene id de usuario de Canvas (no está en la lista de clase ni en una recogida de Canvas)"),
    ]


# --- make export: el LMS de las recogidas, los archivos, el informe -----------------------------


@dataclass
class FakeAssignment:
    name: str
    max_score: float


@dataclass
class FakeStudent:
    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str


class FakeGradebook:
    """Lo que lee :func:`export.gradebook_rows` de un ``nbgrader.api.Gradebook``."""

    def __init__(self, rows: list[Row]) -> None:
        self.assignments = [FakeAssignment(n, m) for n, m in MAXIMA.items()]
        self.students = [FakeStudent(r.id, r.first_name, r.last_name, r.email, r.lms_id) for r in rows]
        self._scores = {(n, r.id): s for r in rows for n, s in r.scores.items()}

    def find_submission(self, assignment: str, student: str):
        score = self._scores.get((assignment, student))
        if score is None:
            raise MissingEntry()
        return SimpleNamespace(score=score)


def course_with_records(tmp_path: Path, records: dict) -> Path:
    for notebook, record in records.items():
        path = tmp_path / "downloaded" / notebook / "entregas.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(record), encoding="utf-8")
    return tmp_path


def run_export(course: Path, lms: str, monkeypatch, caplog) -> str:
    monkeypatch.chdir(course)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="prueba_export"):
        export.LMSExport(lms=lms, log=logging.getLogger("prueba_export")).export(FakeGradebook(ROWS))
    return caplog.text


def test_export_uses_the_lms_of_the_download_and_says_what_is_left_out(tmp_path, monkeypatch, caplog) -> None:
    course = course_with_records(tmp_path, RECORDS)
    old = course / "para_el_lms" / "notas_moodle.csv"
    old.parent.mkdir()
    old.write_text("id_lms,00_preliminares\nluis@uni.es,\n", encoding="utf-8")
    log = run_export(course, "", monkeypatch, caplog)  # sin LMS: el de la recogida
    out = course / "para_el_lms"
    assert sorted(p.name for p in out.iterdir()) == [
        "hoja_moodle_00_preliminares.csv", "hoja_moodle_01_atencion.csv", "notas_moodle_00_preliminares.csv",
        "notas_moodle_01_atencion.csv", "sin_subir_moodle.txt",
    ]  # fmt: skip
    assert "borrado notas_moodle.csv (su formato borraba notas al importarlo)" in log
    assert "ATENCIÓN: 4 notas NO están en los archivos para Moodle" in log
    report = (out / "sin_subir_moodle.txt").read_text(encoding="utf-8")
    assert "  - eva_ruiz: 6 de 10 puntos." in report
    assert "Arreglo: sube su nota con hoja_moodle_00_preliminares.csv, donde sí está." in report  # la hoja la tiene
    assert read_csv(out / "notas_moodle_00_preliminares.csv")[1] == ["ana@uni.es", "ana@uni.es", "Ana", "García", "10"]

    # Todo arreglado: el informe de antes se borra; sin notas, no hay archivo.
    monkeypatch.setattr(export, "lms_files", lambda *args: ({}, [], []))
    log = run_export(course, "moodle", monkeypatch, caplog)
    assert not (out / "sin_subir_moodle.txt").exists() and "No hay notas que exportar para Moodle" in log


def test_export_refuses_to_guess_between_two_lms(tmp_path, monkeypatch, caplog) -> None:
    course = course_with_records(tmp_path, {"00_preliminares": {"lms": "moodle"}, "01_atencion": {"lms": "canvas"}})
    with pytest.raises(export.ExportError, match=r"00_preliminares: moodle; 01_atencion: canvas.*make export LMS="):
        export.resolve_lms(course)
    with pytest.raises(SystemExit):
        run_export(course, "", monkeypatch, caplog)
    assert "Las recogidas no son del mismo LMS" in caplog.text
    assert export.resolve_lms(course, "canvas") == "canvas"  # dicho en la orden: manda
    assert export.resolve_lms(tmp_path / "otro") == "convencion"  # sin recogidas
    with pytest.raises(export.ExportError, match="no es un formato conocido"):
        export.resolve_lms(course, "sakai")
