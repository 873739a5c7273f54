"""Dónde vive el curso, escrito una sola vez: ``[project]`` y ``[project.urls]`` de ``pyproject.toml``.

``python ci/repositorio.py`` reescribe desde ahí todo lo que lo repite:

- la celda de configuración de cada cuaderno de ``solutions/``, entera, a partir de la plantilla
  ``ci/celda_configuracion.py`` (con la versión, el nombre del paquete y el repositorio);
- la insignia «Abrir en Colab» de cada cuaderno y las del README, y los ``git clone`` del README;
- ``course_lib.REPO_URL``.

``--comprobar`` no cambia nada: dice qué archivos cambiarían y sale con 1 (lo usa
``tests/test_repositorio.py``). Quien hace un fork cambia ``[project.urls]`` (y ``name``, si
publica el paquete con otro nombre), ejecuta ``make release`` (que llama a este guion) y listo.
Los botones del libro (``libro/conf.py``) y los flujos de ``.github/workflows/`` leen
``pyproject.toml`` por sí mismos.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("celda_configuracion.py")  # junto a este guion
SETUP_ID = "configuracion"
BRANCH = "main"
# Una insignia de Colab (https://colab.research.google.com/github/<dueño>/<repo>/blob/<rama>/…) y una
# dirección de repositorio de GitHub, cualesquiera que sean el dueño, el repositorio y la rama.
COLAB = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/")
# En el README solo se reescriben los «git clone» del curso (los enlaces a otros proyectos, no).
CLONE = re.compile(r"(git clone (?:--bare )?)https://github\.com/[\w-]+/[\w.-]+?\.git\b")
REPO_LINE = re.compile(r'^REPO_URL = "[^"]*"$', re.MULTILINE)


def project(root: Path = ROOT) -> dict[str, str]:
    """Nombre, versión y repositorio (``https://github.com/<dueño>/<repo>``) de ``pyproject.toml``."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    repo = data.get("urls", {}).get("Repository", "")
    if not re.fullmatch(r"https://github\.com/[\w-]+/[\w.-]+", repo):
        raise ValueError(
            f"pyproject.toml: [project.urls] Repository debe ser https://github.com/<dueño>/<repo>; es «{repo}»."
        )
    return {"name": data["name"], "version": data["version"], "repo": repo}


def colab_prefix(repo: str) -> str:
    """El principio de la dirección de Colab de un cuaderno del repositorio ``repo``."""
    return f"https://colab.research.google.com/github/{repo.removeprefix('https://github.com/')}/blob/{BRANCH}/"


def setup_cell(root: Path = ROOT) -> str:
    """La celda de configuración de los cuadernos: la plantilla con los datos de ``pyproject.toml``."""
    info = project(root)
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("@VERSION@", info["version"]), ("@PACKAGE@", info["name"]), ("@REPO@", info["repo"])):
        if key not in text:
            raise ValueError(f"ci/{TEMPLATE.name}: falta el marcador {key}")
        text = text.replace(key, value)
    return text.rstrip("\n")


def _source_lines(text: str) -> list[str]:
    """El texto de una celda como lo guarda nbformat: una lista de líneas con su salto."""
    return text.splitlines(keepends=True)


def _sync_notebook(path: Path, cell_text: str, repo: str) -> str:
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    setups = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == SETUP_ID]
    if len(setups) != 1:
        raise ValueError(f"{path.name}: debe tener exactamente una celda de configuración (grade_id «{SETUP_ID}»)")
    setups[0]["source"] = _source_lines(cell_text)
    title = "".join(nb["cells"][0]["source"])
    nb["cells"][0]["source"] = _source_lines(COLAB.sub(colab_prefix(repo), title))
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _sync_readme(text: str, repo: str) -> str:
    text = COLAB.sub(colab_prefix(repo), text)
    return CLONE.sub(lambda m: f"{m.group(1)}{repo}.git", text)


def sync(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Pone el repositorio, el paquete y la versión de ``pyproject.toml`` en cada sitio que los repite.

    Devuelve los archivos que cambian; con ``check`` no escribe nada."""
    info = project(root)
    cell = setup_cell(root)
    new: dict[Path, str] = {}
    for notebook in sorted(root.glob("solutions/*/*.ipynb")):
        new[notebook] = _sync_notebook(notebook, cell, info["repo"])
    readme = root / "README.md"
    if readme.exists():
        new[readme] = _sync_readme(readme.read_text(encoding="utf-8"), info["repo"])
    init = root / "course_lib" / "__init__.py"
    if init.exists():
        text = init.read_text(encoding="utf-8")
        if len(REPO_LINE.findall(text)) != 1:
            raise ValueError("course_lib/__init__.py debe tener exactamente una línea REPO_URL = …")
        new[init] = REPO_LINE.sub(f'REPO_URL = "{info["repo"]}"', text)
    changed = [path for path, text in new.items() if path.read_text(encoding="utf-8") != text]
    if not check:
        for path in changed:
            path.write_text(new[path], encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    check = argv == ["--comprobar"]
    if argv and not check:
        print("Uso: python ci/repositorio.py [--comprobar]", file=sys.stderr)
        return 2
    try:
        changed = sync(check=check)
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    names = ", ".join(str(p.relative_to(ROOT)) for p in changed)
    if check:
        if changed:
            print(f"No coinciden con pyproject.toml: {names}. Ejecuta python ci/repositorio.py y make release.")
            return 1
        print("Todo coincide con pyproject.toml.")
        return 0
    print(f"Actualizados {len(changed)} archivos{': ' + names if changed else ''}.")
    if any(p.suffix == ".ipynb" for p in changed):
        print("Cambiaron cuadernos de solutions/: ejecuta make release.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
