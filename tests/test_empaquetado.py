"""El paquete se construye (sdist y rueda) con el setuptools más nuevo instalado, sin avisos sobre la licencia.

Colab instala el curso con ``pip install git+…``, que construye con el setuptools más nuevo: el día
que uno deje de aceptar la forma antigua de declarar la licencia, fallaría la celda de
configuración de cada estudiante. Esta prueba construye en una copia del repositorio con
``python -m build --no-isolation`` (el setuptools del entorno, que el extra «test» pide reciente,
sin descargar nada) y falla con cualquier aviso de obsolescencia que hable de la licencia.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "course_lib", "course_grading")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    pytest.importorskip("build", reason="falta el paquete build (extra «test»)")
    source = tmp_path_factory.mktemp("fuente")
    for name in SHIPPED:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(
            ROOT / name,
            source / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}),
        )
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    return out, log


def test_no_license_deprecation_warning(built) -> None:
    _, log = built
    lines = [line for line in log.splitlines() if "deprecat" in line.lower() and "licen" in line.lower()]
    assert not lines, "\n".join(lines)


def test_wheel_and_sdist_carry_the_license_expression_and_files(built) -> None:
    import setuptools

    out, _ = built
    wheel = next(out.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        metadata = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        names = z.namelist()
    assert "License-Expression: MIT AND BSD-3-Clause" in metadata, f"setuptools {setuptools.__version__}"
    assert (
        "License-File: LICENSE" in metadata
        and "License-File: course_grading/plantillas/comentarios/LICENSE-nbgrader" in metadata
    )
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "course_grading/plantillas/comentarios/index.html.j2" in names  # la plantilla viaja con su aviso
    with tarfile.open(next(out.glob("*.tar.gz"))) as sdist:
        assert any(m.name.endswith("/LICENSE") for m in sdist.getmembers())
