"""La versión del alumnado (notebooks/) está al día con solutions/ y no filtra nada."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cuadernos import ALL_ASSIGNMENTS, ASSIGNMENTS, RELEASE, SOLUTIONS, read, release_path

pytestmark = pytest.mark.cuadernos


def comparable(path: Path) -> list[tuple[str, str, dict]]:
    """Lo que importa de un cuaderno: tipo, fuente y metadatos de nbgrader de cada celda."""
    return [(cell.cell_type, cell.source, cell.get("metadata", {}).get("nbgrader", {})) for cell in read(path).cells]


def test_every_source_has_a_release() -> None:
    released = sorted(p.name for p in RELEASE.iterdir() if p.is_dir())
    assert released == ALL_ASSIGNMENTS, (
        f"notebooks/ tiene {released} y solutions/ tiene {ALL_ASSIGNMENTS}: ejecuta `make release`."
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_in_sync(courses: dict[str, Path], assignment: str) -> None:
    fresh = courses[assignment] / "notebooks" / assignment / f"{assignment}.ipynb"
    committed = release_path(assignment)
    assert comparable(fresh) == comparable(committed), (
        f"{committed.relative_to(RELEASE.parent)} no coincide con lo que genera nbgrader a partir de "
        "solutions/: ejecuta `make release` y confirma el resultado (nunca edites notebooks/ a mano)."
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_nothing(assignment: str) -> None:
    text = release_path(assignment).read_text(encoding="utf-8")
    leaks = re.findall(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS", text)
    assert not leaks, f"notebooks/{assignment} contiene marcas de solución o de pruebas ocultas: {leaks}"
    assert "# TU CÓDIGO AQUÍ" in text, "la versión del alumnado debería tener los huecos «# TU CÓDIGO AQUÍ»"


def test_sources_have_hidden_tests() -> None:
    """Que la comprobación anterior no pase por vacío: las fuentes sí tienen soluciones y pruebas ocultas."""
    for assignment in ASSIGNMENTS:
        text = (SOLUTIONS / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
        assert "### BEGIN SOLUTION" in text and "### BEGIN HIDDEN TESTS" in text, assignment
