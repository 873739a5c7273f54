"""Lo que vuelve al LMS, sin nbgrader: el CSV de la convención y el zip de comentarios.

Los nombres del zip se comprueban con las reglas con que los leen los LMS (el importador de
comentarios de Moodle, ``assignfeedback_file``, y «Volver a subir entregas» de Canvas), escritas
aquí como funciones. Los archivos de notas para Moodle y Canvas, con las reglas de sus importadores,
están en tests/test_moodle_canvas.py; el recorrido completo con nbgrader, en tests/test_flujo_lms.py.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from course_grading import export, handback
from course_grading.export import Row, convention_table
from course_grading.handback import HandbackError, pack_feedback

MAXIMA = {"00_preliminares": 10.0, "01_atencion": 20.0}
ROWS = [
    Row("agarcia", "Ana", "García", "ana@uni.es", "48213", {"00_preliminares": 10.0, "01_atencion": 12.5}),
    Row("lperez", "Luis", "Pérez", "luis@uni.es", "", {"00_preliminares": 4.0, "01_atencion": None}),
]


def moodle_participant(path: str) -> tuple[str, str] | None:
    """(participante, archivo) como lo lee Moodle: la primera parte ``nombre_<n>_<tipo>_<plugin>[_resto]``."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit() and info[2] == "assignsubmission" and info[3] == "file":
            return info[1], "/".join([info[4] if len(info) == 5 else "", *parts[i + 1 :]]).strip("/")
    return None


def canvas_user_and_attachment(name: str) -> tuple[str, str] | None:
    """(usuario, archivo) como los lee Canvas: los dos primeros trozos numéricos del nombre partido por ``_``."""
    numbers = [piece for piece in name.split("_") if re.fullmatch(r"\d+", piece)][:2]
    return tuple(numbers) if len(numbers) == 2 else None


def test_convention_table_has_one_row_per_student_and_blank_without_submission() -> None:
    table = convention_table(MAXIMA, ROWS)
    assert table[0] == ["id", "nombre", "apellidos", "email", "id_lms", "00_preliminares", "01_atencion", "total"]
    assert table[1] == ["agarcia", "Ana", "García", "ana@uni.es", "48213", "10", "12.5", "22.5"]
    assert table[2] == ["lperez", "Luis", "Pérez", "luis@uni.es", "", "4", "", "4"]  # sin entrega: vacío, no 0


def course_with_feedback(tmp_path: Path, lms: str, students: dict[str, dict]) -> Path:
    for student in [*students, "sin_registro"]:
        html = tmp_path / "feedback" / student / "00_preliminares" / "00_preliminares.html"
        html.parent.mkdir(parents=True)
        html.write_text(f"<html>{student}</html>", encoding="utf-8")
    record = tmp_path / "downloaded" / "00_preliminares" / "entregas.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"lms": lms, "alumnos": students}), encoding="utf-8")
    return tmp_path


def test_moodle_zip_has_one_folder_per_participant_as_moodle_reads_it(tmp_path: Path) -> None:
    course = course_with_feedback(
        tmp_path,
        "moodle",
        {
            "ana_garcia": {"prefijo": "Ana García_1234567_assignsubmission_file"},
            "participante_99": {"prefijo": "Participante_99_assignsubmission_file"},
        },
    )
    out, packed, warnings = pack_feedback(course, "00_preliminares")
    assert out == course / "para_el_lms" / "comentarios_00_preliminares_moodle.zip"
    assert packed == ["ana_garcia", "participante_99"]
    assert warnings == ["sin_registro: no viene de la descarga de Moodle; súbelo a mano"]
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert [moodle_participant(n) for n in names] == [
            ("1234567", "00_preliminares_comentarios.html"),
            ("99", "00_preliminares_comentarios.html"),
        ]
        assert z.read(names[0]).decode() == "<html>ana_garcia</html>"


def test_canvas_zip_keeps_the_download_prefix_and_skips_anonymous(tmp_path: Path) -> None:
    course = course_with_feedback(
        tmp_path,
        "canvas",
        {
            "48214": {"prefijo": "perezluis_LATE_48214_901002"},
            "anon_Zt9Lm": {"prefijo": "LATE_anon_Zt9Lm_901004"},
        },
    )
    out, packed, warnings = pack_feedback(course, "00_preliminares")
    assert packed == ["48214"] and len(warnings) == 2 and "anónima" in warnings[0]
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["perezluis_LATE_48214_901002_00_preliminares_comentarios.html"]
        assert canvas_user_and_attachment(z.namelist()[0]) == ("48214", "901002")


def test_devolver_warns_that_canvas_renames_the_feedback(tmp_path: Path, monkeypatch, capsys) -> None:
    course = course_with_feedback(tmp_path, "canvas", {"48214": {"prefijo": "perezluis_48214_901002"}})
    monkeypatch.chdir(course)
    assert handback.main(["--cuaderno", "00_preliminares"]) == 0
    assert "Canvas adjunta cada comentario con el nombre del archivo que entregó" in capsys.readouterr().out


def test_convention_zip_and_refusals(tmp_path: Path) -> None:
    course = course_with_feedback(tmp_path, "convencion", {"ana": {"prefijo": ""}})
    out, packed, _ = pack_feedback(course, "00_preliminares")
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["ana/00_preliminares.html", "sin_registro/00_preliminares.html"]
    with pytest.raises(HandbackError, match="make recoger LMS=canvas"):
        pack_feedback(course, "00_preliminares", "canvas")
    with pytest.raises(HandbackError, match="make feedback"):
        pack_feedback(course, "01_atencion")


def test_recorded_canvas_ids_and_names_fill_the_gradebook_rows(tmp_path: Path) -> None:
    course_with_feedback(
        tmp_path, "canvas", {"lperez": {"id_lms": "48214", "nombre": "perezluis"}, "anon_x": {"id_lms": "anon_x"}}
    )
    assert export.recorded_students(tmp_path) == {
        "lperez": {"nombre": "perezluis", "id_lms": "48214"},
        "anon_x": {"nombre": "", "id_lms": ""},  # una entrega anónima no da el usuario
    }
    moodle = tmp_path / "downloaded" / "01_atencion" / "entregas.json"
    moodle.parent.mkdir()
    moodle.write_text(json.dumps({"lms": "moodle", "alumnos": {"eva": {"id_lms": "123", "nombre": "Eva Ruiz"}}}))
    assert export.recorded_students(tmp_path)["eva"] == {"nombre": "Eva Ruiz", "id_lms": ""}  # participante: no
