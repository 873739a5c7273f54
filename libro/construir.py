"""``make libro``: el curso como un sitio HTML estático, con los cuadernos resueltos y ejecutados.

Prepara en la carpeta de construcción una copia limpia de cada cuaderno de ``solutions/`` (todas
las carpetas que haya: un cuaderno nuevo entra solo) y lanza ``sphinx-build`` con ``libro/conf.py``.
Limpiar un cuaderno es:

- quitar las marcas ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (la solución queda, plegada);
- quitar las pruebas ocultas (``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``), como hace
  nbgrader al generar la versión del alumnado: las pruebas calificadas se ven como las ve el
  alumnado, plegadas;
- plegar también la celda de configuración;
- poner bajo el título la insignia de Colab (una copia local de la imagen) y el enlace al cuaderno
  del alumnado (``notebooks/``), que el sitio incluye para descargarlo.

La ejecución se guarda en una caché de ``jupyter-cache``, la misma que lee ``myst-nb``: un cuaderno
cuyo código no cambió no se vuelve a ejecutar. Este guion ejecuta los que faltan (cada uno en una
carpeta temporal nueva, y cuenta cuánto tarda) y guarda sus barras de progreso como texto; Sphinx
solo toma de la caché las salidas. Cada modo tiene su carpeta y su caché (``libro/_build/normal`` y
``libro/_build/rapido``), y la caché se vacía sola si cambia ``course_lib`` (las salidas dependen de
ella). Uso::

    python -m libro.construir                    # modo normal: el libro que se publica
    CURSO_RAPIDO=1 python -m libro.construir     # modo rápido: prueba la cadena en segundos
    python -m libro.construir --carpeta /tmp/libro 02 07   # otra carpeta; solo 02 y 07
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib import REPO_BRANCH, REPO_URL
from course_lib.utils import fast_mode
from tests.completos import SHARED_DATA, claim_lines, offline_cache
from tests.cuadernos import SOLUTION_MARKERS

ROOT = Path(__file__).resolve().parents[1]
LIBRO = ROOT / "libro"
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
BUILD = LIBRO / "_build"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "imagenes/abrir-en-colab.svg"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SETUP_ID = "configuracion"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 3600  # segundos por celda: el entrenamiento del 07 en modo normal dura unos 10 minutos


def colab_url(assignment: str) -> str:
    """La dirección de Colab del cuaderno del alumnado (la de la insignia de cada cuaderno)."""
    slug = REPO_URL.removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{slug}/blob/{REPO_BRANCH}/notebooks/{assignment}/{assignment}.ipynb"
    )


def assignments() -> list[str]:
    """Los cuadernos del curso: cada carpeta ``solutions/<id>/`` con su ``<id>.ipynb``."""
    return sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.stem == p.parent.name)


def remove_hidden_tests(source: str) -> str:
    """El código sin las regiones de pruebas ocultas (marcas incluidas), línea a línea como nbgrader."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            if hidden:
                raise ValueError("una región de pruebas ocultas empieza dentro de otra")
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    if hidden:
        raise ValueError(f"falta «{HIDDEN_END}»")
    return "\n".join(kept)


def _fold(cell: nbformat.NotebookNode, prompt: str) -> None:
    """Pliega el código de la celda (etiqueta ``hide-input``) con un botón que dice qué esconde."""
    tags = cell.metadata.setdefault("tags", [])
    if "hide-input" not in tags:
        tags.append("hide-input")
    cell.metadata.setdefault("mystnb", {})["code_prompt_show"] = prompt


def _heading_note(assignment: str, has_student_copy: bool) -> str:
    if has_student_copy:
        student = f"descarga {{download}}`el cuaderno del alumnado <alumnado/{assignment}.ipynb>`"
    else:
        student = "genera el cuaderno del alumnado con `make release`"
    return (
        "```{admonition} Esta página es el cuaderno resuelto\n:class: tip\n\n"
        "Aquí está el cuaderno con las soluciones escritas y ejecutado de principio a fin, con sus "
        f"figuras. Para hacer los ejercicios tú, {student} o ábrelo en Colab con la insignia de arriba.\n```"
    )


def clean_notebook(nb: nbformat.NotebookNode, assignment: str, has_student_copy: bool) -> nbformat.NotebookNode:
    """La copia del libro de un cuaderno de ``solutions/`` (lo que hace: la cabecera del módulo)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # una copia: el original no cambia
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        try:
            cell.source = SOLUTION_MARKERS.sub("", remove_hidden_tests(cell.source))
        except ValueError as error:
            raise ValueError(f"{assignment}, celda {index + 1}: {error}") from None
        cell.outputs, cell.execution_count = [], None
        if meta.get("grade_id") == SETUP_ID:
            _fold(cell, "Mostrar la celda de configuración")
        elif meta.get("solution"):
            _fold(cell, "Mostrar la solución")
        elif meta.get("grade"):
            points = meta.get("points", 0)
            _fold(cell, f"Mostrar la prueba calificada ({points:g} {'punto' if points == 1 else 'puntos'})")
    # Una prueba calificada que era toda oculta queda vacía: en el libro no se ve.
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.source.strip()]
    title = nb.cells[0]
    if title.cell_type != "markdown" or not title.source.startswith("# "):
        raise ValueError(f"{assignment}: la primera celda debe ser el título del cuaderno (# …)")
    lines = title.source.split("\n")
    if colab_url(assignment) not in title.source:
        lines[1:1] = ["", f"[![Abrir en Colab]({BADGE_IMAGE})]({colab_url(assignment)})"]
    badge = next(i for i, line in enumerate(lines) if colab_url(assignment) in line)
    lines[badge + 1 : badge + 1] = ["", _heading_note(assignment, has_student_copy)]
    title.source = "\n".join(lines).replace(BADGE_IMAGE, LOCAL_BADGE)
    return nb


def notebook_title(nb: nbformat.NotebookNode) -> str:
    return nb.cells[0].source.split("\n", 1)[0].removeprefix("# ").strip()


def notebook_points(nb: nbformat.NotebookNode) -> float:
    return sum(float(c.metadata.get("nbgrader", {}).get("points", 0)) for c in nb.cells)


def index_page(notebooks: dict[str, nbformat.NotebookNode], students: set[str], mode: str) -> str:
    """La portada: ``libro/inicio.md`` con la tabla de cuadernos y el índice para la navegación."""
    rows = ["| # | cuaderno | puntos | para hacerlo | Colab |", "|---|---|---|---|---|"]
    for assignment, nb in notebooks.items():
        number, _, name = notebook_title(nb).partition(" · ")
        if not name:
            number, name = assignment.split("_", 1)[0], notebook_title(nb)
        student = (
            f"{{download}}`cuaderno del alumnado <alumnado/{assignment}.ipynb>`" if assignment in students else "—"
        )
        badge = f"[![Abrir en Colab]({LOCAL_BADGE})]({colab_url(assignment)})"
        rows.append(f"| {number} | [{name}]({assignment}.ipynb) | {notebook_points(nb):g} | {student} | {badge} |")
    toctree = ["```{toctree}", ":hidden:", ":caption: Cuadernos", "", *notebooks, "```"]
    text = (LIBRO / "inicio.md").read_text(encoding="utf-8")
    text = text.replace("{modo}", mode).replace("{repo}", REPO_URL).replace("{tabla}", "\n".join(rows))
    return text + "\n" + "\n".join(toctree) + "\n"


def _write_if_changed(path: Path, data: bytes) -> None:
    """Escribe solo si cambia: Sphinx no vuelve a leer (ni myst-nb a mirar) lo que no cambió."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def prepare_sources(source_dir: Path, selected: list[str], mode: str) -> None:
    """Escribe en ``source_dir`` la portada, los cuadernos limpios, los del alumnado y la insignia."""
    notebooks, students = {}, set()
    for assignment in selected:
        release = RELEASE / assignment / f"{assignment}.ipynb"
        if release.exists():
            students.add(assignment)
            _write_if_changed(source_dir / "alumnado" / release.name, release.read_bytes())
        else:
            print(f"Aviso: falta {release.relative_to(ROOT)}; ejecuta make release para enlazarlo.", flush=True)
        nb = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
        notebooks[assignment] = nb
        clean = clean_notebook(nb, assignment, assignment in students)
        _write_if_changed(source_dir / f"{assignment}.ipynb", nbformat.writes(clean).encode("utf-8"))
    _write_if_changed(source_dir / "index.md", index_page(notebooks, students, mode).encode("utf-8"))
    _write_if_changed(source_dir / LOCAL_BADGE, (LIBRO / "abrir-en-colab.svg").read_bytes())
    # Lo que ya no está en solutions/ (o no se pidió) sale del libro.
    wanted = {f"{a}.ipynb" for a in selected} | {"index.md"}
    for path in source_dir.glob("*.ipynb"):
        if path.name not in wanted:
            path.unlink()
    for path in (source_dir / "alumnado").glob("*.ipynb"):
        if path.stem not in students:
            path.unlink()


def library_fingerprint() -> str:
    """Huella de ``course_lib``: si cambia, las salidas guardadas en la caché pueden no valer."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def reset_stale_cache(build: Path) -> None:
    """Vacía la caché de ejecución (y lo que Sphinx recuerda) si ``course_lib`` cambió."""
    stamp = build / "huella_course_lib.txt"
    current = library_fingerprint()
    if stamp.exists() and stamp.read_text() != current:
        print("course_lib cambió desde la última construcción: se vuelven a ejecutar todos los cuadernos.")
        for folder in ("cache", "doctrees"):
            shutil.rmtree(build / folder, ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)


def _progress_text(model_id: str, state: dict) -> str | None:
    """El texto final de una barra de tqdm a partir del estado de sus widgets; ``None`` si no quedó.

    tqdm dibuja en Jupyter una caja (``HBoxModel``) con tres piezas: el texto de la izquierda
    (``HTMLModel``), la barra (``FloatProgressModel``) y el de la derecha. El estado guardado al
    ejecutar es el último, el de la barra terminada.
    """

    def model(ref: str) -> dict:
        return state.get(ref.removeprefix("IPY_MODEL_"), {})

    box = model(model_id)
    layout = model(box.get("state", {}).get("layout", ""))
    if not box or layout.get("state", {}).get("visibility") == "hidden":
        return None  # una barra cerrada con leave=False: no queda nada en pantalla
    parts = []
    for ref in box["state"].get("children", []):
        child = model(ref)
        values = child.get("state", {})
        if child.get("model_name") == "FloatProgressModel":
            filled = round(10 * values.get("value", 0) / (values.get("max") or 1))
            parts.append("|" + "█" * filled + " " * (10 - filled) + "|")
        else:
            parts.append(html.unescape(str(values.get("value", ""))).replace("\u2007", " "))
    return "".join(parts).strip() or None


def widgets_as_text(nb: nbformat.NotebookNode) -> None:
    """Cambia cada barra de progreso (un «widget» de Jupyter) por el texto de su estado final.

    Dibujar los widgets en HTML pediría JavaScript de un CDN, y su texto de reserva es el del
    principio («0%»). Quita también el estado de los widgets de los metadatos.
    """
    widgets = nb.metadata.pop("widgets", {})
    state = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            text = _progress_text(view.get("model_id", ""), state)
            if text is not None:
                outputs.append(nbformat.v4.new_output("stream", name="stderr", text=text + "\n"))
        if cell.cell_type == "code":
            cell.outputs = outputs


def execute_into_cache(
    source_dir: Path, selected: list[str], cache_dir: Path
) -> list[tuple[str, float, bool, list[str]]]:
    """Ejecuta los cuadernos cuyo código no está en la caché y los guarda en ella.

    Es lo que haría myst-nb en modo «cache» (la misma caché y la misma huella: el código de
    las celdas), más las barras de progreso convertidas en texto. Devuelve ``(cuaderno,
    segundos, ejecutado ahora, afirmaciones no cumplidas)``; para los de la caché, lo que
    tardaron cuando se ejecutaron.
    """
    # Aquí y no arriba: preparar las copias limpias no necesita la pila del libro.
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    cache = get_cache(str(cache_dir))
    rows = []
    for assignment in selected:
        path = source_dir / f"{assignment}.ipynb"
        nb = nbformat.read(path, as_version=4)
        try:
            record = cache.match_cache_notebook(nb)
        except KeyError:
            record = None
        if record is not None:
            _, cached = cache.merge_match_into_notebook(nb)
            seconds = float(record.data.get("execution_seconds") or 0.0)
            rows.append((assignment, seconds, False, claim_lines(cached)[1]))
            continue
        print(f"→ ejecutando {assignment}…", flush=True)
        # Una carpeta de trabajo nueva, como tests/completos.py: no reanuda puntos de control.
        with tempfile.TemporaryDirectory(prefix=f"libro-{assignment}-") as workdir:
            result = single_nb_execution(nb, cwd=workdir, timeout=CELL_TIMEOUT, allow_errors=False)
        if result.err is not None:
            raise RuntimeError(f"{assignment} falló al ejecutarse:\n{result.exc_string[-4000:]}")
        widgets_as_text(result.nb)
        bundle = CacheBundleIn(result.nb, str(path), data={"execution_seconds": result.time})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
        print(f"  {assignment}: {result.time:.1f} s", flush=True)
        rows.append((assignment, result.time, True, claim_lines(result.nb)[1]))
    return rows


def build_env(build: Path, fast: bool) -> dict[str, str]:
    """El entorno de los núcleos y de sphinx-build: el modo, la caché y, en modo normal, los datos."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CURSO_RAPIDO"] = "1" if fast else "0"
    env["LIBRO_CACHE"] = str(build / "cache")
    # El núcleo de cada cuaderno debe dibujar con el motor «inline» de Jupyter: con Agg (el de
    # make test) plt.show() no deja figura en las salidas.
    env.pop("MPLBACKEND", None)
    if not fast and "CURSO_DATOS" not in env:
        cache = offline_cache(build / "datos")
        if cache is not None:
            env["CURSO_DATOS"] = str(cache)
            print(f"Datos del cuaderno 07: la copia local de {SHARED_DATA} (sin descargar).", flush=True)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libro.construir",
        description="Construye el libro del curso (HTML estático) a partir de solutions/.",
    )
    parser.add_argument(
        "prefijos", nargs="*", help="solo los cuadernos que empiezan así (p. ej. 02 07); sin nada, todos"
    )
    parser.add_argument(
        "--carpeta", type=Path, help="carpeta de construcción (por defecto libro/_build/normal o libro/_build/rapido)"
    )
    args = parser.parse_args(argv)
    fast = fast_mode()
    mode = "rápido" if fast else "normal"
    build = (args.carpeta or BUILD / ("rapido" if fast else "normal")).resolve()
    selected = [a for a in assignments() if not args.prefijos or any(a.startswith(p) for p in args.prefijos)]
    if not selected:
        print(f"No hay cuadernos que empiecen por {', '.join(args.prefijos)} en solutions/.", file=sys.stderr)
        return 1

    started = time.time()
    reset_stale_cache(build)
    try:
        prepare_sources(build / "fuente", selected, mode)
    except ValueError as error:
        print(f"No se puede preparar el libro: {error}", file=sys.stderr)
        return 1
    env = build_env(build, fast)
    os.environ.clear()
    os.environ.update(env)  # los núcleos que se lanzan desde aquí heredan este entorno
    print(f"Construyendo el libro en modo {mode} ({len(selected)} cuadernos) en {build}…", flush=True)
    try:
        rows = execute_into_cache(build / "fuente", selected, build / "cache")
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(LIBRO), "-d", str(build / "doctrees")]
    result = subprocess.run([*command, str(build / "fuente"), str(build / "html")], env=env, cwd=build)
    if result.returncode != 0:
        print(f"sphinx-build falló (código {result.returncode}): mira el registro de arriba.", file=sys.stderr)
        return result.returncode

    print("\n| cuaderno | ejecución | de dónde |\n|---|---|---|")
    for name, seconds, now, _ in rows:
        print(f"| {name} | {seconds:.1f} s | {'ejecutado ahora' if now else 'caché'} |")
    executed = sum(seconds for _, seconds, now, _ in rows if now)
    failed = [f"{name}: {line}" for name, _, _, lines in rows for line in lines]
    if failed:
        # No detiene el libro (las figuras siguen valiendo), pero la página lo muestra: antes de
        # publicarlo, constrúyelo en una máquina sin otra carga o corrige el texto del cuaderno.
        print("\nAviso: afirmaciones no cumplidas (se ven en sus páginas):\n  " + "\n  ".join(failed))
    print(f"\nEjecución de cuadernos en esta construcción: {executed:.0f} s; total: {time.time() - started:.0f} s.")
    print(f"El libro está en {build / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
