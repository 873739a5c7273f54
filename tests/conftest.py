"""Fixtures compartidas: un curso de nbgrader temporal por cuaderno, generados una vez por sesión.

Cada cuaderno tiene su propio directorio de curso (y su propia base de datos de notas),
así que los cuadernos se generan y se corrigen en paralelo, uno por núcleo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cuadernos import make_course, nbgrader, per_assignment
from tests.lecturas import counting_reads


@pytest.fixture(scope="session")
def courses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{cuaderno: curso temporal}`` con su fuente y su versión del alumnado regenerada."""

    def build(assignment: str) -> Path:
        root = make_course(tmp_path_factory.mktemp(f"curso_{assignment}"), assignment)
        nbgrader("generate_assignment", assignment, "--force", cwd=root)
        return root

    return per_assignment(build)


@pytest.fixture
def reads(monkeypatch):
    """Cuenta quién lee tensores desde Python (véase tests/lecturas.py)."""
    return counting_reads(monkeypatch)


@pytest.fixture
def one_thread():
    """PyTorch con un solo hilo durante la prueba (modelos diminutos: va más rápido y no compite
    por los núcleos con otras pruebas); después, los hilos de antes."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
