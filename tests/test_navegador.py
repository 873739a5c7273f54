"""JupyterLab en un navegador de verdad: lo que ve una persona nueva al abrir un cuaderno.

Arranca ``jupyter lab`` del entorno virtual sobre ``notebooks/`` y abre el cuaderno
``02_autoatencion`` con el Chromium de Debian sin ventana (``--headless``): primero vuelca
el DOM ya dibujado y después guarda una captura de pantalla. Comprueba que se ven las celdas
del cuaderno y su título en español. Toda la configuración y los datos de Jupyter y de
Chromium van a carpetas temporales: ni el repositorio ni ``$HOME`` cambian.

Sin el paquete ``chromium`` (``sudo apt-get install chromium``; ``.ci/run`` lo instala)
la prueba se salta y lo dice.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from tests.cuadernos import RELEASE, tool_env

pytestmark = pytest.mark.cuadernos

ASSIGNMENT = "02_autoatencion"
CHROMIUM_MISSING = (
    "Chromium no está instalado: en Debian/Ubuntu, `sudo apt-get install chromium` "
    "(CI lo instala en .ci/run). Sin él no se puede abrir JupyterLab en un navegador."
)
# El complemento de JupyterLab que pregunta por las noticias de Jupyter al primer arranque:
# su aviso taparía el cuaderno en la captura y, además, consultaría internet.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
SERVER_START_TIMEOUT = 90  # segundos hasta que /api/status responde
SERVER_STOP_TIMEOUT = 15  # segundos tras SIGTERM antes de pasar a SIGKILL
CHROMIUM_TIMEOUT = 120  # segundos reales para cada ejecución de Chromium
VIRTUAL_TIME_MS = 25000  # tiempo virtual que Chromium deja a JupyterLab para dibujar la página
MIN_SCREENSHOT_BYTES = 20_000  # una captura en blanco de 1400x1000 ocupa bastante menos
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def find_chromium() -> str | None:
    """La ruta del Chromium de Debian (``chromium``) o de Ubuntu (``chromium-browser``)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def normalise(text: str) -> str:
    """Texto sin entidades HTML y con los espacios (incluidos los duros) reducidos a uno."""
    return re.sub(r"\s+", " ", html.unescape(text).replace("\xa0", " ")).strip()


def notebook_title(path: Path) -> str:
    """El título del cuaderno: el primer encabezado ``# `` de su primera celda de texto."""
    nb = nbformat.read(path, as_version=4)
    first_markdown = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    for line in first_markdown.source.splitlines():
        if line.startswith("# "):
            return normalise(line.removeprefix("# "))
    raise AssertionError(f"{path.name}: la primera celda de texto no empieza con un título «# »")


class _PageReader(HTMLParser):
    """Recoge las clases CSS de todos los elementos y el texto de los encabezados ``<h1>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.classes: set[str] = set()
        self.headings: list[str] = []
        self._h1_depth = 0
        self._anchor_depth = 0  # el enlace «¶» que JupyterLab añade a cada encabezado

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.classes.update(classes)
        if tag == "h1":
            self._h1_depth += 1
            self.headings.append("")
        elif self._h1_depth and (self._anchor_depth or "jp-InternalAnchorLink" in classes):
            self._anchor_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._anchor_depth:
            self._anchor_depth -= 1
        elif tag == "h1" and self._h1_depth:
            self._h1_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._h1_depth and not self._anchor_depth:
            self.headings[-1] += data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else "(sin registro)"


def isolated_env(base: Path) -> dict[str, str]:
    """Entorno con ``$HOME`` y todas las carpetas de Jupyter e IPython dentro de ``base``."""
    dirs = {name: base / name for name in ("home", "config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    page_config = {"disabledExtensions": {NEWS_PLUGIN: True}}
    (labconfig / "page_config.json").write_text(json.dumps(page_config), encoding="utf-8")
    # Sin guardado automático: JupyterLab marca el cuaderno como modificado al conectar el
    # núcleo y no debe reescribir el de notebooks/.
    docmanager = dirs["config"] / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}), encoding="utf-8")
    return tool_env(
        HOME=str(dirs["home"]),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        XDG_CONFIG_HOME=str(dirs["home"] / ".config"),
        XDG_CACHE_HOME=str(dirs["home"] / ".cache"),
    )


def wait_for_server(process: subprocess.Popen, url: str, log: Path) -> None:
    """Espera a que ``/api/status`` responda; si no, falla con el final del registro."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab terminó al arrancar (código {process.returncode}):\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab no respondió en {url} tras {SERVER_START_TIMEOUT} s:\n{log_tail(log)}")


def stop_process_group(process: subprocess.Popen) -> None:
    """Termina el grupo de procesos de ``process``: SIGTERM, y SIGKILL si no acaba a tiempo."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=SERVER_STOP_TIMEOUT)
    assert process.poll() is not None, f"el proceso {process.pid} sigue vivo tras SIGKILL"


def run_chromium(chromium: str, profile: Path, url: str, *mode: str, env: dict[str, str]) -> str:
    """Abre ``url`` en Chromium sin ventana, con un perfil nuevo, y devuelve lo que escribe."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",  # como root (en CI) Chromium no arranca con su caja de arena
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        *mode,
        url,
    ]
    # Su propio grupo de procesos: si se pasa de tiempo, se terminan también sus hijos.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_process_group(process)
        pytest.fail(f"Chromium no terminó en {CHROMIUM_TIMEOUT} s con {' '.join(mode)}")
    finally:
        stop_process_group(process)
    assert process.returncode == 0, f"Chromium falló ({process.returncode}) con {' '.join(mode)}:\n{stderr[-3000:]}"
    return stdout


def require_chromium() -> str:
    """La ruta de Chromium; si no está, salta la prueba explicando cómo instalarlo."""
    path = find_chromium()
    if path is None:
        pytest.skip(CHROMIUM_MISSING)
    return path


@pytest.fixture()
def chromium() -> str:
    return require_chromium()


def test_chromium_missing_skips_with_spanish_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sin Chromium en el PATH, la prueba del navegador se salta con un motivo en español."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert find_chromium() is None
    with pytest.raises(pytest.skip.Exception, match="Chromium no está instalado"):
        require_chromium()


def test_notebook_renders_in_jupyterlab(chromium: str, tmp_path: Path) -> None:
    notebook = RELEASE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    title = notebook_title(notebook)
    env = isolated_env(tmp_path / "entorno")
    port, token = free_port(), secrets.token_hex(24)
    server_log = tmp_path / "jupyter_lab.log"
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={RELEASE}",
        # Los puntos de control (.ipynb_checkpoints) que crea al abrir el cuaderno, fuera del repositorio.
        f"--FileCheckpoints.checkpoint_dir={tmp_path / 'puntos_de_control'}",
        "--LabApp.news_url=None",  # tampoco busca noticias en internet
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.getuid() == 0:
        command.append("--allow-root")
    with open(server_log, "w", encoding="utf-8") as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(server, f"{base}/api/status?token={token}", server_log)
        url = f"{base}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={token}"

        dom = run_chromium(chromium, tmp_path / "perfil_dom", url, "--dump-dom", env=env)
        page = _PageReader()
        page.feed(dom)
        assert "jp-Cell" in page.classes, (
            f"JupyterLab no dibujó ninguna celda del cuaderno (sin clase jp-Cell).\n"
            f"Registro del servidor:\n{log_tail(server_log)}"
        )
        assert "Jupyter news" not in dom, "JupyterLab pregunta por las noticias de Jupyter: el aviso tapa el cuaderno"
        headings = [normalise(h) for h in page.headings]
        assert title in headings, f"no se ve el título «{title}» del cuaderno; encabezados vistos: {headings}"

        screenshot = tmp_path / f"{ASSIGNMENT}.png"
        run_chromium(
            chromium,
            tmp_path / "perfil_captura",
            url,
            f"--screenshot={screenshot}",
            "--window-size=1400,1000",
            env=env,
        )
        assert screenshot.exists(), "Chromium no guardó la captura de pantalla"
        data = screenshot.read_bytes()
        assert data.startswith(PNG_SIGNATURE), "la captura no es un PNG"
        assert len(data) > MIN_SCREENSHOT_BYTES, f"la captura ocupa solo {len(data)} bytes: ¿página en blanco?"
    finally:
        stop_process_group(server)
    assert server.returncode is not None
