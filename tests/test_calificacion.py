"""Corrección de principio a fin con nbgrader, como la haría un docente.

Para cada cuaderno se entregan: la solución (nota máxima), la versión del alumnado
sin tocar (0 en cada celda calificada) y los errores frecuentes sembrados. Para
corregir menos cuadernos, los errores se reparten en rondas: la ronda k lleva el
k-ésimo error de cada ejercicio. Cada error debe hacer perder puntos a SU ejercicio
y mostrar su pista en español en el cuaderno corregido y en los comentarios HTML; los
ejercicios sin error en esa ronda conservan la nota máxima (un error no arrastra a otros).
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.cuadernos import (
    ASSIGNMENTS,
    MISTAKES,
    Mistake,
    answer_sources,
    filled_release,
    grade_cells,
    nbgrader,
    per_assignment,
    read,
    release_path,
)

pytestmark = pytest.mark.cuadernos

STUDENTS_OK = "solucion"
STUDENTS_BLANK = "sin_tocar"
STUDENTS_LAST_ONLY = "solo_ultimo"  # responde solo al último ejercicio, que suele usar los anteriores
MISTAKE_CASES = [(a, m) for a in ASSIGNMENTS for m in MISTAKES.get(a, [])]


def rounds(assignment: str) -> dict[str, list[Mistake]]:
    """``{alumno: errores}``: la ronda k lleva el k-ésimo error sembrado de cada ejercicio."""
    by_exercise: dict[str, list[Mistake]] = {}
    for mistake in MISTAKES.get(assignment, []):
        by_exercise.setdefault(mistake.grade_id, []).append(mistake)
    depth = max((len(ms) for ms in by_exercise.values()), default=0)
    return {f"errores_{k + 1}": [ms[k] for ms in by_exercise.values() if k < len(ms)] for k in range(depth)}


def student_of(assignment: str, mistake: Mistake) -> tuple[str, list[Mistake]]:
    return next((student, ms) for student, ms in rounds(assignment).items() if mistake in ms)


def answers_with(assignment: str, mistakes: list[Mistake]) -> dict[str, str]:
    """Las respuestas correctas con los errores indicados sembrados (uno por ejercicio)."""
    answers = answer_sources(assignment)
    for mistake in mistakes:
        answers[mistake.grade_id] = mistake.answers(assignment)[mistake.grade_id]
    return answers


def submit(course: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> None:
    target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


@pytest.fixture(scope="session")
def graded(courses: dict[str, Path]) -> dict[tuple[str, str], dict[str, float]]:
    """Entrega, corrige, genera comentarios y exporta cada cuaderno; devuelve las notas por celda."""

    def grade(assignment: str) -> dict[str, dict[str, float]]:
        course = courses[assignment]
        submit(course, STUDENTS_OK, assignment, filled_release(assignment))
        submit(course, STUDENTS_BLANK, assignment, read(release_path(assignment)))
        last = list(answer_sources(assignment))[-1]
        only_last = {last: answer_sources(assignment)[last]}
        submit(course, STUDENTS_LAST_ONLY, assignment, filled_release(assignment, only_last))
        for student, mistakes in rounds(assignment).items():
            submit(course, student, assignment, filled_release(assignment, answers_with(assignment, mistakes)))
        nbgrader("autograde", assignment, "--force", cwd=course)
        nbgrader("generate_feedback", assignment, "--force", cwd=course)
        nbgrader("export", cwd=course)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            return {
                submission.student_id: {
                    g.name: g.score
                    for g in gb.find_submission_notebook(assignment, assignment, submission.student_id).grades
                }
                for submission in gb.assignment_submissions(assignment)
            }

    return {
        (assignment, student): scores
        for assignment, by_student in per_assignment(grade).items()
        for student, scores in by_student.items()
    }


def exercise_of(test_id: str, answers: list[str]) -> str:
    """``test_SelfAttention_forward`` → ``SelfAttention``."""
    return next(a for a in sorted(answers, key=len, reverse=True) if test_id.startswith(f"test_{a}"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_a_seeded_mistake(assignment: str) -> None:
    covered = {m.grade_id for m in MISTAKES.get(assignment, [])}
    missing = sorted(set(answer_sources(assignment)) - covered)
    assert not missing, f"sin error frecuente sembrado en tests/errores_frecuentes/c{assignment}.py: {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded: dict, assignment: str) -> None:
    expected = grade_cells(assignment)
    assert graded[(assignment, STUDENTS_OK)] == expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_gets_zero_everywhere(graded: dict, assignment: str) -> None:
    scores = graded[(assignment, STUDENTS_BLANK)]
    assert set(scores) == set(grade_cells(assignment))
    assert all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_exercise_does_not_need_the_previous_ones(graded: dict, assignment: str) -> None:
    """Con solo el último ejercicio respondido, ese ejercicio saca su nota y los demás 0."""
    scores = graded[(assignment, STUDENTS_LAST_ONLY)]
    answers = list(answer_sources(assignment))
    for cell, points in grade_cells(assignment).items():
        expected = points if exercise_of(cell, answers) == answers[-1] else 0
        assert scores[cell] == expected, f"{cell}: {scores[cell]} en vez de {expected}"


@pytest.mark.parametrize(("assignment", "mistake"), MISTAKE_CASES, ids=[f"{a}-{m.name}" for a, m in MISTAKE_CASES])
def test_mistake_loses_points_with_spanish_hint(courses: dict, graded: dict, assignment: str, mistake) -> None:
    course = courses[assignment]
    student, mistakes = student_of(assignment, mistake)
    scores = graded[(assignment, student)]
    full = grade_cells(assignment)
    answers = list(answer_sources(assignment))
    own = [cell for cell in full if exercise_of(cell, answers) == mistake.grade_id]
    assert sum(scores[c] for c in own) < sum(full[c] for c in own), f"{mistake.name} obtuvo la nota máxima"
    with_mistakes = {m.grade_id for m in mistakes}
    for cell, points in full.items():
        if exercise_of(cell, answers) not in with_mistakes:
            assert scores[cell] == points, f"{student} perdió puntos en {cell}, un ejercicio sin errores"

    autograded = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    outputs = json.dumps([c.get("outputs", []) for c in read(autograded).cells], ensure_ascii=False)
    assert mistake.hint in outputs, f"la pista «{mistake.hint}» no aparece en el cuaderno corregido"

    feedback = (course / "feedback" / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", feedback))
    assert mistake.hint in text, f"la pista «{mistake.hint}» no aparece en los comentarios HTML"
    assert "BEGIN HIDDEN TESTS" not in feedback


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_export_csv_has_every_student(courses: dict, graded: dict, assignment: str) -> None:
    with open(courses[assignment] / "grades.csv", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == assignment}
    maximum = sum(grade_cells(assignment).values())
    assert set(rows) == {STUDENTS_OK, STUDENTS_BLANK, STUDENTS_LAST_ONLY, *rounds(assignment)}
    assert float(rows[STUDENTS_OK]["score"]) == float(rows[STUDENTS_OK]["max_score"]) == maximum
    assert float(rows[STUDENTS_BLANK]["score"]) == 0
