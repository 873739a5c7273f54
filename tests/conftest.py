"""Fixtures compartidas: un curso de nbgrader temporal por cuaderno, generados una vez por sesión.

Cada cuaderno tiene su propio directorio de curso (y su propia base de datos de notas),
así que los cuadernos se generan y se corrigen en paralelo, uno por núcleo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cuadernos import make_course, nbgrader, per_assignment


@pytest.fixture(scope="session")
def courses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{cuaderno: curso temporal}`` con su fuente y su versión del alumnado regenerada."""

    def build(assignment: str) -> Path:
        root = make_course(tmp_path_factory.mktemp(f"curso_{assignment}"), assignment)
        nbgrader("generate_assignment", assignment, "--force", cwd=root)
        return root

    return per_assignment(build)
