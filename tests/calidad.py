"""Puertas de calidad: comprobaciones automáticas de lo que un curso leído línea a línea necesita.

Cada puerta es una función que devuelve la lista de problemas encontrados, cada uno
en español y con su lugar («archivo, celda N: …» o «archivo, línea N: …»). Lista
vacía = todo bien. Las pruebas de ``tests/test_calidad.py`` las aplican a todo el
repositorio y, para demostrar que pueden fallar, a casos malos construidos a propósito.

1. ``skeleton``: el esqueleto común de los cuadernos.
2. ``spelling``: ortografía española con Hunspell.
3. ``lint``: ruff (errores y formato), también en las celdas de los cuadernos.
4. ``clean_notebook``: cuadernos sin salidas, válidos y pequeños.
5. ``copied_prose``: nada copiado literalmente de los documentos semilla.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
ALLOWED_WORDS = ROOT / "tests" / "palabras_permitidas.txt"
PROSE_EXEMPTIONS = ROOT / "tests" / "prosa_exenta.txt"
MAX_NOTEBOOK_BYTES = 200_000
SETUP_ID = "configuracion"
# Una celda que dibuja una figura (y la muestra).
FIGURE = re.compile(r"plt\.show\(\)|viz\.plot_attention")


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _heading(cell: nbformat.NotebookNode) -> str:
    if cell.cell_type != "markdown" or not cell.source.strip():
        return ""
    return cell.source.strip().splitlines()[0].strip()


# --- 1. Esqueleto --------------------------------------------------------------------------


def skeleton(path: Path, repo_url: str, branch: str) -> list[str]:
    """Título, insignia de Colab propia, una celda de configuración, secciones en orden,
    cada ejercicio con comprobación visible y prueba calificada, puntos coherentes y kernelspec."""
    nb = nbformat.read(path, as_version=4)
    where = rel(path)
    problems: list[str] = []
    assignment = path.parent.name
    cells = nb.cells
    if not cells or not _heading(cells[0]).startswith("# "):
        return [f"{where}, celda 1: la primera celda debe ser el título del cuaderno (# …)."]
    slug = repo_url.removeprefix("https://github.com/")
    badge = f"https://colab.research.google.com/github/{slug}/blob/{branch}/notebooks/{assignment}/{assignment}.ipynb"
    if badge not in cells[0].source:
        problems.append(f"{where}, celda 1: falta la insignia de Colab que apunta a su cuaderno: {badge}")

    setups = [i for i, c in enumerate(cells) if _meta(c).get("grade_id") == SETUP_ID]
    if len(setups) != 1:
        problems.append(
            f"{where}: debe haber exactamente una celda de configuración (grade_id «{SETUP_ID}»); hay {len(setups)}."
        )
    elif cells[setups[0]].cell_type != "code" or not _meta(cells[setups[0]]).get("locked"):
        problems.append(f"{where}, celda {setups[0] + 1}: la celda de configuración debe ser de código y bloqueada.")

    h2 = [(i, _heading(c)) for i, c in enumerate(cells) if _heading(c).startswith("## ")]
    titles = [t for _, t in h2]
    for needed in ("## Objetivos", "## Resumen", "## Para saber más", "## Cómo entregar"):
        if needed not in titles:
            problems.append(f"{where}: falta la sección «{needed[3:]}».")
    if not problems:
        index = {t: i for i, t in h2}
        objectives, summary, more = index["## Objetivos"], index["## Resumen"], index["## Para saber más"]
        hand_in = index["## Cómo entregar"]
        sections = [i for i, t in h2 if objectives < i < summary]
        if not setups[0] < objectives:
            problems.append(f"{where}, celda {setups[0] + 1}: la celda de configuración debe ir antes de «Objetivos».")
        if not sections:
            problems.append(f"{where}: no hay secciones (## …) entre «Objetivos» y «Resumen».")
        if not objectives < summary < more < hand_in or h2[-1][0] != hand_in:
            problems.append(
                f"{where}: el orden debe ser «Objetivos», secciones, «Resumen», «Para saber más» y «Cómo entregar» "
                "al final."
            )

    code_cells = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code"]
    for n, (i, cell) in enumerate(code_cells):
        if not _meta(cell).get("solution"):
            continue
        name = _meta(cell).get("grade_id", "")
        following = [c for _, c in code_cells[n + 1 : n + 3]]
        check_ok = (
            len(following) > 0 and not _meta(following[0]).get("grade") and not _meta(following[0]).get("solution")
        )
        test_ok = len(following) > 1 and str(_meta(following[1]).get("grade_id", "")).startswith(f"test_{name}")
        if not check_ok:
            problems.append(f"{where}, celda {i + 1}: tras la respuesta «{name}» debe venir su comprobación visible.")
        if not test_ok:
            problems.append(
                f"{where}, celda {i + 1}: tras la comprobación de «{name}» debe venir su prueba calificada "
                f"(test_{name}…)."
            )

    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and FIGURE.search(cell.source):
            following = next((c for c in cells[i + 1 :] if c.cell_type == "markdown"), None)
            if following is None or "Qué ver" not in following.source:
                problems.append(
                    f"{where}, celda {i + 1}: tras una figura, el texto siguiente debe decir qué ver en ella "
                    "(«**Qué ver:** …»)."
                )

    points = sum(float(_meta(c).get("points", 0)) for c in cells if _meta(c).get("grade"))
    stated = re.search(r"\*\*(\d+(?:[.,]\d+)?) puntos?\*\*", cells[0].source)
    if not stated:
        problems.append(f"{where}, celda 1: la introducción debe decir cuánto vale el cuaderno («**N puntos**»).")
    elif float(stated.group(1).replace(",", ".")) != points:
        problems.append(
            f"{where}, celda 1: la introducción dice {stated.group(1)} puntos, "
            f"pero las celdas calificadas suman {points:g}."
        )
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{where}: metadata.kernelspec debe ser python3 (si no, JupyterLab pide elegir núcleo).")
    return problems


# --- 4. Cuadernos limpios ------------------------------------------------------------------


def clean_notebook(path: Path) -> list[str]:
    """Sin salidas ni contadores de ejecución, válido según nbformat y por debajo del tamaño máximo."""
    where = rel(path)
    size = path.stat().st_size
    problems = []
    if size > MAX_NOTEBOOK_BYTES:
        problems.append(f"{where}: ocupa {size / 1000:.0f} KB; el máximo es {MAX_NOTEBOOK_BYTES / 1000:.0f} KB.")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 (cualquier fallo de lectura es el problema a informar)
        return [*problems, f"{where}: no es un cuaderno válido: {error}"]
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{where}, celda {i}: tiene salidas guardadas; bórralas antes de confirmar.")
        if cell.get("execution_count") is not None:
            problems.append(f"{where}, celda {i}: tiene contador de ejecución; guarda el cuaderno limpio.")
    return problems


# --- 3. Lint -------------------------------------------------------------------------------


def lint(paths: Iterable[Path]) -> list[str]:
    """``ruff check`` y ``ruff format --check`` con la configuración de pyproject.toml."""
    targets = [str(p) for p in paths]
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--config", str(ROOT / "pyproject.toml")]
    problems = []
    check = subprocess.run(
        [*ruff, "check", *config, "--output-format", "json", *targets], capture_output=True, text=True, cwd=ROOT
    )
    if check.returncode not in (0, 1):
        return [f"ruff check no se pudo ejecutar: {check.stderr.strip()}"]
    for item in json.loads(check.stdout or "[]"):
        location = item.get("location") or {}
        cell = item.get("cell")
        place = f"celda {cell}, línea {location.get('row')}" if cell else f"línea {location.get('row')}"
        problems.append(f"{rel((ROOT / item['filename']).resolve())}, {place}: {item['code']} {item['message']}")
    fmt = subprocess.run([*ruff, "format", *config, "--check", *targets], capture_output=True, text=True, cwd=ROOT)
    if fmt.returncode not in (0, 1):
        return [*problems, f"ruff format no se pudo ejecutar: {fmt.stderr.strip()}"]
    unformatted = dict.fromkeys(re.findall(r"-->\s+(.+?):(?:cell \d+:)?\d+:\d+", fmt.stdout))
    for name in unformatted:
        problems.append(f"{rel((ROOT / name).resolve())}: sin formato; ejecuta `ruff format`.")
    if fmt.returncode == 1 and not unformatted:
        problems.append(f"ruff format --check encontró archivos sin formato:\n{fmt.stdout[-2000:]}")
    return problems


# --- 2. Ortografía -------------------------------------------------------------------------

_CODE = [
    re.compile(r"```.*?```", re.DOTALL),  # bloques de código
    re.compile(r"``.*?``", re.DOTALL),  # código en línea (reST, docstrings)
    re.compile(r"`[^`]*`"),  # código en línea (Markdown)
    re.compile(r"\$\$.*?\$\$", re.DOTALL),  # LaTeX en bloque
    re.compile(r"\$[^$\n]*\$"),  # LaTeX en línea
    re.compile(r"\]\([^)]*\)"),  # destino de un enlace
    re.compile(r"https?://\S+"),  # URL
    re.compile(r"<[^>]+>"),  # etiquetas HTML
]
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚÜÑáéíóúüñ]+")
_IDENTIFIER = re.compile(r"\S*(?:[_=/\\]|\w\.\w|\(|\)|\d)\S*")


def words_of(text: str) -> set[str]:
    """Las palabras de un texto, sin código, fórmulas, URL ni identificadores."""
    for pattern in _CODE:
        text = pattern.sub(" ", text)
    text = _IDENTIFIER.sub(" ", text)
    return {w for w in _WORD.findall(text) if len(w) > 1}  # una letra suelta es notación (B, T, q…)


def markdown_segments(path: Path) -> Iterator[tuple[str, str]]:
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "markdown":
            yield f"{rel(path)}, celda {i}", cell.source


def python_segments(path: Path) -> Iterator[tuple[str, str]]:
    """Docstrings, comentarios y cadenas con prosa (las que tienen espacios: mensajes y pistas)."""
    source = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not re.match(r"#\s*(noqa|type:|pragma)", token.string):
            yield f"{rel(path)}, línea {token.start[0]}", re.sub(r"#\s*noqa.*", "", token.string.lstrip("#"))
    tree = ast.parse(source)
    parts_of_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # f-string: su texto entero, con «…» en cada hueco
            text = "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts_of_fstrings:
            text = node.value
        else:
            continue
        if " " in text.strip():
            # En los docstrings, «Args:», «Returns:», «nombre:» al principio de línea y los
            # roles de Sphinx (:func:, :class:) son sintaxis, no texto.
            text = re.sub(r"(?m)^\s*\w+:", " ", text)
            yield f"{rel(path)}, línea {node.lineno}", re.sub(r":\w+:", " ", text)


def hunspell_unknown(words: Iterable[str]) -> set[str] | None:
    """Las palabras que el diccionario español de Hunspell no conoce; ``None`` si no hay Hunspell."""
    if shutil.which("hunspell") is None:
        return None
    words = sorted(set(words))
    result = subprocess.run(
        ["hunspell", "-d", "es_ES", "-i", "utf-8", "-l"],
        input="\n".join(words),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or "Can't open affix or dictionary" in result.stderr:
        return None
    return set(result.stdout.split())


def allowed_words(path: Path = ALLOWED_WORDS) -> list[str]:
    return [w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")]


def spelling(segments: Iterable[tuple[str, str]], allowed: Iterable[str]) -> list[str] | None:
    """Palabras desconocidas para Hunspell que no están en la lista del curso. ``None`` sin Hunspell."""
    segments = [(where, words_of(text)) for where, text in segments]
    unknown = hunspell_unknown(w for _, ws in segments for w in ws)
    if unknown is None:
        return None
    allowed_lower = {w.lower() for w in allowed}
    problems = []
    for where, ws in segments:
        bad = sorted(w for w in ws if w in unknown and w.lower() not in allowed_lower)
        if bad:
            problems.append(f"{where}: palabras desconocidas: {', '.join(bad)}")
    return problems


_ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "úü", "n": "ñ"}


# Palabras que van sin tilde aunque exista la palabra española con ella: un nombre propio
# (James H. Martin) y palabras inglesas de los títulos de las referencias («Pure Attention…»).
NAMES_WITHOUT_ACCENT = {"Martin", "Pure"}


def word_list_problems(path: Path = ALLOWED_WORDS) -> list[str] | None:
    """La lista de palabras permitidas: ordenada, sin repetidas y sin palabras a las que les
    falte una tilde o una eñe (p. ej. «funcion» cuando existe «función»). ``None`` sin Hunspell."""
    words = allowed_words(path)
    problems = []
    if words != sorted(words, key=str.lower):
        problems.append(f"{rel(path)}: la lista debe estar en orden alfabético (sin distinguir mayúsculas).")
    if len({w.lower() for w in words}) != len(words):
        problems.append(f"{rel(path)}: hay palabras repetidas.")
    variants = {
        word: {word[:i] + accented + word[i + 1 :] for i, ch in enumerate(word) for accented in _ACCENTS.get(ch, "")}
        for word in words
    }
    unknown = hunspell_unknown(v for vs in variants.values() for v in vs)
    if unknown is None:
        return None
    for word, vs in variants.items():
        known = sorted(v for v in vs if v not in unknown)
        if known and word not in NAMES_WITHOUT_ACCENT:
            problems.append(
                f"{rel(path)}: «{word}» existe con tilde o eñe ({', '.join(known)}): corrígela en el texto."
            )
    return problems


# --- 5. Prosa propia -----------------------------------------------------------------------

RUN = 10


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _runs(words: list[str], n: int = RUN) -> set[str]:
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def seed_runs(seeds: Path = SEEDS) -> dict[str, str]:
    """``{secuencia de 10 palabras: documento semilla}``."""
    runs: dict[str, str] = {}
    for path in sorted(seeds.glob("*.txt")):
        for run in _runs(_words(path.read_text(encoding="utf-8", errors="ignore"))):
            runs.setdefault(run, path.name)
    return runs


def exempt_phrases(path: Path = PROSE_EXEMPTIONS) -> list[tuple[str, str]]:
    """``[(frase, motivo)]``: cada línea es «frase | motivo»; sin motivo no vale."""
    exemptions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            phrase, _, reason = line.partition("|")
            exemptions.append((phrase.strip(), reason.strip()))
    return exemptions


def copied_prose(
    segments: Iterable[tuple[str, str]], seeds: dict[str, str], exempt: list[tuple[str, str]]
) -> list[str]:
    """Secuencias de 10 palabras seguidas que un texto del proyecto comparte con una semilla."""
    exempt_runs = {run for phrase, reason in exempt if reason for run in _runs(_words(phrase))}
    problems = []
    for where, text in segments:
        shared = sorted(run for run in _runs(_words(text)) if run in seeds and run not in exempt_runs)
        if shared:
            problems.append(
                f"{where}: {len(shared)} secuencias de {RUN} palabras copiadas de {seeds[shared[0]]}: «{shared[0]}»"
            )
    return problems


def text_segments(path: Path) -> Iterator[tuple[str, str]]:
    """Todo el texto de un archivo del proyecto, por celdas en los cuadernos."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells, start=1):
            yield f"{rel(path)}, celda {i}", cell.source
    else:
        yield rel(path), path.read_text(encoding="utf-8")
