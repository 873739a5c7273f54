"""Nadie sin nota por accidente: el núcleo de corrección arranca aunque otro árbol del curso se borre.

La causa del issue: el núcleo de corrección salía de un ``kernel.json`` compartido por todo el entorno
(``<entorno>/share/curso-calificacion/…``), que cada árbol del curso reescribía al cargar
``nbgrader_config.py``. Un clon que recogía entregas (``python -m course_grading.lms``) lo dejaba
apuntando a SU ``sandbox.py``; borrado el clon, cada núcleo de la corrección en curso moría al
arrancar: «python: can't open file '…/clon/course_grading/sandbox.py'», estado de salida 2.

- A. La corrección arranca el ``sandbox.py`` de su propio árbol, diga lo que diga un ``kernel.json``.
- B. Un núcleo que muere al arrancar dice por qué (estado de salida y sus errores), también
  dentro de ``unshare``, y el aislamiento no deja carpetas en ``/tmp``.
- C. ``python -m course_grading.autograde`` (``make autograde``): repite tras una pausa a quien se
  quedó sin nota porque el núcleo no arrancó, nombra a quien sigue sin nota con el motivo y sale con
  estado 1; guarda el registro de cada ejecución en ``registros/``. También con ``make`` de verdad.
- D. La interferencia del issue, de verdad: un bucle de clones que recogen entregas y se borran
  mientras se corrige una clase; todos con nota.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course_grading import autograde, preprocessors, sandbox
from course_grading.preprocessors import GuardedExecute, KernelStartupError, harden
from tests.cuadernos import ROOT, filled_release, read, release_path
from tests.flujo import make, new_course

ISOLATION = pytest.mark.skipif(not sandbox.isolation_available(), reason="este sistema no permite aislar el núcleo")
ASSIGNMENT = "00_preliminares"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """harden() y las pruebas cambian estas variables: que vuelvan a su valor al terminar."""
    for name in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", sandbox.HIDE, sandbox.POLICY, "TMPDIR"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _stale_kernelspec(base: Path, sandbox_py: Path) -> Path:
    """Lo que dejaba un clon borrado: un ``kernel.json`` de :data:`KERNEL_NAME` con su ``sandbox.py``."""
    spec = base / "kernels" / preprocessors.KERNEL_NAME / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = [sys.executable, str(sandbox_py), "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": "clon borrado", "language": "python"}))
    return base


# --- A. El núcleo de este árbol, no el de un kernel.json --------------------------------------


def test_grading_starts_its_own_sandbox_whatever_kernel_json_says(clean_env, tmp_path: Path) -> None:
    harden(Config(), root=tmp_path / "curso")
    # Después de harden (como el clon que recoge entregas en mitad de la corrección): un kernel.json
    # con el mismo nombre, delante en JUPYTER_PATH y en la carpeta de datos de Jupyter.
    stale = _stale_kernelspec(tmp_path / "clon" / "share", tmp_path / "clon" / "course_grading" / "sandbox.py")
    clean_env.setenv("JUPYTER_PATH", os.pathsep.join([str(stale), os.environ.get("JUPYTER_PATH", "")]))
    clean_env.setenv("JUPYTER_DATA_DIR", str(stale))
    executor = GuardedExecute()
    km = executor.create_kernel_manager()
    try:
        assert km.kernel_spec.argv == [sys.executable, str(Path(sandbox.__file__).resolve()), "-f", "{connection_file}"]
    finally:
        shutil.rmtree(executor._runtime, ignore_errors=True)


def test_harden_no_longer_writes_a_kernelspec_shared_by_the_environment(clean_env, tmp_path: Path) -> None:
    before = os.environ.get("JUPYTER_PATH")
    written: list = []
    clean_env.setattr(preprocessors, "install_kernelspec", lambda *a, **k: written.append(a) or tmp_path)
    harden(Config(), root=tmp_path)
    assert written == [] and os.environ.get("JUPYTER_PATH") == before


def test_another_kernel_name_still_comes_from_its_kernelspec(clean_env) -> None:
    km = GuardedExecute(kernel_name="python3").create_kernel_manager()
    assert not isinstance(km.kernel_spec_manager, preprocessors.SandboxKernelSpecs)


# --- B. Un núcleo que muere al arrancar dice por qué -------------------------------------------


def _grade_one(tmp_path: Path, **executor_options) -> tuple:
    submission = tmp_path / "entrega"
    submission.mkdir(exist_ok=True)
    resources = {"metadata": {"path": str(submission)}, "nbgrader": {"student": "ana", "notebook": ASSIGNMENT}}
    executor = GuardedExecute(timeout=60, log=logging.getLogger("prueba-arranque"), **executor_options)
    return executor.preprocess(new_notebook(cells=[new_code_cell("print(6 * 7)")]), resources)


def test_a_kernel_whose_sandbox_vanished_says_so_retries_after_a_pause_and_fails(
    clean_env, tmp_path: Path, caplog
) -> None:
    """El mecanismo del issue, en pequeño: el sandbox.py que se arranca ya no existe."""
    gone = tmp_path / "clon" / "course_grading" / "sandbox.py"
    spec = preprocessors._spec()
    clean_env.setattr(preprocessors, "_spec", lambda: {**spec, "argv": [sys.executable, str(gone), *spec["argv"][2:]]})
    clean_env.setattr(sandbox, "isolation_problem", lambda: None)
    start = time.perf_counter()
    with pytest.raises(KernelStartupError) as raised, caplog.at_level(logging.WARNING, logger="prueba-arranque"):
        _grade_one(tmp_path, execute_retries=1, startup_retry_pause=1.5)
    message = str(raised.value)
    assert message.startswith(preprocessors.STARTUP_FAILED) and "\n" not in message
    assert "murió (estado de salida 2)" in message and f"can't open file '{gone}'" in message
    assert "se repite con un núcleo nuevo (intento 2 de 2)" in caplog.text
    assert caplog.text.count("El núcleo de ana/00_preliminares no arrancó.") == 2
    assert time.perf_counter() - start >= 1.5, "la repetición espera la pausa"
    assert autograde.RETRYABLE.search(message), "make autograde la vuelve a corregir"


@pytest.mark.cuadernos
@ISOLATION
def test_a_kernel_that_dies_inside_unshare_says_why(clean_env, tmp_path: Path) -> None:
    """Dentro de ``unshare``: 1 MB de memoria para el núcleo, que muere importando ipykernel."""
    clean_env.setenv(sandbox.MEMORY_MB, "1")
    clean_env.setenv(sandbox.HIDE, str(tmp_path / "curso"))
    clean_env.setenv(sandbox.POLICY, "obligatorio")
    (tmp_path / "curso").mkdir()
    with pytest.raises(KernelStartupError) as raised:
        _grade_one(tmp_path, execute_retries=0)
    assert "murió (estado de salida 1)" in str(raised.value) and "MemoryError" in str(raised.value)
    assert "sandbox.py" in raised.value.details, "los detalles traen la traza completa"


@pytest.mark.cuadernos
@ISOLATION
def test_the_isolated_kernel_leaves_nothing_in_tmp(clean_env, tmp_path: Path) -> None:
    """Antes, cada núcleo dejaba en /tmp curso-home-*, curso-montajes-* y curso-nucleo-*."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp_path / "curso").mkdir()
    clean_env.setenv("TMPDIR", str(tmp))
    clean_env.setenv(sandbox.HIDE, str(tmp_path / "curso"))
    clean_env.setenv(sandbox.POLICY, "obligatorio")
    clean_env.setattr("tempfile.tempdir", None)  # que tempfile vuelva a leer TMPDIR
    nb, _ = _grade_one(tmp_path, execute_retries=0)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert sorted(p.name for p in tmp.iterdir()) == []


def test_a_failing_mount_is_named_with_what_mount_said(tmp_path: Path) -> None:
    with pytest.raises(sandbox.IsolationError) as raised:
        sandbox._mount("--bind", str(tmp_path / "no-existe"), str(tmp_path / "tampoco"))
    assert str(raised.value).startswith(f"`mount --bind {tmp_path / 'no-existe'}") and "falló (estado" in str(
        raised.value
    )


# --- C. make autograde: repetir, nombrar, salir con 1, guardar el registro ------------------------

NBGRADER_FAILURE = """[AutogradeApp | INFO] Overwriting files with master versions from the source directory
[AutogradeApp | ERROR] There was an error processing assignment: {course}/submitted/{student}/{assignment}
[AutogradeApp | ERROR] Traceback (most recent call last):
      File "/x/nbgrader/converters/base.py", line 432, in convert_notebooks
        self.convert_single_notebook(notebook_filename)
    {error}

[AutogradeApp | WARNING] Removing failed assignment: {course}/autograded/{student}/{assignment}
"""
DIED = (
    "course_grading.preprocessors.KernelStartupError: el núcleo de corrección no arrancó: murió (estado de "
    "salida 2); sus últimos errores: «python: can't open file '/tmp/clon/course_grading/sandbox.py'»"
)


def test_reasons_are_read_from_nbgrader_log(tmp_path: Path) -> None:
    log = NBGRADER_FAILURE.format(course=tmp_path, student="ana", assignment="06_transformer", error=DIED)
    log += NBGRADER_FAILURE.format(
        course=tmp_path,
        student="luis",
        assignment="06_transformer",
        error="json.decoder.JSONDecodeError: Expecting value",
    )
    found = autograde.reasons(log, "06_transformer")
    assert found == {
        "ana": DIED.split("KernelStartupError: ", 1)[1],
        "luis": "json.decoder.JSONDecodeError: Expecting value",
    }
    assert autograde.RETRYABLE.search(found["ana"]) and not autograde.RETRYABLE.search(found["luis"])


class FakeNbgrader:
    """``grade_students`` sin nbgrader: da nota a quien le dejan y deja en el registro el motivo de los demás."""

    def __init__(self, course: Path, assignment: str, failures: list[dict[str, str]]) -> None:
        self.course, self.assignment, self.failures, self.calls = course, assignment, failures, []

    def __call__(self, course, assignment, students, log, echo=None):
        self.calls.append((list(students), time.monotonic()))
        fails = self.failures[len(self.calls) - 1] if len(self.calls) <= len(self.failures) else {}
        output = ""
        for student in students:
            done = course / "autograded" / student / assignment
            shutil.rmtree(done, ignore_errors=True)
            if student in fails:
                output += NBGRADER_FAILURE.format(
                    course=course, student=student, assignment=assignment, error=fails[student]
                )
            else:
                done.mkdir(parents=True)
                (done / f"{assignment}.ipynb").write_text("{}")
        log.write(output)
        return autograde.Pass(1 if fails else 0, output)


def _class_of(course: Path, students: list[str], assignment: str = ASSIGNMENT) -> None:
    for student in students:
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text("{}")


def test_autograde_retries_after_a_pause_names_who_is_left_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _class_of(tmp_path, ["ana", "bea", "carlos", "dora"])
    broken = "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    fake = FakeNbgrader(tmp_path, ASSIGNMENT, [{"ana": DIED, "bea": DIED, "carlos": broken}, {"bea": DIED}])
    monkeypatch.setattr(autograde, "grade_students", fake)
    monkeypatch.chdir(tmp_path)
    status = autograde.main([ASSIGNMENT, "--pausa", "0.5"])
    out = capsys.readouterr().out
    assert status == 1
    (first, t1), (second, t2) = fake.calls
    assert first == ["ana", "bea", "carlos", "dora"] and second == ["ana", "bea"], "solo se repite a quien no arrancó"
    assert t2 - t1 >= 0.5, "tras la pausa"
    assert "2 de 4 entregas con nota." in out
    assert "SIN NOTA bea: el núcleo de corrección no arrancó: murió (estado de salida 2)" in out
    assert "(también al repetirla tras 0.5 s)" in out
    assert f"SIN NOTA carlos: {broken}" in out and "ana" not in out.split("Resumen")[1].split("ATENCIÓN")[0]
    assert "ATENCIÓN: 2 entregas se quedaron sin nota" in out
    assert f"make autograde CUADERNO={ASSIGNMENT} ALUMNO=bea" in out
    logs = list((tmp_path / "registros").glob("autograde-*.log"))
    assert len(logs) == 1 and "SIN NOTA carlos" in logs[0].read_text(encoding="utf-8")
    assert f"Registro completo: registros/{logs[0].name}" in out


def test_autograde_with_everyone_graded_exits_0_and_keeps_every_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _class_of(tmp_path, ["ana", "bea"])
    monkeypatch.setattr(autograde, "grade_students", FakeNbgrader(tmp_path, ASSIGNMENT, [{"ana": DIED}]))
    monkeypatch.chdir(tmp_path)
    assert autograde.main([ASSIGNMENT, "--pausa", "0"]) == 0
    assert "2 de 2 entregas con nota." in capsys.readouterr().out
    monkeypatch.setattr(autograde, "grade_students", FakeNbgrader(tmp_path, ASSIGNMENT, []))
    assert autograde.main([ASSIGNMENT, "--alumno", "b*"]) == 0
    assert "Corrigiendo 00_preliminares (solo bea)…" in capsys.readouterr().out
    assert len(list((tmp_path / "registros").glob("autograde-*.log"))) == 2, "un registro por ejecución"


def test_without_its_autograded_notebook_there_is_no_grade(tmp_path: Path) -> None:
    """nbgrader borra ``autograded/<alumno>/<cuaderno>`` si falla (también al repetir con ``--force``)."""
    _class_of(tmp_path, ["ana", "bea"])
    done = tmp_path / "autograded" / "bea" / ASSIGNMENT
    done.mkdir(parents=True)
    (done / f"{ASSIGNMENT}.ipynb").write_text("{}")
    assert autograde.ungraded(tmp_path, ASSIGNMENT, ["ana", "bea"]) == ["ana"]


@pytest.mark.cuadernos
@ISOLATION
def test_make_autograde_names_who_is_left_without_a_grade_and_keeps_every_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = new_course(tmp_path)
    for student, text in (("ana", nbformat.writes(filled_release(ASSIGNMENT))), ("roto", '{"cells": [')):
        path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
    result = make(course, "autograde", "PAUSA=1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "1 de 2 entregas con nota." in output and "SIN NOTA roto: " in output, output[-4000:]
    assert "los vuelvo a corregir" not in output, "un cuaderno ilegible no se repite: no es cosa del núcleo"
    assert f"make autograde CUADERNO={ASSIGNMENT} ALUMNO=roto" in output

    # Todo núcleo muere al arrancar (1 MB de memoria): se repite tras la pausa y se nombra con el motivo.
    monkeypatch.setenv(sandbox.MEMORY_MB, "1")
    result = make(course, "autograde", "ALUMNO=ana", "PAUSA=1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "1 sin nota porque el núcleo no arrancó (ana): los vuelvo a corregir dentro de 1 s" in output
    assert "SIN NOTA ana: el núcleo de corrección no arrancó: murió (estado de salida 1)" in output, output[-4000:]
    assert "MemoryError" in output and "(también al repetirla tras 1 s)" in output
    logs = sorted((course / "registros").glob("autograde-*.log"))
    assert len(logs) == 2, "un registro por ejecución, en la carpeta del curso"
    assert "SIN NOTA roto" in logs[0].read_text(encoding="utf-8")
    assert "SIN NOTA ana" in logs[1].read_text(encoding="utf-8")


# --- D. La interferencia del issue, de verdad -------------------------------------------------


def overlay_venv(target: Path, code: Path) -> Path:
    """Un entorno virtual propio que ve los paquetes del de las pruebas y el código de ``code``.

    Así lo que un clon escriba en ``<entorno>/share`` (lo que hacía el código de antes) no toca el
    entorno de las pruebas, que otras pruebas usan a la vez.
    """
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(target)], check=True)
    purelib = Path(
        subprocess.check_output(
            [target / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (purelib / "zz_curso.pth").write_text(
        f"{code}\nimport site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n", encoding="utf-8"
    )
    return target / "bin" / "python"


def _collector_clone_loop(python: Path, env: dict, scratch: Path, stop: threading.Event, rounds: list) -> None:
    """Lo que hacía el otro proceso del issue: clonar, hacer el zip, recoger con el entorno del curso, borrar."""
    system_python = shutil.which("python3", path="/usr/bin:/bin") or sys._base_executable
    while not stop.is_set():
        clone = scratch / f"clon-{len(rounds)}"
        for name in ("course_grading", "course_lib"):
            shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "nbgrader_config.py", clone)
        shutil.copytree(ROOT / "notebooks" / ASSIGNMENT, clone / "notebooks" / ASSIGNMENT)
        zipper = "import sys, zipfile; zipfile.ZipFile('e.zip', 'w').write(sys.argv[1], sys.argv[2])"
        notebook = f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        subprocess.run([system_python, "-c", zipper, notebook, f"garcia_1234_5678_{ASSIGNMENT}.ipynb"], cwd=clone)
        collect = ["-m", "course_grading.lms", "e.zip", "--cuaderno", ASSIGNMENT, "--lms", "canvas"]
        subprocess.run([python, *collect], cwd=clone, env=env, capture_output=True)
        # Y lo que dejaba un clon del código de antes, con cualquier versión: el kernel.json del entorno
        # apuntando a su sandbox.py.
        old_clone = "from course_grading.preprocessors import install_kernelspec; install_kernelspec()"
        subprocess.run([python, "-c", old_clone], cwd=clone, env=env, capture_output=True)
        shutil.rmtree(clone)
        rounds.append(clone)


@pytest.mark.cuadernos
@ISOLATION
def test_clones_collecting_and_vanishing_do_not_leave_anyone_without_a_grade(tmp_path: Path) -> None:
    python = overlay_venv(tmp_path / "entorno", ROOT)
    env = dict(os.environ, CURSO_RAPIDO="1", MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([str(python.parent), str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("JUPYTER_PATH", None)
    course = tmp_path / "curso"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    subprocess.run(
        [python, "-m", "nbgrader", "generate_assignment", ASSIGNMENT],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
    )
    students = ["ana", "bea", "carlos", "dora"]
    for number, student in enumerate(students):
        path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(filled_release(ASSIGNMENT) if number % 2 == 0 else read(release_path(ASSIGNMENT)), path)

    stop, rounds = threading.Event(), []
    loop = threading.Thread(target=_collector_clone_loop, args=(python, env, tmp_path / "clones", stop, rounds))
    loop.start()
    try:
        while not rounds:  # el entorno ya apunta a un clon borrado antes de corregir
            time.sleep(0.2)
        start = len(rounds)
        result = subprocess.run(
            [python, "-m", "course_grading.autograde", ASSIGNMENT, "--pausa", "2"],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        during = len(rounds) - start
    finally:
        stop.set()
        loop.join()
    output = result.stdout + result.stderr
    stale = (
        tmp_path / "entorno" / "share" / "curso-calificacion" / "kernels" / preprocessors.KERNEL_NAME / "kernel.json"
    )
    assert not Path(json.loads(stale.read_text())["argv"][1]).exists(), (
        "el kernel.json del entorno apunta a un clon borrado"
    )
    assert during >= 1, "hubo clones recogiendo y borrándose mientras se corregía"
    assert result.returncode == 0, output[-6000:]
    assert "can't open file" not in output, output[-6000:]
    assert f"{len(students)} de {len(students)} entregas con nota." in result.stdout
    assert sorted(p.parent.name for p in (course / "autograded").glob(f"*/{ASSIGNMENT}")) == students
    assert autograde._in_gradebook(course, ASSIGNMENT) == set(students)
    assert autograde._in_gradebook(course, "07_traductor") == set()
    assert len(list((course / "registros").glob("autograde-*.log"))) == 1
