"""El libro del curso (``make libro``): construido en modo rápido y abierto en un navegador de verdad.

Construye con ``libro/construir.py`` y ``CURSO_RAPIDO=1``, en una carpeta temporal, la portada y
dos cuadernos (el primero y ``02_autoatencion``, el del mapa de calor): la cadena entera (copias
limpias, ejecución con caché, Sphinx) en menos de un minuto. Que el libro recoja todos los
cuadernos de ``solutions/`` se comprueba sin ejecutarlos. Después sirve el sitio en ``127.0.0.1``
y lo abre con el Chromium de Debian sin ventana, como ``tests/test_navegador.py``: el título, una
figura y una fórmula dibujada por MathJax (sin red), y ningún enlace fuera del sitio salvo a Colab,
a las referencias que citan los cuadernos y los botones del repositorio (``libro/conf.py``).

Sin la pila del libro (``pip install -e ".[libro]"``, Python ≥ 3.11) o sin Chromium, las pruebas
que los necesitan se saltan y dicen por qué.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from libro.construir import assignments, clean_notebook, colab_url, index_page, widgets_as_text
from tests.cuadernos import ALL_ASSIGNMENTS, ROOT, nbgrader_meta, read, release_path, solution_path, tool_env
from tests.test_navegador import (
    MIN_SCREENSHOT_BYTES,
    PNG_SIGNATURE,
    normalise,
    notebook_title,
    require_chromium,
    run_chromium,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.cuadernos

PAGE = "02_autoatencion"
BUILT = ["00", "02"]  # prefijos de los cuadernos que se construyen: el primero y el del mapa de calor
BOOK_TITLE = "Atención y Transformers"
BUILD_TIMEOUT = 600  # segundos; en modo rápido tarda menos de un minuto
STACK_MISSING = (
    'Falta la pila del libro (myst-nb, sphinx-book-theme): pip install -e ".[libro]", que pide '
    "Python 3.11 o posterior (make libro la instala)."
)
COLAB = "colab.research.google.com"
# Los botones del repositorio de la cabecera (libro/conf.py): el repositorio y «Abrir una incidencia»,
# con las direcciones de [project.urls] de pyproject.toml.
PROJECT_URLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
URL = re.compile(r"https?://[^\s<>\"'`\]]+")


# --- Lo que se comprueba en las páginas (funciones puras, para probar que pueden fallar) -------


class _Page(HTMLParser):
    """Los encabezados ``<h1>``, las imágenes de las salidas, las fórmulas y los enlaces de una página."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self.output_images: list[str] = []
        self.formulas = 0
        self.links: list[tuple[str, str, str]] = []  # (etiqueta, atributo, valor)
        self.lang = ""
        self._h1 = 0
        self._headerlink = 0  # el «#» que Sphinx pone en cada encabezado
        self._output = 0  # profundidad dentro de una salida de celda

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = values.get("class", "").split()
        if tag == "html":
            self.lang = values.get("lang", "")
        if tag == "mjx-container":
            self.formulas += 1
        for attr in ("href", "src"):
            if values.get(attr):
                self.links.append((tag, attr, values[attr]))
        if self._output or "cell_output" in classes:
            self._output += tag not in _VOID
        if tag == "img" and self._output:
            self.output_images.append(values.get("src", ""))
        if tag == "h1":
            self._h1 += 1
            self.headings.append("")
        elif self._h1 and (self._headerlink or "headerlink" in classes):
            self._headerlink += 1

    def handle_endtag(self, tag: str) -> None:
        if self._output and tag not in _VOID:
            self._output -= 1
        if self._headerlink:
            self._headerlink -= 1
        elif tag == "h1" and self._h1:
            self._h1 -= 1

    def handle_data(self, data: str) -> None:
        if self._h1 and not self._headerlink:
            self.headings[-1] += data


_VOID = {"img", "br", "hr", "input", "meta", "link", "source", "wbr", "area", "col", "embed", "track"}


def read_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def page_problems(dom: str, html_dir: Path, title: str) -> list[str]:
    """Lo que le falta a una página dibujada: su título, una figura que exista y una fórmula de MathJax."""
    page = read_page(dom)
    problems = []
    if page.lang != "es":
        problems.append(f"la página no está marcada en español (lang={page.lang!r})")
    headings = [normalise(h) for h in page.headings]
    if title not in headings:
        problems.append(f"no se ve el título «{title}»; encabezados: {headings}")
    figures = [src for src in page.output_images if (html_dir / unquote(urlsplit(src).path)).is_file()]
    if not figures:
        problems.append(f"ninguna figura en las salidas (imágenes vistas: {page.output_images})")
    if not page.formulas:
        problems.append("ninguna fórmula dibujada por MathJax (sin elementos mjx-container)")
    return problems


def cited_urls() -> set[str]:
    """Las direcciones que citan los textos del curso: las de las celdas de texto y la portada."""
    texts = [(ROOT / "libro" / "inicio.md").read_text(encoding="utf-8")]
    for assignment in ALL_ASSIGNMENTS:
        texts += [c.source for c in read(solution_path(assignment)).cells if c.cell_type == "markdown"]
    return {url for text in texts for url in URL.findall(text)}


def link_problems(pages: dict[str, str], html_dir: Path, cited: set[str]) -> list[str]:
    """Enlaces de ``pages`` (``{nombre: html}``) que salen del sitio sin ir a Colab ni a una
    referencia citada, recursos (scripts, estilos, imágenes) de fuera, y enlaces internos rotos."""
    problems = []
    for name, text in sorted(pages.items()):
        for tag, attr, value in read_page(text).links:
            parts = urlsplit(value)
            if parts.scheme in ("http", "https") or value.startswith("//"):
                if tag in ("script", "link") or (tag == "img" and parts.hostname != COLAB):
                    problems.append(f"{name}: <{tag} {attr}> carga algo de fuera del sitio: {value}")
                elif (
                    parts.hostname != COLAB
                    and not _repository_button(value)
                    and not any(_cites(url, value) for url in cited)
                ):
                    problems.append(f"{name}: enlace fuera del sitio que no es Colab ni una referencia: {value}")
            elif parts.scheme in ("", "file") and parts.path and not value.startswith(("mailto:", "data:")):
                target = (html_dir / Path(name).parent / unquote(parts.path)).resolve()
                if not target.exists():
                    problems.append(f"{name}: enlace interno roto: {value}")
    return problems


def _repository_button(link: str) -> bool:
    """¿Es ``link`` uno de los botones del repositorio: el repositorio o una incidencia nueva?"""
    return link == PROJECT_URLS["Repository"] or link.startswith(PROJECT_URLS["Issues"] + "/new?")


def _cites(cited: str, link: str) -> bool:
    """¿Es ``link`` la dirección citada, sin la puntuación que la sigue en el texto?"""
    return cited.startswith(link) and not cited[len(link) :].strip(".,;:)»")


# --- Sin construir: limpieza de los cuadernos y portada -------------------------------------


@pytest.mark.parametrize("assignment", ALL_ASSIGNMENTS)
def test_graded_cells_are_shown_as_the_student_sees_them(assignment: str) -> None:
    """Las pruebas calificadas, como en notebooks/ (sin pruebas ocultas); las soluciones, sin marcas."""
    if not release_path(assignment).exists():
        pytest.skip(f"{assignment} aún no tiene versión del alumnado (make release)")
    clean = clean_notebook(read(solution_path(assignment)), assignment, has_student_copy=True)
    released = {nbgrader_meta(c).get("grade_id"): c.source for c in read(release_path(assignment)).cells}
    graded = [c for c in clean.cells if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
    assert graded, f"{assignment} no tiene pruebas calificadas"
    for cell in graded:
        assert cell.source == released[nbgrader_meta(cell)["grade_id"]], nbgrader_meta(cell)["grade_id"]
        assert "hide-input" in cell.metadata["tags"]
    for cell in clean.cells:
        assert not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", cell.source), cell.source[:200]
        assert not cell.get("outputs")
    first = clean.cells[0].source
    assert colab_url(assignment) in first and f"alumnado/{assignment}.ipynb" in first
    assert "colab-badge.svg" not in first, "la insignia debe ser la copia local (el sitio se lee sin red)"


def test_every_solution_folder_is_in_the_book() -> None:
    """El libro toma todas las carpetas de solutions/ (un cuaderno nuevo entra solo) y la portada las enlaza."""
    assert assignments() == ALL_ASSIGNMENTS
    notebooks = {a: read(solution_path(a)) for a in ALL_ASSIGNMENTS}
    page = index_page(notebooks, set(ALL_ASSIGNMENTS), "normal")
    for assignment in ALL_ASSIGNMENTS:
        assert f"]({assignment}.ipynb)" in page, f"la tabla de la portada no enlaza {assignment}"
        assert f"\n{assignment}\n" in page, f"{assignment} no está en el índice (la navegación)"
        assert colab_url(assignment) in page
    for words in ("Para quién", "Estudiante", "Colab", "nbgrader"):
        assert words in page


def test_progress_bars_become_their_final_text() -> None:
    """Una barra de tqdm guardada como «widget» se ve con su texto final; una cerrada desaparece."""

    def bar(prefix: str) -> dict:
        return {
            f"{prefix}box": {
                "model_name": "HBoxModel",
                "state": {"children": [f"IPY_MODEL_{prefix}{i}" for i in "abc"], "layout": f"IPY_MODEL_{prefix}lay"},
            },
            f"{prefix}a": {"model_name": "HTMLModel", "state": {"value": "Entrenando:\u2007100%"}},
            f"{prefix}b": {"model_name": "FloatProgressModel", "state": {"value": 12.0, "max": 12.0}},
            f"{prefix}c": {"model_name": "HTMLModel", "state": {"value": "\u200712/12\u2007[00:01&lt;00:00]"}},
            f"{prefix}lay": {"model_name": "LayoutModel", "state": {"visibility": "hidden" if prefix == "y" else None}},
        }

    view = "application/vnd.jupyter.widget-view+json"
    outputs = [
        nbformat.v4.new_output("display_data", data={view: {"model_id": f"{p}box"}, "text/plain": "0%"}) for p in "xy"
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("fit()", outputs=outputs)])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {**bar("x"), **bar("y")}}}
    widgets_as_text(nb)
    assert [o.get("text") for o in nb.cells[0].outputs] == ["Entrenando: 100%|██████████| 12/12 [00:01<00:00]\n"]
    assert "widgets" not in nb.metadata


def test_link_check_can_fail(tmp_path: Path) -> None:
    page = (
        '<html lang="es"><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        '<a href="https://example.org/otra">fuera</a><a href="falta.html">roto</a>'
        f'<a href="{colab_url(PAGE)}">Colab</a><a href="https://arxiv.org/abs/1706.03762">cita</a></html>'
    )
    problems = link_problems({"p.html": page}, tmp_path, {"https://arxiv.org/abs/1706.03762)."})
    assert len(problems) == 3, problems
    assert any("cdn.jsdelivr.net" in p for p in problems)
    assert any("example.org" in p for p in problems)
    assert any("falta.html" in p for p in problems)


def test_page_check_can_fail(tmp_path: Path) -> None:
    dom = '<html lang="en"><h1>Otro título<a class="headerlink" href="#">#</a></h1><p>$x$</p></html>'
    problems = page_problems(dom, tmp_path, "02 · Autoatención")
    assert len(problems) == 4, problems


# --- Construido en modo rápido y abierto en Chromium -----------------------------------------


def build(folder: Path) -> str:
    """Lanza ``python -m libro.construir`` en modo rápido con los cuadernos de BUILT; devuelve su registro."""
    result = subprocess.run(
        [sys.executable, "-m", "libro.construir", "--carpeta", str(folder), *BUILT],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"la construcción del libro falló ({result.returncode}):\n{log[-4000:]}"
    return log


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``(carpeta html, registro)`` del libro construido en modo rápido en una carpeta temporal."""
    if importlib.util.find_spec("myst_nb") is None or importlib.util.find_spec("sphinx_book_theme") is None:
        pytest.skip(STACK_MISSING)
    folder = tmp_path_factory.mktemp("libro")
    return folder / "html", build(folder)


@pytest.fixture(scope="module")
def served(site: tuple[Path, str]) -> Iterator[str]:
    """El sitio servido en 127.0.0.1 (como lo serviría GitHub Pages): su dirección base."""
    handler = functools.partial(_QuietHandler, directory=str(site[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (la firma de la clase base)
        pass


@pytest.fixture()
def chromium() -> str:
    return require_chromium()


def test_book_is_built_from_a_cache(site: tuple[Path, str]) -> None:
    """Construido en modo rápido, con los cuadernos pedidos; otra construcción no ejecuta nada."""
    html_dir, log = site
    for page in ("index.html", "00_preliminares.html", f"{PAGE}.html", ".nojekyll"):
        assert (html_dir / page).is_file(), f"falta {page} en el sitio:\n{log[-3000:]}"
    assert f"→ ejecutando {PAGE}" in log and "modo rápido" in log, log[-3000:]
    again = build(html_dir.parent)
    assert "→ ejecutando" not in again, f"un cuaderno sin cambios se volvió a ejecutar:\n{again[-3000:]}"
    assert re.search(rf"\| {PAGE} \| [\d.]+ s \| caché \|", again), again[-3000:]


def test_no_page_links_outside_the_site(site: tuple[Path, str]) -> None:
    html_dir = site[0]
    pages = {str(p.relative_to(html_dir)): p.read_text(encoding="utf-8") for p in html_dir.glob("*.html")}
    assert len(pages) >= 3
    assert link_problems(pages, html_dir, cited_urls()) == []


def test_student_notebook_is_bundled(site: tuple[Path, str]) -> None:
    """El enlace «cuaderno del alumnado» descarga la copia de notebooks/, tal cual."""
    html_dir = site[0]
    links = [v for _, a, v in read_page((html_dir / f"{PAGE}.html").read_text(encoding="utf-8")).links if a == "href"]
    downloads = [v for v in links if v.endswith(f"/{PAGE}.ipynb") and v.startswith("_downloads/")]
    assert downloads, f"la página no enlaza el cuaderno del alumnado: {links}"
    assert (html_dir / downloads[0]).read_bytes() == release_path(PAGE).read_bytes()
    assert colab_url(PAGE) in links


@pytest.mark.parametrize(
    ("page", "title"),
    [("index.html", BOOK_TITLE), (f"{PAGE}.html", None)],
    ids=["portada", PAGE],
)
def test_page_renders_in_chromium(
    page: str, title: str | None, site: tuple[Path, str], served: str, chromium: str, tmp_path: Path
) -> None:
    html_dir = site[0]
    env = tool_env(HOME=str(tmp_path / "home"))
    dom = run_chromium(chromium, tmp_path / "perfil", f"{served}/{page}", "--dump-dom", env=env)
    if title is None:
        assert page_problems(dom, html_dir, notebook_title(solution_path(PAGE))) == []
        screenshot = tmp_path / f"{PAGE}.png"
        run_chromium(
            chromium,
            tmp_path / "perfil_captura",
            f"{served}/{page}",
            f"--screenshot={screenshot}",
            "--window-size=1400,1000",
            env=env,
        )
        data = screenshot.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > MIN_SCREENSHOT_BYTES, "captura vacía o no PNG"
    else:
        parsed = read_page(dom)
        assert title in [normalise(h) for h in parsed.headings], parsed.headings
        assert parsed.lang == "es"
        hrefs = [v for _, a, v in parsed.links if a == "href"]
        assert f"{PAGE}.html" in hrefs, "la portada no enlaza la página del cuaderno"
        assert colab_url(PAGE) in hrefs, "la portada no tiene la insignia de Colab del cuaderno"


def test_site_is_in_spanish(site: tuple[Path, str]) -> None:
    """Sphinx construye con language = "es": la búsqueda y los textos del tema, en español."""
    options = (site[0] / "_static" / "documentation_options.js").read_text(encoding="utf-8")
    assert re.search(r"LANGUAGE:\s*'es'", options), options
    assert "En esta página" in (site[0] / f"{PAGE}.html").read_text(encoding="utf-8")
