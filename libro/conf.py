"""Configuración de Sphinx para el libro del curso (``make libro``; lo lanza ``libro/construir.py``).

La pila es la de Jupyter Book 1: Sphinx, ``myst-nb`` (lee los cuadernos, los ejecuta y guarda
la ejecución en una caché de ``jupyter-cache``) y ``sphinx-book-theme``. Las fórmulas las
dibuja MathJax desde una copia local (``sphinx-mathjax-offline``): el sitio se lee sin red.

``construir.py`` ejecuta antes los cuadernos que no estén en la caché (y convierte sus barras de
progreso en texto); ``myst-nb`` solo toma de la caché las salidas. La ubicación de la caché, que
depende del modo, llega en la variable de entorno ``LIBRO_CACHE``.
"""

from __future__ import annotations

import os

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
    # Sin botones que lleven fuera del sitio ni que descarguen el cuaderno resuelto: el enlace al
    # del alumnado y la insignia de Colab van en el texto de cada página.
    "use_download_button": False,
    "use_repository_button": False,
    "use_fullscreen_button": True,
    "show_navbar_depth": 1,
    "footer_content_items": ["copyright.html"],
}
