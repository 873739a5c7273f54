"""Una clase entera a la vez: ``make autograde JOBS=N`` y ``make feedback JOBS=N`` dan lo mismo que uno a uno.

La misma clase (00_preliminares, el cuaderno más rápido: una solución, un cuaderno sin tocar, tres
errores frecuentes sembrados y un cuaderno ilegible) se corrige en dos cursos temporales con las órdenes
del Makefile: una vez con ``JOBS=1`` y otra con ``JOBS=2`` (dos procesos de nbgrader a la vez sobre la
misma ``gradebook.db``). Las notas (``grades.csv``), los comentarios de cada alumno (salvo fechas) y los
archivos para el LMS (``make export``) deben ser idénticos, y la corrección en paralelo debe nombrar
igual a quien se queda sin nota. Sin nbgrader: cómo se reparten los alumnos en lotes y que cada lote
repite, tras una sola pausa, a quien se quedó sin nota porque su núcleo no arrancó.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import nbformat
import pytest

from course_grading import autograde, parallel, sandbox
from tests.cuadernos import MISTAKES, filled_release, read, release_path
from tests.flujo import ASSIGNMENT, FULL, make, new_course, succeed
from tests.test_arranque_nucleo import DIED, ISOLATION, FakeNbgrader, _class_of

# --- Sin nbgrader: lotes, procesos y repeticiones ---------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 17, 300])
@pytest.mark.parametrize("jobs", [1, 2, 3, 8, 16])
def test_batches_keep_every_student_once_and_in_order(count: int, jobs: int) -> None:
    students = [f"alumno{n:03d}" for n in range(count)]
    groups = parallel.batches(students, jobs)
    assert [s for group in groups for s in group] == students
    sizes = [len(group) for group in groups]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    if jobs == 1:
        assert groups == [students], "con un proceso, un solo nbgrader para todos, como antes"
    else:
        assert max(sizes) <= parallel.BATCH_SIZE
        assert len(groups) >= min(jobs, count), "ningún proceso se queda sin lote si hay alumnos"
        if count >= jobs:
            assert len(groups) % jobs == 0, "cada ronda de lotes ocupa a todos los procesos"


def test_jobs_default_to_the_cores_and_never_exceed_the_students() -> None:
    assert parallel.parse_jobs("auto") == parallel.machine_jobs() >= 1
    assert parallel.parse_jobs("3") == 3
    assert parallel.jobs_for(16, 3) == 3 and parallel.jobs_for(4, 300) == 4 and parallel.jobs_for(2, 0) == 1
    for wrong in ("0", "-2", "dos"):
        with pytest.raises(Exception, match="de 1 en adelante, o auto"):
            parallel.parse_jobs(wrong)


def test_a_batch_is_graded_with_the_course_database_and_a_long_wait(tmp_path: Path) -> None:
    everyone = ["ana", "bea", "carlos"]
    command = parallel.nbgrader_command(tmp_path, "autograde", ASSIGNMENT, ["ana", "carlos"], everyone)
    assert f"--CourseDirectory.db_url=sqlite:///{tmp_path.resolve()}/gradebook.db?timeout=" in " ".join(command)
    assert "--CourseDirectory.student_id_exclude=bea" in command
    assert "--student" not in command
    single = parallel.nbgrader_command(tmp_path, "generate_feedback", ASSIGNMENT, ["bea"], everyone)
    assert single[-2:] == ["--student", "bea"] and "generate_feedback" in single


def test_every_batch_retries_after_one_pause_and_names_who_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Cuatro alumnos, dos procesos: ana (lote 1) y dora (lote 2) no arrancan; dora tampoco al repetir."""
    _class_of(tmp_path, ["ana", "bea", "carlos", "dora"])
    broken = "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    first = {"ana": DIED, "carlos": broken, "dora": DIED}
    # Cada llamada usa el dict de su número de llamada; los lotes de una misma pasada llevan el mismo.
    fake = FakeNbgrader(tmp_path, ASSIGNMENT, [first, first, {"dora": DIED}, {"dora": DIED}])
    monkeypatch.setattr(autograde, "grade_students", fake)
    monkeypatch.chdir(tmp_path)
    status = autograde.main([ASSIGNMENT, "--pausa", "0.5", "--trabajos", "2"])
    out = capsys.readouterr().out
    assert status == 1
    calls = sorted(fake.calls, key=lambda call: call[1])
    assert sorted(map(sorted, (c for c, _ in calls[:2]))) == [["ana", "bea"], ["carlos", "dora"]]
    assert sorted(c for c, _ in calls[2:]) == [["ana"], ["dora"]], "se repite a quien no arrancó, en su propio lote"
    assert min(t for _, t in calls[2:]) - max(t for _, t in calls[:2]) >= 0.5, "una pausa, tras la primera pasada"
    assert "Corrigiendo 00_preliminares (4 entregas, 2 a la vez)…" in out
    assert "2 sin nota porque el núcleo no arrancó (ana, dora)" in out
    assert "2 de 4 entregas con nota." in out
    assert "SIN NOTA dora: el núcleo de corrección no arrancó" in out and "(también al repetirla tras 0.5 s)" in out
    assert f"SIN NOTA carlos: {broken}" in out
    assert f"make autograde CUADERNO={ASSIGNMENT} ALUMNO=dora" in out
    log = next((tmp_path / "registros").glob("autograde-*.log")).read_text(encoding="utf-8")
    assert "[lote 1/2] " in log and "[lote 2/2] " in log, "cada línea dice de qué proceso sale"


# --- Con nbgrader y make: la misma clase, uno a uno y en paralelo ---------------------------------

COURSES = {"secuencial": "1", "paralelo": "2"}
BROKEN = "roto"
SOLVED, BLANK = "ana", "bea"
MISTAKEN = ["coseno_sin_normas", "softmax_sin_maximo", "coseno_vector_nulo"]
# Lo que cambia de una corrección a otra sin que cambie nada de la nota: fechas y horas, la carpeta del
# curso y los trozos en que llega al cuaderno lo que escribe un print (según el momento en que el núcleo
# vacía su salida, «τ = 0.5:» y lo que le sigue llegan juntos o en dos salidas: también uno a uno, con la
# máquina cargada). Los comentarios se comparan con las salidas seguidas del mismo flujo unidas.
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
STREAM_SPLIT = re.compile(
    r'</pre>\s*</div>\s*</div>\s*<div class="output_area">\s*<div class="prompt">\s*</div>\s*'
    r'<div class="output_subarea output_stream output_(?P<name>stdout|stderr) output_text">\s*<pre>'
)


def submissions() -> dict[str, str]:
    """``{alumno: texto del cuaderno que entrega}``."""
    mistakes = {m.name: m for m in MISTAKES[ASSIGNMENT]}
    class_ = {
        SOLVED: nbformat.writes(filled_release(ASSIGNMENT)),
        BLANK: nbformat.writes(read(release_path(ASSIGNMENT))),
        BROKEN: '{"cells": [',
    }
    for name in MISTAKEN:
        class_[name] = nbformat.writes(filled_release(ASSIGNMENT, mistakes[name].answers(ASSIGNMENT)))
    return class_


def without_stamps(text: str, course: Path) -> str:
    return STAMP.sub("<fecha>", text.replace(str(course.resolve()), "<curso>").replace(str(course), "<curso>"))


def joined_streams(page: str) -> str:
    """El HTML de unos comentarios con cada salida de texto partida en trozos seguidos vuelta a unir."""
    previous = None
    while previous != page:
        previous, page = page, _join_once(page)
    return page


def _join_once(page: str) -> str:
    """Une un trozo con el anterior si los dos son del mismo flujo (stdout con stdout, stderr con stderr)."""
    for match in STREAM_SPLIT.finditer(page):
        opening = page.rfind('<div class="output_subarea output_stream output_', 0, match.start())
        if page.startswith(f'<div class="output_subarea output_stream output_{match["name"]} ', opening):
            return page[: match.start()] + page[match.end() :]
    return page


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Los dos cursos tras ``make autograde``, ``make feedback`` y ``make export`` con su ``JOBS``."""
    class_ = submissions()
    runs = {}
    for name, jobs in COURSES.items():
        root = new_course(tmp_path_factory.mktemp(name))
        for student, text in class_.items():
            path = root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        autograded = make(root, "autograde", f"JOBS={jobs}", "PAUSA=1")
        seconds = time.perf_counter() - start
        feedback = succeed(root, "feedback", f"JOBS={jobs}")
        succeed(root, "export")
        runs[name] = {"root": root, "autograde": autograded, "seconds": seconds, "feedback": feedback}
    return runs


def grades_csv(root: Path) -> list[dict[str, str]]:
    with open(root / "grades.csv", encoding="utf-8") as f:
        return sorted(csv.DictReader(f), key=lambda row: (row["assignment"], row["student_id"]))


def tree(root: Path, folder: str) -> dict[str, str]:
    """``{ruta relativa: contenido sin fechas}`` de cada archivo de ``root/folder``."""
    base = root / folder
    return {
        str(p.relative_to(base)): without_stamps(p.read_text(encoding="utf-8"), root)
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


@pytest.mark.cuadernos
@ISOLATION
def test_both_runs_name_the_broken_notebook_and_grade_everyone_else(graded: dict) -> None:
    for name, run in graded.items():
        output = run["autograde"].stdout + run["autograde"].stderr
        assert run["autograde"].returncode != 0, f"{name}: un cuaderno ilegible deja a alguien sin nota"
        assert f"{len(submissions()) - 1} de {len(submissions())} entregas con nota." in output, output[-3000:]
        assert f"SIN NOTA {BROKEN}: " in output and "los vuelvo a corregir" not in output
    parallel_output = graded["paralelo"]["autograde"].stdout
    assert f"({len(submissions())} entregas, 2 a la vez)" in parallel_output
    assert "2 procesos a la vez" in graded["paralelo"]["feedback"]
    assert "a la vez" not in graded["secuencial"]["autograde"].stdout + graded["secuencial"]["feedback"]


@pytest.mark.cuadernos
@ISOLATION
def test_the_two_processes_really_ran_at_the_same_time(graded: dict) -> None:
    """En el registro, el lote 2 escribe antes de que el lote 1 acabe."""
    log = next((graded["paralelo"]["root"] / "registros").glob("autograde-*.log")).read_text(encoding="utf-8")
    lines = log.splitlines()
    first_of_2 = next(i for i, line in enumerate(lines) if line.startswith("[lote 2/2] "))
    last_of_1 = max(i for i, line in enumerate(lines) if line.startswith("[lote 1/2] "))
    assert first_of_2 < last_of_1, "los dos lotes no se solaparon"


@pytest.mark.cuadernos
@ISOLATION
def test_same_grades_with_one_and_two_processes(graded: dict) -> None:
    sequential, in_parallel = (grades_csv(graded[name]["root"]) for name in COURSES)
    assert in_parallel == sequential
    scores = {row["student_id"]: float(row["score"]) for row in sequential if row["assignment"] == ASSIGNMENT}
    assert scores[SOLVED] == FULL and scores[BLANK] == 0
    assert all(0 < scores[name] < FULL for name in MISTAKEN), scores


@pytest.mark.cuadernos
@ISOLATION
def test_same_feedback_with_one_and_two_processes(graded: dict) -> None:
    sequential, in_parallel = (tree(graded[name]["root"], "feedback") for name in COURSES)
    students = sorted(s for s in submissions() if s != BROKEN)
    assert sorted({path.split("/")[0] for path in sequential}) == students
    assert sorted(in_parallel) == sorted(sequential)
    for path, page in sequential.items():
        assert joined_streams(in_parallel[path]) == joined_streams(page), (
            f"los comentarios de {path} cambian con JOBS=2"
        )


def test_feedback_comparison_joins_split_prints_only() -> None:
    """:func:`joined_streams` une los trozos de un mismo print y nada más: otro texto u otro flujo siguen distintos."""
    area = '<div class="output_area">\n<div class="prompt"></div>\n'
    piece = area + '<div class="output_subarea output_stream output_{} output_text">\n<pre>{}</pre>\n</div>\n</div>\n'
    whole = piece.format("stdout", "τ = 0.5: el gato duerme")
    split = piece.format("stdout", "τ = 0.5:") + piece.format("stdout", " el gato duerme")
    assert split != whole and joined_streams(split) == joined_streams(whole)
    other = piece.format("stdout", "τ = 0.5:") + piece.format("stdout", " el perro duerme")
    assert joined_streams(other) != joined_streams(whole)
    mixed = piece.format("stdout", "τ = 0.5:") + piece.format("stderr", " el gato duerme")
    assert joined_streams(mixed) != joined_streams(whole), "stdout y stderr no se mezclan"


@pytest.mark.cuadernos
@ISOLATION
def test_same_lms_files_with_one_and_two_processes(graded: dict) -> None:
    sequential, in_parallel = (tree(graded[name]["root"], "para_el_lms") for name in COURSES)
    assert sequential, "make export no escribió nada en para_el_lms/"
    assert in_parallel == sequential


@pytest.mark.cuadernos
@ISOLATION
def test_kernels_that_do_not_start_are_retried_and_named_in_every_process(
    graded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Va la última: deja sin nota a dos alumnos del curso en paralelo. Cada núcleo muere al arrancar
    (1 MB de memoria); los dos alumnos van en procesos distintos, se repiten tras la pausa y se nombran."""
    monkeypatch.setenv(sandbox.MEMORY_MB, "1")
    root = graded["paralelo"]["root"]
    result = make(root, "autograde", f"CUADERNO={ASSIGNMENT}", "ALUMNO=[ab]*", "JOBS=2", "PAUSA=1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert f"Corrigiendo {ASSIGNMENT} (solo {SOLVED}, {BLANK}, 2 a la vez)…" in output
    assert f"2 sin nota porque el núcleo no arrancó ({SOLVED}, {BLANK}): los vuelvo a corregir dentro de 1 s" in output
    for student in (SOLVED, BLANK):
        assert f"SIN NOTA {student}: el núcleo de corrección no arrancó" in output, output[-4000:]
    assert "0 de 2 entregas con nota." in output and output.count("(también al repetirla tras 1 s)") == 2
