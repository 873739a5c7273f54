"""Los nombres de las descargas de Moodle y de Canvas, tal como los generan, y la lista de clase.

Sin nbgrader: :func:`course_grading.lms.classify` sobre archivos con las rutas exactas de cada
descarga (carpetas por participante de Moodle 4.1+ y anteriores, archivos con prefijo, calificación
anónima, entregas tardías y reenvíos de Canvas). El recorrido completo con ``make corregir-todo``
está en tests/test_flujo_lms.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_grading import lms, presets
from course_grading.roster import RosterError, Student, read_class_list

NOTEBOOK = "00_preliminares.ipynb"


def classify(tmp_path: Path, names: list[str], preset: str, roster=(), notebooks=(NOTEBOOK,)) -> dict[str, lms.Entry]:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}", encoding="utf-8")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    return {e.shown: e for e in lms.classify(files, tmp_path, list(notebooks), lms=preset, roster=roster)}


# --- Moodle ---------------------------------------------------------------------------------------


def test_moodle_folders_prefixes_and_blind_marking(tmp_path: Path) -> None:
    names = [
        "Ana García López_1234567_assignsubmission_file/00_preliminares.ipynb",  # Moodle ≥ 4.1
        "Luis Pérez_1234570_assignsubmission_file_/Copia de 00_preliminares (1).ipynb",  # hasta 4.0
        "Eva Ruiz_1234571_assignsubmission_file_00_preliminares.ipynb",  # sin carpetas
        "Participante_1234572_assignsubmission_file/00_preliminares.ipynb",  # calificación anónima
        "Eva Ruiz_1234571_assignsubmission_onlinetext_onlinetext.html",  # texto en línea
        "Juan Gil_1234573_assignsubmission_file/mi tarea.ipynb",  # otro nombre: la tarea tiene un cuaderno
        "Rosa Sanz_1234574_assignsubmission_file/00_preliminares.pdf",
        "notas del profesor.ipynb",
    ]
    entries = classify(tmp_path, names, presets.MOODLE)
    got = {shown: (e.status, e.student_id) for shown, e in entries.items()}
    assert got == {
        names[0]: (lms.IMPORTED, "ana_garcia_lopez"),
        names[1]: (lms.IMPORTED, "luis_perez"),
        names[2]: (lms.IMPORTED, "eva_ruiz"),
        names[3]: (lms.IMPORTED, "participante_1234572"),
        names[4]: (lms.IGNORED, ""),
        names[5]: (lms.IMPORTED, "juan_gil"),
        names[6]: (lms.UNRECOGNISED, ""),
        names[7]: (lms.UNRECOGNISED, ""),
    }
    ana, luis, eva = entries[names[0]].lms, entries[names[1]].lms, entries[names[2]].lms
    assert (ana.lms_id, ana.name, ana.prefix) == ("1234567", "Ana García López", names[0].split("/")[0])
    assert luis.prefix == "Luis Pérez_1234570_assignsubmission_file" and entries[names[1]].renamed
    assert eva.prefix == "Eva Ruiz_1234571_assignsubmission_file" and eva.file == NOTEBOOK
    assert entries[names[3]].lms.anonymous
    assert entries[names[5]].uploaded_as == "mi tarea.ipynb"
    assert "participante de Moodle" in entries[names[7]].reason
    report = lms.report(list(entries.values()))
    assert "subido como mi tarea.ipynb" in report and "anónima" in report


def test_moodle_same_name_twice_and_two_files_of_one_participant(tmp_path: Path) -> None:
    names = [
        "Ana García_11_assignsubmission_file/00_preliminares.ipynb",
        "Ana García_12_assignsubmission_file/00_preliminares.ipynb",  # otra Ana García
        "Luis Pérez_13_assignsubmission_file/00_preliminares.ipynb",
        "Luis Pérez_13_assignsubmission_file/00_preliminares (2).ipynb",  # dos archivos en una entrega
    ]
    entries = classify(tmp_path, names, presets.MOODLE)
    assert entries[names[0]].student_id == "ana_garcia_11" and entries[names[1]].student_id == "ana_garcia_12"
    assert entries[names[2]].status == entries[names[3]].status == lms.UNRECOGNISED
    assert "hay 2 archivos de luis_perez" in entries[names[2]].reason


def test_moodle_names_are_found_in_the_class_list(tmp_path: Path) -> None:
    roster = [
        Student("agarcia", "Ana", "García López", "ana@uni.es", "ana@uni.es"),
        Student("lperez", "Luis", "Pérez", "luis@uni.es"),
    ]
    names = [
        "ANA GARCIA LOPEZ_21_assignsubmission_file/00_preliminares.ipynb",  # sin tildes, en mayúsculas
        "Pérez, Luis_22_assignsubmission_file/00_preliminares.ipynb",  # «Apellidos, Nombre»
        "Marta Gómez_23_assignsubmission_file/00_preliminares.ipynb",  # no está en la lista
    ]
    entries = classify(tmp_path, names, presets.MOODLE, roster)
    assert [(entries[n].student_id, entries[n].listed) for n in names] == [
        ("agarcia", True),
        ("lperez", True),
        ("marta_gomez", False),
    ]
    assert lms.summary(list(entries.values())).endswith("; 1 fuera de la lista de clase: marta_gomez.")


# --- Canvas ---------------------------------------------------------------------------------------


def test_canvas_late_resubmission_and_anonymous(tmp_path: Path) -> None:
    names = [
        "garcialopezana_48213_901001_00_preliminares.ipynb",
        "perezluis_LATE_48214_901002_00_preliminares-1.ipynb",  # tarde y vuelto a subir
        "anon_xK3pQ_901003_00_preliminares.ipynb",
        "LATE_anon_Zt9Lm_901004_00_preliminares.ipynb",
        "ruizeva_48215_901005_Copia de 00_preliminares.ipynb",  # guardada con «Guardar una copia en Drive»
        "00_preliminares.ipynb",  # añadido a mano: no viene de Canvas
    ]
    entries = classify(tmp_path, names, presets.CANVAS)
    got = {shown: (e.status, e.student_id) for shown, e in entries.items()}
    assert got == {
        names[0]: (lms.IMPORTED, "48213"),
        names[1]: (lms.IMPORTED, "48214"),
        names[2]: (lms.IMPORTED, "anon_xK3pQ"),
        names[3]: (lms.IMPORTED, "anon_Zt9Lm"),
        names[4]: (lms.IMPORTED, "48215"),
        names[5]: (lms.UNRECOGNISED, ""),
    }
    luis = entries[names[1]].lms
    assert (luis.late, luis.prefix, luis.file, luis.name) == (
        True,
        "perezluis_LATE_48214_901002",
        NOTEBOOK,
        "perezluis",
    )
    assert not entries[names[0]].lms.late and entries[names[3]].lms.late and entries[names[3]].lms.anonymous
    assert entries[names[3]].lms.prefix == "LATE_anon_Zt9Lm_901004"
    assert entries[names[4]].renamed
    assert "Canvas" in entries[names[5]].reason
    assert "TARDE según el LMS" in lms.report(list(entries.values()))


def test_canvas_ids_are_found_in_the_class_list_and_unknown_ones_reported(tmp_path: Path) -> None:
    roster = [Student("agarcia", "Ana", "García", lms_id="48213")]
    names = ["garciaana_48213_901001_00_preliminares.ipynb", "intrusoe_99999_901009_00_preliminares.ipynb"]
    entries = classify(tmp_path, names, presets.CANVAS, roster)
    assert [(entries[n].student_id, entries[n].listed) for n in names] == [("agarcia", True), ("99999", False)]
    assert "NO ESTÁ EN LA LISTA DE CLASE" in lms.report(list(entries.values()))


def test_names_with_accents_and_enye_are_found_in_the_class_list(tmp_path: Path) -> None:
    # Cómo llegan del zip estos nombres, con la marca de UTF-8 o sin ella: tests/test_nombres_zip.py.
    roster = [
        Student("jmunoz", "José", "Muñoz García", lms_id="48213"),
        Student("bnunez", "Begoña", "Núñez Peña", lms_id="48214"),
        Student("ibanez", "", "Ibáñez", lms_id="48215"),
    ]
    moodle = [
        "Muñoz García, José_31_assignsubmission_file/00_preliminares.ipynb",
        "Begoña Núñez Peña_32_assignsubmission_file/00_preliminares.ipynb",
        "Ibáñez_33_assignsubmission_file/00_preliminares.ipynb",
    ]
    canvas = [
        "muñozgarcíajosé_48213_901001_00_preliminares.ipynb",
        "núñezpeñabegoña_LATE_48214_901002_00_preliminares.ipynb",
        "ibáñez_48215_901003_00_preliminares.ipynb",
    ]
    expected = [("jmunoz", True), ("bnunez", True), ("ibanez", True)]
    entries = classify(tmp_path / "moodle", moodle, presets.MOODLE, roster)
    assert [(entries[n].student_id, entries[n].listed) for n in moodle] == expected
    entries = classify(tmp_path / "canvas", canvas, presets.CANVAS, roster)
    assert [(entries[n].student_id, entries[n].listed) for n in canvas] == expected
    assert [entries[n].lms.name for n in canvas] == ["muñozgarcíajosé", "núñezpeñabegoña", "ibáñez"]


def test_lms_file_must_be_a_notebook_of_the_assignment_when_it_has_several(tmp_path: Path) -> None:
    entries = classify(
        tmp_path,
        ["garciaana_1_2_otro.ipynb", "perezluis_3_4_00_preliminares.ipynb"],
        presets.CANVAS,
        notebooks=(NOTEBOOK, "extra.ipynb"),
    )
    assert entries["garciaana_1_2_otro.ipynb"].status == lms.UNRECOGNISED
    assert "no es un cuaderno de esta tarea" in entries["garciaana_1_2_otro.ipynb"].reason
    assert entries["perezluis_3_4_00_preliminares.ipynb"].status == lms.IMPORTED


def test_convention_with_a_class_list_reports_who_is_not_in_it(tmp_path: Path) -> None:
    entries = classify(
        tmp_path, ["ana__00_preliminares.ipynb", "pepe__00_preliminares.ipynb"], presets.CONVENTION, [Student("ana")]
    )
    assert entries["ana__00_preliminares.ipynb"].listed is True
    assert entries["pepe__00_preliminares.ipynb"].listed is False


def test_unknown_preset_is_refused_in_spanish(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LMS='blackboard' no es un formato conocido"):
        lms.classify([], tmp_path, [NOTEBOOK], lms="blackboard")


def test_record_keeps_earlier_students_of_the_same_lms(tmp_path: Path) -> None:
    first = classify(tmp_path / "a", ["garciaana_48213_901001_00_preliminares.ipynb"], presets.CANVAS)
    lms.write_record(list(first.values()), tmp_path / "registro", presets.CANVAS)
    later = classify(tmp_path / "b", ["perezluis_LATE_48214_901002_00_preliminares.ipynb"], presets.CANVAS)
    path = lms.write_record(list(later.values()), tmp_path / "registro", presets.CANVAS)
    import json

    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["lms"] == "canvas" and set(record["alumnos"]) == {"48213", "48214"}
    assert record["alumnos"]["48214"]["prefijo"] == "perezluis_LATE_48214_901002"
    assert record["alumnos"]["48214"]["tarde"] is True
    lms.write_record(list(first.values()), tmp_path / "registro", presets.MOODLE)  # otro LMS: de nuevo
    assert set(json.loads(path.read_text(encoding="utf-8"))["alumnos"]) == {"48213"}


# --- La lista de clase ----------------------------------------------------------------------------


def test_class_list_accepts_spanish_excel_and_english_headers(tmp_path: Path) -> None:
    spanish = tmp_path / "clase.csv"
    spanish.write_text(
        "\ufeffID;Nombre;Apellidos;Correo electrónico;ID_LMS\nagarcia;Ana;García López;ana@uni.es;48213\n\n", "utf-8"
    )
    assert read_class_list(spanish) == [Student("agarcia", "Ana", "García López", "ana@uni.es", "48213")]
    english = tmp_path / "class.csv"
    english.write_text("student id,First name,Last name,Email address\nlperez,Luis,Pérez,l@uni.es\n", "utf-8")
    assert read_class_list(english) == [Student("lperez", "Luis", "Pérez", "l@uni.es", "")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nombre,apellidos\nAna,García\n", "falta la columna «id»"),
        ("id,nombre\nana garcia,Ana\n", "fila 2: el id «ana garcia» no vale"),
        ("id,nombre\nana,Ana\nana,Ana B.\n", "el id «ana» está en las filas 2 y 3"),
        ("id,id_lms\nana,7\nluis,7\n", "el id_lms «7» está en las filas 2 y 3"),
        ("", "está vacío"),
    ],
)
def test_class_list_errors_name_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clase.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        read_class_list(path)
