"""Las órdenes del docente en el Makefile funcionan: release, autograde, feedback y export."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.cuadernos import ROOT, filled_release, grade_cells
from tests.flujo import new_course, succeed

pytestmark = pytest.mark.cuadernos

ASSIGNMENT = "02_autoatencion"


@pytest.fixture()
def course_copy(tmp_path: Path) -> Path:
    """Copia del repositorio (sin .venv) que reutiliza el entorno ya instalado."""
    return new_course(tmp_path, ASSIGNMENT)


def test_release_then_grade_with_make(course_copy: Path) -> None:
    shutil.rmtree(course_copy / "notebooks")
    succeed(course_copy, "release", f"TAREAS={ASSIGNMENT}")
    assert (course_copy / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

    target = course_copy / "submitted" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(filled_release(ASSIGNMENT), target)
    succeed(course_copy, "autograde", "feedback", "export")

    assert (course_copy / "feedback" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
    with open(course_copy / "grades.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT]
    assert [(r["student_id"], float(r["score"])) for r in rows] == [("ana", sum(grade_cells(ASSIGNMENT).values()))]


def test_autograde_without_submissions_explains(course_copy: Path) -> None:
    result = subprocess.run(
        [
            "make",
            f"VENV={sys.prefix}",
            *[f"-o{sys.prefix}/.instalado-{extras}" for extras in ("lab", "docente", "test")],
            "autograde",
        ],
        cwd=course_copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "No hay entregas" in result.stdout + result.stderr


@pytest.mark.parametrize("confirm", [None, "no", "si"])
def test_limpiar_asks_before_deleting_a_class_grades(tmp_path: Path, confirm: str | None) -> None:
    """Sin CONFIRMAR=si (y sin terminal a la que preguntar), make limpiar no borra las notas ni nada más."""
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    venv = tmp_path / "entorno"
    venv.mkdir()
    for name in ("autograded/ana", "feedback/ana"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "gradebook.db").write_text("notas")
    (tmp_path / "grades.csv").write_text("ana,10")
    command = ["make", "limpiar", f"VENV={venv}"] + ([f"CONFIRMAR={confirm}"] if confirm else [])
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    names = ("gradebook.db", "grades.csv", "autograded", "feedback", "entorno")
    kept = [name for name in names if (tmp_path / name).exists()]
    if confirm == "si":
        assert result.returncode == 0, result.stdout + result.stderr
        assert kept == []
    else:
        assert result.returncode != 0 and "CONFIRMAR=si" in result.stdout, result.stdout
        assert kept == ["gradebook.db", "grades.csv", "autograded", "feedback", "entorno"]


def test_limpiar_without_grades_does_not_ask(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "entorno").mkdir()
    result = subprocess.run(["make", "limpiar", f"VENV={tmp_path / 'entorno'}"], cwd=tmp_path, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0 and not (tmp_path / "entorno").exists(), result.stdout + result.stderr


def test_lab_docente_serves_the_course_root_with_nbgrader(course_copy: Path, tmp_path: Path) -> None:
    """make lab-docente abre JupyterLab en la raíz del curso (solutions/ y nbgrader_config.py a la vista)
    con la extensión de nbgrader («Create Assignment») activa."""
    import json
    import secrets
    import urllib.request

    from tests.test_navegador import free_port, isolated_env, stop_process_group, wait_for_server

    port, token = free_port(), secrets.token_hex(16)
    env = isolated_env(tmp_path / "entorno")
    env["JUPYTER_TOKEN"] = token
    log = tmp_path / "lab.log"
    command = ["make", f"VENV={sys.prefix}", f"PUERTO={port}", "lab-docente"]
    command += [f"-o{sys.prefix}/.instalado-{extras}" for extras in ("lab", "docente", "test")]
    with open(log, "w", encoding="utf-8") as out:
        server = subprocess.Popen(command, cwd=course_copy, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(server, f"{base}/api/status?token={token}", log)

        def get(path: str) -> dict | list:
            with urllib.request.urlopen(f"{base}{path}?token={token}", timeout=10) as response:
                return json.load(response)

        root = {item["name"] for item in get("/api/contents/")["content"]}
        assert {"solutions", "notebooks", "nbgrader_config.py"} <= root, root
        extensions = {item["name"]: item for item in get("/lab/api/extensions")}
        assert extensions.get("jupyter-nbgrader", {}).get("enabled"), sorted(extensions)
    finally:
        stop_process_group(server)
    assert "Abriendo JupyterLab en la raíz del curso" in log.read_text(encoding="utf-8")


def test_autograde_stops_before_the_first_notebook_without_isolation(course_copy: Path, tmp_path: Path) -> None:
    """Sin aislamiento (un ``unshare`` que falla, como con AppArmor), make autograde no corrige nada:
    se para antes del primer cuaderno con el motivo y las salidas; con CURSO_AISLAMIENTO=si_es_posible, avisa."""
    import os

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "unshare").write_text("#!/bin/sh\necho 'unshare: write failed: Operation not permitted' >&2\nexit 1\n")
    (fake / "unshare").chmod(0o755)
    target = course_copy / "submitted" / "ana" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(filled_release(ASSIGNMENT), target)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CURSO_AISLAMIENTO", None)
    command = ["make", f"VENV={sys.prefix}", *[f"-o{sys.prefix}/.instalado-{e}" for e in ("lab", "docente", "test")]]
    stopped = subprocess.run([*command, "autograde"], cwd=course_copy, capture_output=True, text=True, env=env)
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode != 0
    assert "No corrijo: no puedo aislar el núcleo de corrección porque `unshare` falla" in output
    assert "CURSO_AISLAMIENTO=si_es_posible make autograde" in output
    assert "Corrigiendo" not in output and not (course_copy / "autograded").exists()

    env["CURSO_AISLAMIENTO"] = "si_es_posible"
    check = subprocess.run(
        [sys.executable, "-m", "course_grading.preprocessors"], cwd=course_copy, capture_output=True, text=True, env=env
    )
    assert check.returncode == 0 and "Aviso: se corrige SIN AISLAMIENTO" in check.stdout
