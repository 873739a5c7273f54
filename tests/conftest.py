"""Fixtures compartidas: un curso de nbgrader temporal, generado una vez por sesión."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cuadernos import ASSIGNMENTS, make_course, nbgrader


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Curso temporal con las fuentes del repositorio y la versión del alumnado regenerada."""
    root = make_course(tmp_path_factory.mktemp("curso"))
    for assignment in ASSIGNMENTS:
        nbgrader("generate_assignment", assignment, "--force", cwd=root)
    return root
