"""Entregas hostiles y rotas corregidas con nbgrader en una sola pasada (tests/hostiles.py).

Se comprueba, para cada entrega, la nota de cada celda calificada: ninguna trampa da puntos
que no se merecen y ninguna entrega rota para la corrección ni quita puntos a lo que no
rompió. Las trampas marcadas ``beats_naive`` se corrigen además con nbgrader configurado sin
las defensas del curso: ahí SÍ sacan puntos indebidos (así se sabe que cada trampa es real y
que lo que la frena son las defensas, no un error de la propia trampa).
"""

from __future__ import annotations

import csv
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from course_grading.sandbox import isolation_available
from tests.cuadernos import grade_cells, make_course, nbgrader
from tests.hostiles import ASSIGNMENT, CORPUS, Hostile

pytestmark = pytest.mark.cuadernos

TIMEOUT = 10  # s por celda: basta para 00 en modo rápido y abarata los bucles infinitos
ISOLATED = isolation_available()
# Lo mínimo para corregir con nbgrader, sin ninguna defensa (lo que haría un docente con prisa).
NAIVE_CONFIG = f"""
c = get_config()
c.CourseDirectory.course_id = "ingenuo"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.ExecutePreprocessor.timeout = {TIMEOUT}
"""


def _submit(course: Path, hostile: Hostile) -> None:
    folder = course / "submitted" / hostile.student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    content = hostile.build()
    if isinstance(content, bytes):
        (folder / hostile.filename).write_bytes(content)
    elif content is not None:
        nbformat.write(content, folder / hostile.filename)


def _grade(course: Path, students: list[Hostile], env: dict[str, str]) -> dict:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for hostile in students:  # la lista de clase, como la importaría el docente
            gb.update_or_create_student(hostile.student)
    for hostile in students:
        _submit(course, hostile)
    start = time.perf_counter()
    log = nbgrader("autograde", ASSIGNMENT, "--force", cwd=course, check=False, env=env)
    seconds = time.perf_counter() - start
    nbgrader("export", cwd=course, env=env)
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for hostile in students:
            try:
                grades = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, hostile.student).grades
                scores[hostile.student] = {g.name: g.score for g in grades}
            except MissingEntry:
                scores[hostile.student] = {}
    with open(course / "grades.csv", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    return {"scores": scores, "rows": rows, "log": log.stdout + log.stderr, "seconds": seconds, "course": course}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Dos cursos: el del repositorio (con defensas) y uno ingenuo; se corrigen a la vez."""
    hardened = make_course(tmp_path_factory.mktemp("curso_hostil"), ASSIGNMENT)
    with open(hardened / "nbgrader_config.py", "a", encoding="utf-8") as f:
        f.write(f"\nc.GuardedExecute.timeout = {TIMEOUT}\nc.GuardedExecute.probe_timeout = 5\n")
    naive = make_course(tmp_path_factory.mktemp("curso_ingenuo"), ASSIGNMENT)
    (naive / "nbgrader_config.py").write_text(NAIVE_CONFIG, encoding="utf-8")
    for course in (hardened, naive):
        nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    env = {"CURSO_AISLAMIENTO": "obligatorio" if ISOLATED else "si_es_posible"}
    jobs = {"defensas": (hardened, CORPUS), "ingenuo": (naive, [h for h in CORPUS if h.beats_naive])}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_grade, course, students, env) for name, (course, students) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def _cases(naive: bool = False) -> list:
    chosen = [h for h in CORPUS if h.beats_naive] if naive else CORPUS
    return [pytest.param(h, id=h.student) for h in chosen]


@pytest.mark.parametrize("hostile", _cases())
def test_each_cell_gets_what_it_deserves(runs: dict, hostile: Hostile) -> None:
    if hostile.student == "lee_soluciones" and not ISOLATED:
        pytest.skip(
            "Este sistema no permite aislar el núcleo (unshare sin privilegios): la entrega puede leer el curso."
        )
    run = runs["defensas"]
    obtained = {cell: run["scores"][hostile.student].get(cell, 0.0) for cell in hostile.expected}
    assert obtained == hostile.expected, f"{hostile.student} ({hostile.kind}): {obtained}"
    row = run["rows"][hostile.student]
    assert float(row["score"]) == sum(hostile.expected.values())


def test_no_wrong_full_marks_and_the_run_completes(runs: dict) -> None:
    """Las cifras de la guía para docentes: notas máximas indebidas y corridas caídas."""
    run = runs["defensas"]
    maximum = sum(grade_cells(ASSIGNMENT).values())
    undeserved = [h.student for h in CORPUS if float(run["rows"][h.student]["score"]) > sum(h.expected.values())]
    assert not undeserved
    assert set(run["rows"]) >= {h.student for h in CORPUS}, "faltan alumnos en grades.csv: la corrección se paró"
    cheats = [h for h in CORPUS if h.kind == "trampa"]
    assert all(float(run["rows"][h.student]["score"]) < maximum for h in cheats)
    print(f"\n{len(CORPUS)} entregas hostiles o rotas corregidas en {run['seconds']:.0f} s; 0 notas máximas indebidas.")


@pytest.mark.parametrize("hostile", _cases(naive=True))
def test_the_cheat_is_real_without_the_course_defences(runs: dict, hostile: Hostile) -> None:
    score = float(runs["ingenuo"]["rows"][hostile.student]["score"])
    assert score > sum(hostile.expected.values()), (
        f"la trampa {hostile.student} no engaña ni a nbgrader sin defensas: no prueba nada"
    )


def test_huge_output_is_trimmed(runs: dict) -> None:
    path = runs["defensas"]["course"] / "autograded" / "salida_enorme" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 2_000_000, f"el cuaderno corregido ocupa {path.stat().st_size} bytes"
    assert "salida recortada" in path.read_text(encoding="utf-8")


def test_suspicious_answers_are_reported_to_the_instructor(runs: dict) -> None:
    log = runs["defensas"]["log"]
    assert log.count("REVISAR A MANO") >= sum(h.kind == "trampa" and h.beats_naive for h in CORPUS)


def test_restored_state_is_logged_for_the_instructor(runs: dict) -> None:
    """El núcleo deja en la terminal de nbgrader qué deshizo antes de cada prueba (no en el cuaderno)."""
    log = runs["defensas"]["log"]
    assert "Restaurado antes de una prueba calificada" in log
    assert "torch.allclose" in log  # la trampa que parchea torch.allclose
