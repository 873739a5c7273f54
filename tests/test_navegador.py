"""JupyterLab en un navegador de verdad: lo que ve una persona nueva tras ``make lab``.

Arranca JupyterLab con ``make lab`` (el del entorno virtual, con los ajustes por defecto que
``make instalar`` copió de ``jupyter/overrides.json``) y abre el cuaderno ``02_autoatencion`` con
el Chromium de Debian sin ventana (``--headless``): primero vuelca el DOM ya dibujado y después
guarda una captura de pantalla. Comprueba que se ven las celdas del cuaderno y su título, que la
barra de menús está en español y que ningún aviso (las noticias de Jupyter, las versiones nuevas)
tapa el cuaderno ni hace que JupyterLab consulte internet. Toda la configuración y los datos de
Jupyter y de Chromium van a carpetas temporales: ni el repositorio ni ``$HOME`` cambian.

Sin el paquete ``chromium`` (``sudo apt-get install chromium``; ``.ci/run`` lo instala)
la prueba del navegador se salta y lo dice.
"""

from __future__ import annotations

import gettext
import html
import importlib.util
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

from tests.cuadernos import RELEASE, ROOT, tool_env

pytestmark = pytest.mark.cuadernos

ASSIGNMENT = "02_autoatencion"
CHROMIUM_MISSING = (
    "Chromium no está instalado: en Debian/Ubuntu, `sudo apt-get install chromium` "
    "(CI lo instala en .ci/run). Sin él no se puede abrir JupyterLab en un navegador."
)
# Los valores por defecto de JupyterLab que pone el curso (idioma, sin noticias ni avisos de
# versiones nuevas) y dónde los deja make instalar: la carpeta de ajustes de la aplicación.
COURSE_LAB_SETTINGS = ROOT / "jupyter" / "overrides.json"
VENV_LAB_SETTINGS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
LANGUAGE_PACK = "jupyterlab_language_pack_es_ES"
# La barra de menús con el paquete es_ES. No se miran «Run», «Kernel» ni «Tabs»: su traducción
# (4.5.post3) los deja en inglés, así que no distinguen un idioma del otro.
SPANISH_MENUS = ("Archivo", "Editar", "Ver", "Configuración", "Ayuda")
ENGLISH_MENUS = ("File", "Edit", "View", "Settings", "Help")
# Lo que pregunta JupyterLab al primer arranque si nadie ha elegido (fetchNews = "none"): el aviso
# no se cierra solo y tapa una esquina del cuaderno.
NEWS_PROMPT = "Would you like to get notified about official Jupyter news?"
# Lo que pide el navegador al servidor para buscar en internet noticias y versiones nuevas, y lo
# que pide el complemento de esos avisos al arrancar (prueba de que está activo y de que el registro
# anota las peticiones).
INTERNET_APIS = ("/lab/api/news", "/lab/api/update")
ANNOUNCEMENTS_STATE = "/api/config/jupyterlabapputilsextensionannouncements"
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
    """Recoge las clases CSS de todos los elementos, el texto de los encabezados ``<h1>`` y las
    etiquetas de la barra de menús."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.classes: set[str] = set()
        self.headings: list[str] = []
        self.menus: list[str] = []
        self._h1_depth = 0
        self._anchor_depth = 0  # el enlace «¶» que JupyterLab añade a cada encabezado
        self._menu_depth = 0  # dentro de una etiqueta de la barra de menús (con su letra subrayada)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        self.classes.update(classes)
        if self._menu_depth:
            self._menu_depth += 1
        elif "lm-MenuBar-itemLabel" in classes:
            self._menu_depth = 1
            self.menus.append("")
        if tag == "h1":
            self._h1_depth += 1
            self.headings.append("")
        elif self._h1_depth and (self._anchor_depth or "jp-InternalAnchorLink" in classes):
            self._anchor_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._menu_depth:
            self._menu_depth -= 1
        if self._anchor_depth:
            self._anchor_depth -= 1
        elif tag == "h1" and self._h1_depth:
            self._h1_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._menu_depth:
            self.menus[-1] += data
        if self._h1_depth and not self._anchor_depth:
            self.headings[-1] += data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else "(sin registro)"


def isolated_env(base: Path) -> dict[str, str]:
    """Entorno con ``$HOME`` y todas las carpetas de Jupyter e IPython dentro de ``base``.

    Los ajustes de la aplicación (``overrides.json``) siguen siendo los del entorno virtual: sin
    ``JUPYTERLAB_DIR``, JupyterLab los busca en ``<entorno>/share/jupyter/lab/settings``.
    """
    dirs = {name: base / name for name in ("home", "config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    user_settings = dirs["config"] / "lab" / "user-settings"
    # Sin guardado automático: JupyterLab marca el cuaderno como modificado al conectar el
    # núcleo y no debe reescribir el de notebooks/.
    docmanager = user_settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}), encoding="utf-8")
    env = tool_env(
        HOME=str(dirs["home"]),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTERLAB_SETTINGS_DIR=str(user_settings),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["config"] / "lab" / "workspaces"),
        XDG_CONFIG_HOME=str(dirs["home"] / ".config"),
        XDG_CACHE_HOME=str(dirs["home"] / ".cache"),
    )
    env.pop("JUPYTERLAB_DIR", None)
    return env


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


def check_lab_settings() -> None:
    """Los ajustes por defecto de JupyterLab en el entorno son los del curso (los copia make instalar)."""
    assert VENV_LAB_SETTINGS.is_file(), (
        f"El JupyterLab del entorno no tiene los ajustes del curso (idioma español, sin avisos de "
        f"noticias): falta {VENV_LAB_SETTINGS}. Ejecuta make instalar."
    )
    assert VENV_LAB_SETTINGS.read_bytes() == COURSE_LAB_SETTINGS.read_bytes(), (
        f"{VENV_LAB_SETTINGS} no es igual que jupyter/overrides.json (¿cambió después de instalar?). "
        f"Ejecuta make instalar, que lo vuelve a copiar."
    )


def news_prompts() -> list[str]:
    """La pregunta por las noticias de Jupyter, en inglés y como la traduzca el paquete de idioma."""
    spec = importlib.util.find_spec(LANGUAGE_PACK)
    assert spec is not None and spec.submodule_search_locations, (
        "Falta el paquete de idioma de JupyterLab (jupyterlab-language-pack-es-ES). Ejecuta make instalar."
    )
    locale_dir = Path(next(iter(spec.submodule_search_locations))) / "locale"
    catalog = gettext.translation("jupyterlab", locale_dir, languages=["es_ES"], fallback=True)
    return sorted({NEWS_PROMPT, catalog.gettext(NEWS_PROMPT)})


def start_make_lab(env: dict[str, str], port: int, token: str, scratch: Path, log: Path) -> subprocess.Popen:
    """``make lab`` con el entorno de esta prueba, sin reinstalar nada; devuelve el proceso de make.

    Lo que añade la prueba va en la configuración de Jupyter de la carpeta temporal (como lo pondría
    alguien en ``~/.jupyter``), no en la orden: el registro de cada petición (nivel DEBUG), los puntos
    de control fuera del repositorio y ningún otro puerto si ``port`` está ocupado.
    """
    server_config = {
        "ServerApp": {"port_retries": 0, "log_level": "DEBUG"},
        "FileCheckpoints": {"checkpoint_dir": str(scratch / "puntos_de_control")},
    }
    config_file = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    config_file.write_text(json.dumps(server_config), encoding="utf-8")
    command = ["make", f"VENV={sys.prefix}", f"PUERTO={port}", "lab", f"-o{sys.prefix}/.instalado-lab"]
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, "JUPYTER_TOKEN": token},
            start_new_session=True,
        )


@pytest.fixture()
def chromium() -> str:
    return require_chromium()


def test_chromium_missing_skips_with_spanish_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sin Chromium en el PATH, la prueba del navegador se salta con un motivo en español."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert find_chromium() is None
    with pytest.raises(pytest.skip.Exception, match="Chromium no está instalado"):
        require_chromium()


def test_make_instalar_copies_the_course_lab_settings() -> None:
    """make instalar deja jupyter/overrides.json en la carpeta de ajustes del JupyterLab del entorno."""
    check_lab_settings()


def test_notebook_renders_in_jupyterlab(chromium: str, tmp_path: Path) -> None:
    """Con make lab, el cuaderno se ve con su título, los menús en español y nada que lo tape."""
    notebook = RELEASE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    title = notebook_title(notebook)
    env = isolated_env(tmp_path / "entorno")
    port, token = free_port(), secrets.token_hex(24)
    server_log = tmp_path / "make_lab.log"
    server = start_make_lab(env, port, token, tmp_path, server_log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(server, f"{base}/api/status?token={token}", server_log)
        url = f"{base}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={token}"

        dom = run_chromium(chromium, tmp_path / "perfil_dom", url, "--dump-dom", env=env)
        (tmp_path / "pagina.html").write_text(dom, encoding="utf-8")
        page = _PageReader()
        page.feed(dom)
        assert "jp-Cell" in page.classes, (
            f"JupyterLab no dibujó ninguna celda del cuaderno (sin clase jp-Cell).\n"
            f"Registro del servidor:\n{log_tail(server_log)}"
        )
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

        # Lo que ve una persona nueva depende de jupyter/overrides.json: se comprueba todo a la vez.
        menus = [normalise(m) for m in page.menus]
        text = normalise(dom)
        log = server_log.read_text(encoding="utf-8", errors="replace")  # las peticiones de los dos Chromium
        assert ANNOUNCEMENTS_STATE in log, (
            "el registro del servidor no muestra que arrancara el complemento de los avisos de JupyterLab "
            "(@jupyterlab/apputils-extension:announcements): sin él, esta prueba no vería sus avisos"
        )
        problems = []
        if not set(SPANISH_MENUS) <= set(menus) or set(ENGLISH_MENUS) & set(menus):
            problems.append(f"la barra de menús no está en español: {menus} (se esperaban {list(SPANISH_MENUS)})")
        problems += [f"JupyterLab pregunta «{p}»: el aviso tapa el cuaderno" for p in news_prompts() if p in text]
        problems += [f"el navegador pidió {api}: JupyterLab consulta internet" for api in INTERNET_APIS if api in log]
        assert not problems, (
            "JupyterLab no arranca como lo deja make instalar (jupyter/overrides.json en la carpeta de ajustes "
            f"del entorno; la página y la captura están en {tmp_path}):\n- " + "\n- ".join(problems)
        )
    finally:
        stop_process_group(server)
    assert server.returncode is not None
