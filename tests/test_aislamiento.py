"""El aislamiento del núcleo de corrección dice lo que hace (issue 15, punto 3).

- Dentro del núcleo aislado: sin red (ni ``127.0.0.1``), sin la carpeta personal de quien
  corrige (``HOME`` nueva y la de verdad tapada), sin GPU y sin barras de progreso. Se prueba
  desde un cuaderno ejecutado por :class:`GuardedExecute`, como en ``make autograde``.
- Donde no se puede aislar, la corrección para con un mensaje que dice por qué y cómo salir;
  con ``CURSO_AISLAMIENTO=si_es_posible`` corrige y cada línea del registro dice «SIN AISLAMIENTO».
  Se simula un sistema sin aislamiento cambiando la sonda (:func:`sandbox.isolation_problem`).
- Si la ejecución entera falla, se repite ``execute_retries`` veces (la opción de nbgrader).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute
from traitlets.config import Config

from course_grading import preprocessors, sandbox
from course_grading.preprocessors import GuardedExecute, IsolationUnavailable, harden, install_kernelspec

APPARMOR_PROBLEM = "AppArmor no deja crear espacios de nombres de usuario sin privilegios (simulado)"
PROBE = """
import json, os, socket
found = {{}}
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
    found["red"] = "conecta"
except OSError as error:
    found["red"] = f"{{type(error).__name__}}: {{error}}"
try:
    found["casa"] = open({secret!r}, encoding="utf-8").read()
except OSError as error:
    found["casa"] = type(error).__name__
found["home"] = os.environ["HOME"]
found["cuda"] = os.environ.get("CUDA_VISIBLE_DEVICES")
found["tqdm"] = os.environ.get("TQDM_DISABLE")
print(json.dumps(found))
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """harden() y las pruebas cambian estas variables: que vuelvan a su valor al terminar."""
    for name in ("JUPYTER_PATH", sandbox.HIDE, sandbox.POLICY, "HOME"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- A. Dentro del núcleo aislado --------------------------------------------------------------


@pytest.mark.cuadernos
@pytest.mark.skipif(not sandbox.isolation_available(), reason="este sistema no permite aislar el núcleo")
def test_isolated_kernel_has_no_network_home_gpu_or_progress_bars(tmp_path: Path, clean_env) -> None:
    home, course, submission = tmp_path / "casa", tmp_path / "curso", tmp_path / "entrega"
    for folder in (home, course, submission):
        folder.mkdir()
    secret = home / "secreto.txt"
    secret.write_text("clave del docente", encoding="utf-8")
    server = socket.create_server(("127.0.0.1", 0))  # algo que escucha en el 127.0.0.1 de quien corrige
    clean_env.setenv("HOME", str(home))
    clean_env.setenv(sandbox.HIDE, str(course))
    clean_env.setenv(sandbox.POLICY, "obligatorio")
    clean_env.setenv("JUPYTER_PATH", str(install_kernelspec()))
    cell = new_code_cell(PROBE.format(port=server.getsockname()[1], secret=str(secret)))
    try:
        resources = {"metadata": {"path": str(submission)}}
        nb, _ = GuardedExecute(timeout=120).preprocess(new_notebook(cells=[cell]), resources)
    finally:
        server.close()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream"], outputs
    found = json.loads(outputs[0].text)
    assert found["red"].startswith("OSError"), f"el núcleo llega a 127.0.0.1: {found['red']}"
    assert found["casa"] in ("FileNotFoundError", "PermissionError"), f"el núcleo lee la casa del docente: {found}"
    assert found["home"] != str(home) and Path(found["home"]).name.startswith("curso-home-")
    assert found["cuda"] == "" and found["tqdm"] == "1"


# --- B. Sin aislamiento posible: para, o corrige diciéndolo -------------------------------------


def _fake_execute(calls: list) -> object:
    def preprocess(self, nb, resources=None, km=None):  # lo que haría Execute, sin núcleo
        calls.append(nb)
        self.log.info("Ejecutando el cuaderno")
        if len(calls) == 1 and getattr(self, "_fail_first", False):
            nb.cells[0].outputs = ["basura del primer intento"]
            raise RuntimeError("el núcleo no arrancó a tiempo")
        return nb, resources

    return preprocess


def _notebook():
    return new_notebook(cells=[new_code_cell("x = 1")])


def test_grading_stops_with_the_reason_and_the_ways_out(clean_env, caplog) -> None:
    calls: list = []
    clean_env.setattr(Execute, "preprocess", _fake_execute(calls))
    clean_env.setattr(sandbox, "isolation_problem", lambda: APPARMOR_PROBLEM)
    clean_env.delenv(sandbox.POLICY, raising=False)
    executor = GuardedExecute(log=logging.getLogger("prueba-aislamiento-para"))
    with pytest.raises(IsolationUnavailable) as raised, caplog.at_level(logging.INFO):
        executor.preprocess(_notebook(), {"nbgrader": {"student": "ana", "notebook": "00"}})
    message = str(raised.value)
    assert message.startswith("No corrijo: no puedo aislar el núcleo") and APPARMOR_PROBLEM in message
    assert "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in message
    assert "CURSO_AISLAMIENTO=si_es_posible make autograde" in message
    assert message in caplog.text, "el motivo y las salidas van también al registro de nbgrader"
    assert calls == [], "no se ejecutó nada sin aislar"


def test_grading_unisolated_on_request_says_so_in_every_line(clean_env, caplog) -> None:
    calls: list = []
    clean_env.setattr(Execute, "preprocess", _fake_execute(calls))
    clean_env.setattr(sandbox, "isolation_problem", lambda: APPARMOR_PROBLEM)
    clean_env.setenv(sandbox.POLICY, "si_es_posible")
    log = logging.getLogger("prueba-aislamiento-sigue")
    executor = GuardedExecute(log=log)
    with caplog.at_level(logging.INFO, logger=log.name):
        executor.preprocess(_notebook(), {"nbgrader": {"student": "ana", "notebook": "00"}})
        log.info("La siguiente entrega")
    assert len(calls) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == log.name]
    assert len(lines) >= 3 and all(line.startswith("SIN AISLAMIENTO") for line in lines), lines
    assert any("Corrigiendo ana/00 SIN AISLAMIENTO" in line for line in lines)


@pytest.mark.parametrize(
    ("platform", "which", "apparmor", "expected"),
    [
        ("darwin", "/usr/bin/unshare", "0", "macOS"),
        ("linux", None, "0", "falta el programa `unshare`"),
        ("linux", "/usr/bin/unshare", "1", "kernel.apparmor_restrict_unprivileged_userns=1"),
    ],
)
def test_the_probe_says_why(monkeypatch, tmp_path, platform, which, apparmor, expected) -> None:
    knob = tmp_path / "apparmor_restrict_unprivileged_userns"
    knob.write_text(apparmor, encoding="utf-8")
    monkeypatch.setattr(sandbox.sys, "platform", platform)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: which)
    monkeypatch.setattr(sandbox, "APPARMOR", knob)
    failed = subprocess.CompletedProcess([], 1, "", "unshare: write failed /proc/self/uid_map: Operation not permitted")
    monkeypatch.setattr(sandbox.subprocess, "run", lambda *a, **k: failed)
    sandbox.isolation_problem.cache_clear()
    try:
        assert expected in (sandbox.isolation_problem() or "")
    finally:
        sandbox.isolation_problem.cache_clear()


def test_the_kernel_refuses_to_start_unisolated_by_default(monkeypatch, capsys) -> None:
    """Segunda barrera: el propio lanzador del núcleo no arranca sin aislar si no se pidió."""
    monkeypatch.setattr(sandbox, "isolation_problem", lambda: APPARMOR_PROBLEM)
    monkeypatch.setenv(sandbox.HIDE, "/nada")
    monkeypatch.delenv(sandbox.POLICY, raising=False)
    with pytest.raises(SystemExit) as stopped:
        sandbox._reexec_isolated([])
    assert stopped.value.code == 3 and APPARMOR_PROBLEM in capsys.readouterr().err
    monkeypatch.setenv(sandbox.POLICY, "si_es_posible")
    sandbox._reexec_isolated([])  # vuelve: corre sin aislar
    assert "SIN AISLAMIENTO" in capsys.readouterr().err


# --- C. Reintento con la opción de nbgrader -------------------------------------------------------


def test_a_failed_execution_is_retried_with_a_clean_notebook(clean_env, caplog) -> None:
    calls: list = []
    clean_env.setattr(Execute, "preprocess", _fake_execute(calls))
    clean_env.setattr(sandbox, "isolation_problem", lambda: None)
    executor = GuardedExecute(execute_retries=1, log=logging.getLogger("prueba-reintento"))
    executor._fail_first = True
    with caplog.at_level(logging.WARNING):
        nb, _ = executor.preprocess(_notebook(), {"nbgrader": {"student": "ana", "notebook": "00"}})
    assert len(calls) == 2 and nb.cells[0].outputs == [], "el segundo intento parte del cuaderno sin tocar"
    assert "se repite con un núcleo nuevo (intento 2 de 2)" in caplog.text


def test_without_retries_the_failure_reaches_nbgrader(clean_env) -> None:
    calls: list = []
    clean_env.setattr(Execute, "preprocess", _fake_execute(calls))
    clean_env.setattr(sandbox, "isolation_problem", lambda: None)
    executor = GuardedExecute(execute_retries=0)
    executor._fail_first = True
    with pytest.raises(RuntimeError, match="no arrancó a tiempo"):
        executor.preprocess(_notebook(), {})
    assert len(calls) == 1


def test_harden_uses_nbgrader_retries_and_requires_isolation(clean_env, tmp_path) -> None:
    clean_env.delenv(sandbox.POLICY, raising=False)
    c = Config()
    harden(c, root=tmp_path)
    assert c.GuardedExecute.execute_retries == 1
    assert os.environ[sandbox.POLICY] == "obligatorio"
    assert preprocessors.KERNEL_NAME == c.GuardedExecute.get("kernel_name", preprocessors.KERNEL_NAME)


def test_harden_marks_the_whole_unisolated_grading_from_its_first_line(clean_env, tmp_path) -> None:
    """Con la salida a sabiendas, las líneas de ``nbgrader autograde`` anteriores al primer cuaderno también."""
    clean_env.setattr(sandbox, "isolation_problem", lambda: APPARMOR_PROBLEM)
    clean_env.setenv(sandbox.POLICY, "si_es_posible")
    logger = logging.getLogger("AutogradeApp")
    before = list(logger.filters)
    try:
        harden(Config(), root=tmp_path)
        record = logging.LogRecord("AutogradeApp", logging.INFO, __file__, 1, "Creating/updating student", None, None)
        assert logger.filter(record) and record.getMessage().startswith("SIN AISLAMIENTO")
    finally:
        logger.filters[:] = before


# --- D. Comentarios (feedback) sin HTML activo de la entrega -------------------------------------

HOSTILE_HTML = '<script>alert("md")</script><img src="x" onerror="alert(1)">'


def test_feedback_html_runs_nothing_from_the_submission(clean_env) -> None:
    """Con la configuración del repositorio, el HTML de los comentarios no lleva scripts del alumno."""
    from nbformat.v4 import new_markdown_cell, new_output
    from nbgrader.preprocessors import GetGrades
    from traitlets.config.loader import PyFileConfigLoader

    from tests.cuadernos import ROOT

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    answer = new_markdown_cell(HOSTILE_HTML, metadata={"nbgrader": {"solution": True, "grade_id": "resp_md"}})
    code = new_code_cell("mostrar()")
    code.outputs = [
        new_output("display_data", data={"text/html": HOSTILE_HTML, "text/plain": "x"}),
        new_output("display_data", data={"application/javascript": 'alert("js")', "text/plain": "y"}),
    ]
    prose = new_markdown_cell("# Enunciado\n\nUsa `<unk>` y **negrita**.")
    nb = new_notebook(cells=[prose, answer, code])
    resources: dict = {}
    for step in config.GenerateFeedback.preprocessors:
        if step is not GetGrades:  # necesita la base de notas; no toca el HTML
            nb, resources = step(config=config)(nb, resources)
    html, _ = config.GenerateFeedback.exporter_class(template_name="classic").from_notebook_node(nb)
    assert '<script>alert("md")' not in html and 'alert("js")' not in html
    assert '<img src="x" onerror' not in html
    assert "&lt;script&gt;" in html, "el texto del alumno se ve, escapado"
    assert "<code>&lt;unk&gt;</code>" in html and "<strong>negrita</strong>" in html and "<h1" in html
