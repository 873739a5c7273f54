"""Configuración de Sphinx para el libro del curso (``make libro``; lo lanza ``libro/construir.py``).

La pila es la de Jupyter Book 1: Sphinx, ``myst-nb`` (lee los cuadernos, los ejecuta y guarda
la ejecución en una caché de ``jupyter-cache``) y ``sphinx-book-theme``. Las fórmulas las
dibuja MathJax desde una copia local (``sphinx-mathjax-offline``): el sitio se lee sin red.

``construir.py`` ejecuta antes los cuadernos que no estén en la caché (y convierte sus barras de
progreso en texto); ``myst-nb`` solo toma de la caché las salidas. La ubicación de la caché, que
depende del modo, llega en la variable de entorno ``LIBRO_CACHE``.

Los botones del repositorio («Repositorio» y «Abrir una incidencia») toman sus direcciones de
``[project.urls]`` de ``pyproject.toml``, el único sitio donde se escriben: un fork que cambie esas
líneas tiene los botones bien sin tocar este archivo.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover (la pila del libro pide Python 3.11; las pruebas leen este archivo también en 3.10)
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"  # en la raíz, un nivel por encima de libro/
PROJECT_URLS = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["urls"]

project = "Atención y Transformers"
author = "Atención y Transformers"
copyright = "código con licencia MIT; prosa, figuras y ejercicios con CC BY 4.0"
language = "es"

extensions = [
    "myst_nb",
    "sphinx.ext.mathjax",
    # El nombre lleva guiones: es el de la carpeta que instala el paquete. Copia MathJax 3 al
    # sitio y apunta ``mathjax_path`` a esa copia, en vez de a un CDN.
    "sphinx-mathjax-offline",
    # Un archivo .nojekyll en el sitio: sin él, GitHub Pages no sirve las carpetas que empiezan
    # por «_» (_static, _images).
    "sphinx.ext.githubpages",
]

# Los cuadernos del alumnado se descargan tal cual: no son páginas (ni se ejecutan).
exclude_patterns = ["alumnado", "**.ipynb_checkpoints"]
root_doc = "index"

# --- Cuadernos (myst-nb) --------------------------------------------------------------------
# «cache»: las salidas salen de la caché de jupyter-cache, que las guarda por el código de cada
# cuaderno; uno cuyo código cambió se vuelve a ejecutar. construir.py ya lo ha ejecutado; si se
# lanza sphinx-build a mano, myst-nb lo ejecuta él, con estos mismos ajustes.
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("LIBRO_CACHE", "_build/cache")
# Cada cuaderno en una carpeta temporal nueva, como tests/completos.py: no reanuda puntos de
# control de una ejecución anterior ni deja archivos en el repositorio.
nb_execution_in_temp = True
# Segundos por celda: el entrenamiento del 07 en modo normal dura unos 10 minutos.
nb_execution_timeout = 3600
# Un cuaderno que falla hace fallar la construcción: el libro no publica errores.
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Las barras de progreso de tqdm son «widgets» de Jupyter: dibujarlos pediría JavaScript de un
# CDN. construir.py las guarda como texto; si quedara alguna, se muestra su texto, sin CDN.
nb_ipywidgets_js: dict = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
# Las celdas plegadas (configuración, soluciones y pruebas calificadas) dicen qué esconden; cada
# una lleva su propio texto (construir.py), y este es el de reserva.
nb_code_prompt_show = "Mostrar el código"
nb_code_prompt_hide = "Ocultar el código"

# --- Texto (MyST) ---------------------------------------------------------------------------
# $…$ y $$…$$ como en Jupyter; las direcciones sueltas de «Para saber más» se vuelven enlaces,
# como las muestra JupyterLab.
myst_enable_extensions = ["dollarmath", "amsmath", "linkify"]
myst_heading_anchors = 3

# --- HTML -----------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Atención y Transformers"
html_static_path: list[str] = []
html_show_sourcelink = False
html_show_sphinx = False
html_copy_source = False
html_last_updated_fmt = ""
html_theme_options = {
    "home_page_in_toc": True,
    "toc_title": "En esta página",
    # Los botones del repositorio: «Repositorio» lleva al del curso y «Abrir una incidencia» abre
    # una en él sobre la página que se está leyendo (spanish_repository_buttons, abajo, pone sus
    # textos en español).
    "repository_url": PROJECT_URLS["Repository"],
    "repository_branch": "main",
    # Las fuentes propias del libro (esta configuración y la portada) están en libro/. Las páginas
    # de los cuadernos se generan en libro/_build/ a partir de solutions/, así que los botones
    # «Editar» y «Ver el código fuente» llevarían a archivos que no existen: se quedan apagados.
    "path_to_docs": "libro",
    "use_repository_button": True,
    "use_issues_button": True,
    "use_edit_page_button": False,
    "use_source_button": False,
    # El botón de descarga no se enciende: ofrecería el .ipynb con el que se construye la página,
    # que es el cuaderno RESUELTO (con las soluciones de los ejercicios que se califican), y con
    # html_copy_source = False enlazaría además a _sources/, que no existe. El alumnado descarga su
    # cuaderno (la copia de notebooks/, sin soluciones) con el enlace que hay bajo el título de cada
    # página, o lo abre en Colab; para guardar una página, el navegador la imprime en PDF.
    "use_download_button": False,
    "use_fullscreen_button": True,
    "show_navbar_depth": 1,
    "footer_content_items": ["copyright.html"],
}


# --- Los botones del repositorio, en español --------------------------------------------------
# sphinx-book-theme 1.4 no traduce al español «Repository» ni «Open issue», y la incidencia que
# abre lleva un título y un texto en inglés («Issue on page …», «Your issue content here.»).
SPANISH_BUTTONS = {
    "source-buttons": {"tooltip": "El repositorio del curso"},
    "source-repository-button": {"text": "Repositorio", "tooltip": "El repositorio del curso"},
    "source-issues-button": {"text": "Abrir una incidencia", "tooltip": "Abrir una incidencia sobre esta página"},
}


def issue_url(pagename: str) -> str:
    """La dirección de una incidencia nueva sobre la página ``pagename``, con su título y un texto guía."""
    title = quote(f"Sobre la página {pagename}.html")
    body = quote("Qué celda o qué párrafo, qué esperabas y qué ocurrió (con el mensaje de error, si lo hay).")
    return f"{PROJECT_URLS['Issues']}/new?title={title}&body={body}"


def spanish_repository_buttons(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Pone en español los textos de los botones del repositorio que el tema acaba de crear."""
    pending = list(context.get("header_buttons", []))
    while pending:
        button = pending.pop()
        pending += button.get("buttons", [])  # un grupo (menú desplegable) lleva sus botones dentro
        button.update(SPANISH_BUTTONS.get(button.get("label"), {}))
        if button.get("label") == "source-issues-button":
            button["url"] = issue_url(pagename)


def setup(app) -> None:
    # Prioridad 502: después de add_source_buttons del tema (501), que crea los botones.
    app.connect("html-page-context", spanish_repository_buttons, priority=502)
