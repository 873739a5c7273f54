"""ci/minimos.txt fija exactamente el suelo de cada dependencia que declara pyproject.toml.

``python3 ci/minimos.py`` instala el curso con esas versiones y pasa las pruebas: así se sabe
que los suelos de pyproject.toml son reales. Esta prueba (sin instalar nada ni usar la red)
impide que los dos archivos se separen: quien sube o baja un suelo en pyproject.toml tiene que
cambiar también ci/minimos.txt (y volver a pasar ci/minimos.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
MINIMOS = ROOT / "ci" / "minimos.txt"
RESTRICCIONES_CPU = ROOT / "ci" / "restricciones-cpu.txt"
# Las únicas dependencias cuyo suelo no se puede instalar en las máquinas del proyecto: se fija
# la versión que sí se instala (la rueda local solo-CPU de ci/restricciones-cpu.txt).
SIN_COMPROBAR = {"torch"}


def pins(text: str) -> dict[str, Version]:
    """Las líneas ``paquete==versión`` de un archivo de restricciones (sin comentarios)."""
    found: dict[str, Version] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line)
        assert match, f"línea {number}: «{raw}» debe ser paquete==versión"
        name = canonicalize_name(match.group(1))
        assert name not in found, f"línea {number}: {name} aparece dos veces"
        found[name] = Version(match.group(2))
    return found


def floor(requirement: Requirement) -> Version:
    """El suelo de una dependencia: la versión de su ``>=``, ``~=`` o ``==``."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "~=", "==")]
    assert len(floors) == 1, f"«{requirement}» debe tener exactamente un suelo (>=, ~= o ==)"
    return floors[0]


def declared_floors() -> dict[str, Version]:
    """El suelo de cada dependencia de pyproject.toml (la biblioteca y todos los extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lists = {"dependencies": project["dependencies"]}
    lists.update({f"extra «{name}»": deps for name, deps in project["optional-dependencies"].items()})
    floors: dict[str, Version] = {}
    where: dict[str, str] = {}
    for origin, deps in lists.items():
        for text in deps:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            version = floor(requirement)
            assert floors.get(name, version) == version, (
                f"{name}: suelo {version} en {origin} y {floors[name]} en {where[name]}; deben coincidir"
            )
            floors[name], where[name] = version, origin
    return floors


def test_minimos_pins_exactly_the_declared_floors() -> None:
    declared = declared_floors()
    pinned = pins(MINIMOS.read_text(encoding="utf-8"))
    missing = sorted(set(declared) - set(pinned))
    assert not missing, f"ci/minimos.txt no fija {missing}: añade paquete==suelo de pyproject.toml"
    extra = sorted(set(pinned) - set(declared))
    assert not extra, f"ci/minimos.txt fija {extra}, que pyproject.toml no declara"
    different = {
        name: f"pyproject.toml dice ≥ {declared[name]}, ci/minimos.txt fija {pinned[name]}"
        for name in declared
        if name not in SIN_COMPROBAR and pinned[name] != declared[name]
    }
    assert not different, (
        "los suelos de pyproject.toml y ci/minimos.txt no coinciden (cambia los dos y vuelve a pasar "
        f"python3 ci/minimos.py): {different}"
    )


def test_unverifiable_floors_pin_the_local_cpu_wheel() -> None:
    """torch: ci/minimos.txt fija la misma rueda que ci/restricciones-cpu.txt, no otra que descargaría GB."""
    pinned = pins(MINIMOS.read_text(encoding="utf-8"))
    cpu = pins(RESTRICCIONES_CPU.read_text(encoding="utf-8"))
    declared = declared_floors()
    for name in SIN_COMPROBAR:
        assert pinned[name] == cpu[name], f"{name}: ci/minimos.txt debe fijar {cpu[name]}, como restricciones-cpu.txt"
        assert pinned[name] >= declared[name], f"{name}: {pinned[name]} está por debajo del suelo {declared[name]}"
