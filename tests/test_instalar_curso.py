"""La celda de configuración instala el curso como en Colab, contra un servidor git y un índice de paquetes locales.

Sin red, pero sin atajos: el núcleo imita a Colab (``tests/test_colab.py``: sin nbgrader ni el curso),
``CURSO_FUENTE`` no está puesta y la celda usa su dirección de verdad. Dos servidores en 127.0.0.1
hacen de GitHub y de PyPI:

- un ``git daemon`` con una copia del repositorio: la etiqueta ``v9.9.0`` (una versión publicada) y la
  rama ``main`` en ``9.9.1.dev0``; git lleva allí la dirección ``https://github.com/…`` de la celda
  (``url.<base>.insteadOf``, en la configuración de git del núcleo);
- un índice de paquetes (PEP 503: ``simple/<paquete>/`` con enlaces) con la rueda y la sdist de
  ``9.9.0`` construidas con ``python -m build``, servido por ``python -m http.server``; pip lo usa
  como su índice (``PIP_INDEX_URL``), sin la configuración de pip de la máquina.

Se comprueba que una versión publicada se instala del índice (la rueda, sin git), una ``.dev`` de la
rama ``main`` del servidor git, que con la versión ya instalada no se llama a pip, y que una versión
que no está en el índice da el error en español con su causa.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbclient
import nbformat
import pytest

from tests.cuadernos import ROOT, tool_env
from tests.test_colab import make_colab_kernel

sys.path.insert(0, str(ROOT / "ci"))
try:
    import repositorio
finally:
    sys.path.pop(0)

pytestmark = pytest.mark.cuadernos

RELEASE, DEV, MISSING = "9.9.0", "9.9.1.dev0", "9.9.5"
INFO = repositorio.project()
# Lo que pip necesita para construir la rueda del curso (pyproject.toml y los archivos de licencia).
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "course_grading/plantillas/comentarios/LICENSE-nbgrader")
PACKAGE_DIRS = ("course_lib", "course_grading")

REPORT_CELL = """
import importlib.metadata, json
dist = importlib.metadata.distribution("atencion-transformers")
direct = dist.read_text("direct_url.json")
print("INSTALADO", json.dumps({"version": dist.version, "direct_url": json.loads(direct) if direct else None,
                             "course_lib": course_lib.__file__}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} terminó al arrancar (código {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} no responde en 127.0.0.1:{port}")


def package_copy(where: Path, version: str) -> Path:
    """Una copia de lo que forma el paquete, con ``version`` en su pyproject.toml."""
    where.mkdir(parents=True, exist_ok=True)
    for name in PACKAGE_FILES:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, where / name)
    for name in PACKAGE_DIRS:
        shutil.rmtree(where / name, ignore_errors=True)
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pyproject = where / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace(f'version = "{INFO["version"]}"', f'version = "{version}"', 1), encoding="utf-8")
    return where


def git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Curso", "-c", "user.email=curso@example.org", "-c", "init.defaultBranch=main"]
    return subprocess.run([*command, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    if shutil.which("git") is None:
        pytest.skip("git no está instalado: no se puede servir el repositorio (apt-get install git)")
    base = tmp_path_factory.mktemp("servidores")

    # PyPI local: la rueda y la sdist de la versión publicada, en la estructura de PEP 503.
    dist = base / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(package_copy(base / "paquete", RELEASE)),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    files = sorted(p.name for p in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files), files
    project = base / "indice" / "simple" / INFO["name"]
    project.mkdir(parents=True)
    for name in files:
        shutil.copy2(dist / name, project / name)
    links = "".join(f'<a href="{name}">{name}</a><br>\n' for name in files)
    (project / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n", encoding="utf-8")
    index_log = base / "indice.log"
    index_port = free_port()
    index = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(index_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(base / "indice"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=index_log.open("w"),
    )

    # GitHub local: la etiqueta v<versión publicada> y main en la versión .dev.
    served = base / "git"
    work = package_copy(base / "trabajo", RELEASE)
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", f"Versión {RELEASE}")
    git(work, "tag", f"v{RELEASE}")
    package_copy(work, DEV)
    git(work, "commit", "-q", "-am", f"Empieza {DEV}")
    main_commit = git(work, "rev-parse", "HEAD")
    served.mkdir()
    git(base, "clone", "-q", "--bare", str(work), str(served / "curso.git"))
    git_port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={served}", "--listen=127.0.0.1",
         f"--port={git_port}", str(served)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(index_port, index, "el índice de paquetes")
        wait_for_port(git_port, daemon, "git daemon")
        yield {
            "index": f"http://127.0.0.1:{index_port}/simple/",
            "index_log": index_log,
            "git": f"git://127.0.0.1:{git_port}/curso.git",
            "main_commit": main_commit,
            "base": base,
        }
    finally:
        for process in (index, daemon):
            process.terminate()
            process.wait(timeout=10)


def run_setup_cell(servers: dict, tmp_path: Path, name: str, version: str, monkeypatch, target: Path | None = None):
    """Ejecuta la celda de configuración (con ``COURSE_VERSION = version``) en un núcleo tipo Colab sin
    ``CURSO_FUENTE``; devuelve lo impreso, el error (o None), lo que dice el paquete instalado y los segundos
    de la celda."""
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)  # la configuración de pip de esta máquina no cuenta
    env = {
        "PIP_CONFIG_FILE": os.devnull,  # ni /etc/pip.conf ni la del usuario
        "PIP_INDEX_URL": servers["index"],
        "PIP_NO_DEPS": "1",  # las dependencias ya están en el PYTHONPATH del núcleo (como en Colab)
        "PIP_NO_BUILD_ISOLATION": "0",  # «0» la DESACTIVA (pip invierte las opciones --no-…): setuptools del entorno
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "GIT_CONFIG_COUNT": "1",  # git lleva la dirección de GitHub de la celda al git daemon local
        "GIT_CONFIG_KEY_0": f"url.{servers['git']}.insteadOf",
        "GIT_CONFIG_VALUE_0": INFO["repo"],
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    jupyter_path, kernel_target = make_colab_kernel(tmp_path, name, source="", env=env)
    if target is not None:  # un núcleo que ya tiene el curso instalado (otra sesión del mismo Colab)
        kernel_target.rmdir()
        kernel_target.symlink_to(target, target_is_directory=True)
    spec_file = tmp_path / "jupyter" / "kernels" / name / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec["env"]["PIP_TARGET"] = str(kernel_target)
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    for key, value in tool_env(JUPYTER_PATH=jupyter_path).items():
        monkeypatch.setenv(key, value)
    cell = repositorio.setup_cell().replace(f'COURSE_VERSION = "{INFO["version"]}"', f'COURSE_VERSION = "{version}"')
    assert f'COURSE_VERSION = "{version}"' in cell
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell), nbformat.v4.new_code_cell(REPORT_CELL)])
    client = nbclient.NotebookClient(nb, kernel_name=name, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    error = None
    with client.setup_kernel():
        start = time.monotonic()
        try:
            client.execute_cell(nb.cells[0], 0)
            seconds = time.monotonic() - start
            client.execute_cell(nb.cells[1], 1)
        except nbclient.exceptions.CellExecutionError as exc:
            seconds = time.monotonic() - start
            error = exc
    outputs = [o for c in nb.cells for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs)
    report = next(
        (json.loads(line.split(" ", 1)[1]) for line in printed.splitlines() if line.startswith("INSTALADO ")), None
    )
    errors = [o for o in outputs if o.output_type == "error"]
    return printed, (errors[0] if errors else error), report, seconds, kernel_target


def test_release_installs_the_wheel_from_the_index_then_skips_pip(servers, tmp_path, monkeypatch) -> None:
    printed, error, report, seconds, target = run_setup_cell(servers, tmp_path / "a", "publicada", RELEASE, monkeypatch)
    assert error is None, (error, printed[-3000:])
    assert f"Instalando el curso {RELEASE} con pip desde el índice de paquetes de Python (PyPI)" in printed, printed
    assert report["version"] == RELEASE and report["course_lib"].startswith(str(target)), report
    assert report["direct_url"] is None, "del índice, no de git ni de una carpeta"
    requests = servers["index_log"].read_text(encoding="utf-8")
    assert f"{RELEASE}-py3-none-any.whl" in requests and ".tar.gz HTTP" not in requests, requests
    print(f"\nInstalación de la rueda desde el índice local: {seconds:.1f} s (la celda entera)")

    # Otra sesión con el curso ya instalado en esa versión: la celda no llama a pip.
    printed, error, report, _, _ = run_setup_cell(
        servers, tmp_path / "b", "publicada_otra_vez", RELEASE, monkeypatch, target=target
    )
    assert error is None and "Instalando" not in printed and report["version"] == RELEASE, printed[-2000:]


def test_dev_version_installs_main_from_the_git_server(servers, tmp_path, monkeypatch) -> None:
    printed, error, report, seconds, target = run_setup_cell(servers, tmp_path, "en_preparacion", DEV, monkeypatch)
    assert error is None, (error, printed[-3000:])
    assert f"desde la rama main del repositorio {INFO['repo']} (git+{INFO['repo']}@main)" in printed, printed
    assert report["version"] == DEV and report["course_lib"].startswith(str(target)), report
    vcs = report["direct_url"]["vcs_info"]
    assert vcs["vcs"] == "git" and vcs["commit_id"] == servers["main_commit"], report
    print(f"\nInstalación desde git (clonar y construir): {seconds:.1f} s (la celda entera)")


def test_version_not_on_the_index_fails_in_spanish(servers, tmp_path, monkeypatch) -> None:
    printed, error, report, _, _ = run_setup_cell(servers, tmp_path, "no_publicada", MISSING, monkeypatch)
    assert error is not None and report is None
    assert error.ename == "RuntimeError", error
    assert f"No se pudo instalar el curso {MISSING} desde el índice de paquetes de Python (PyPI)" in error.evalue
    assert f"la versión {MISSING} aún no está publicada en PyPI" in error.evalue and "CURSO_FUENTE" in error.evalue
    assert "No matching distribution" in printed or "from versions" in printed, printed[-2000:]  # lo que dijo pip
