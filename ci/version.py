"""Cambia la versión del curso en todos los sitios a la vez: ``python ci/version.py 0.2.0``.

La versión vive en ``pyproject.toml``; la celda de configuración de cada cuaderno de
``solutions/`` lleva una copia (``COURSE_VERSION``), porque en Colab se ejecuta antes de que
``course_lib`` esté instalada: con ella instala esa versión (una versión publicada, la rueda de
PyPI; una versión ``.dev``, la rama principal del repositorio). Este guion cambia la de
``pyproject.toml``, regenera las celdas (``ci/repositorio.py``) y, si el ``CHANGELOG.md`` tiene un
apartado «Sin publicar», lo titula con la versión nueva. Después:
``make release`` (los cuadernos del alumnado) y ``make instalar`` (los metadatos del paquete);
``tests/test_version.py`` comprueba que todo coincide.
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repositorio  # noqa: E402  (ci/ no es un paquete)

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.compile(r"^\d+\.\d+\.\d+(?:\.dev\d+)?$")
PYPROJECT_LINE = re.compile(r'^version = "[^"]*"$', re.MULTILINE)


def set_version(version: str, root: Path = ROOT) -> list[Path]:
    """Escribe ``version`` en ``pyproject.toml``, en los cuadernos de ``solutions/`` y en el CHANGELOG."""
    if not VERSION.match(version):
        raise ValueError(f"versión «{version}» no válida: usa X.Y.Z o X.Y.Z.devN (p. ej. 0.2.0 o 0.3.0.dev0).")
    changed = []
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    if len(PYPROJECT_LINE.findall(text)) != 1:
        raise ValueError("pyproject.toml debe tener exactamente una línea «version = …».")
    pyproject.write_text(PYPROJECT_LINE.sub(f'version = "{version}"', text), encoding="utf-8")
    changed.append(pyproject)
    changed += [path for path in repositorio.sync(root) if path not in changed]  # las celdas de configuración
    changelog = root / "CHANGELOG.md"
    if changelog.exists() and ".dev" not in version:
        text = changelog.read_text(encoding="utf-8")
        today = datetime.date.today().isoformat()
        new = re.sub(r"^## Sin publicar.*$", f"## {version} ({today})", text, count=1, flags=re.MULTILINE)
        if new != text:
            changelog.write_text(new, encoding="utf-8")
            changed.append(changelog)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("Uso: python ci/version.py X.Y.Z   (después: make release y make instalar)", file=sys.stderr)
        return 2
    try:
        changed = set_version(argv[0])
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"Versión {argv[0]} en {len(changed)} archivos. Ahora: make release && make instalar")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
