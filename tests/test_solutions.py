"""course_lib.solutions: una solución de referencia para cada ejercicio, que el alumno tiene que pedir."""

from __future__ import annotations

import pytest

from course_lib import solutions
from tests.cuadernos import ASSIGNMENTS, nbgrader_meta, read, solution_path


def exercises(assignment: str) -> list[str]:
    nb = read(solution_path(assignment))
    return [
        nbgrader_meta(c)["grade_id"] for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_a_reference_and_a_pointer_the_student_must_follow(assignment: str) -> None:
    nb = read(solution_path(assignment))
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for name in exercises(assignment):
        assert name in solutions.REFERENCES, name
        assert f'solutions.show("{name}")' in text, f"{assignment}: falta cómo ver la solución de {name}"
        kind = "class" if solutions.source(name).lstrip().startswith("class") else "def"
        assert f"{kind} {name}(" in solutions.source(name)


def test_show_prints_the_reference_and_refuses_unknown_names(capsys) -> None:
    solutions.show("beam_search")
    out = capsys.readouterr().out
    assert out.startswith("Solución de referencia de «beam_search»: course_lib.decode.beam_search")
    assert "def beam_search(" in out and "course_lib/decode.py" in out
    with pytest.raises(ValueError, match="No conozco el ejercicio 'beamsearch'"):
        solutions.show("beamsearch")
