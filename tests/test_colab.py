"""Como en Colab: el cuaderno del alumnado, con las respuestas puestas, funciona sin nbgrader.

Se lanza un núcleo (kernel) que imita a Colab: ``google.colab`` está importado,
``nbgrader`` no se puede importar y ``course_lib`` no está instalada. La celda de
configuración toma entonces la rama de Colab e instala ``course_lib`` con pip; en la
prueba, desde una copia local del repositorio en lugar de la URL de Git
(``CURSO_FUENTE``), porque las pruebas no usan la red.
"""

from __future__ import annotations

import json
import shutil
import sys
import sysconfig
from pathlib import Path

import nbclient
import nbformat
import pytest

from tests.cuadernos import ASSIGNMENTS, ROOT, filled_release, nbgrader_meta, read, solution_path, tool_env

pytestmark = pytest.mark.cuadernos

# Se ejecuta al arrancar el núcleo, como el propio Colab importa google.colab al empezar.
STARTUP = """
import importlib.abc
import sys
import types

google = types.ModuleType("google")
google.colab = types.ModuleType("google.colab")
sys.modules["google"] = google
sys.modules["google.colab"] = google.colab


class _NoNbgrader(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nbgrader" or name.startswith("nbgrader."):
            raise ModuleNotFoundError("No module named 'nbgrader' (Colab simulado)")
        return None


sys.meta_path.insert(0, _NoNbgrader())
"""

CHECK_CELL = """
import importlib.util
import course_lib
print("course_lib desde:", course_lib.__file__)
try:
    import nbgrader
    print("nbgrader importable")
except ModuleNotFoundError:
    print("nbgrader ausente")
"""


def make_colab_kernel(
    base: Path, name: str, source: str | None = None, env: dict[str, str] | None = None
) -> tuple[str, Path]:
    """Un kernelspec ``name`` que imita a Colab: Python sin site (ni el course_lib editable), con las
    bibliotecas del entorno en PYTHONPATH y un destino vacío donde pip instalará el curso.

    ``source`` es el ``CURSO_FUENTE`` del núcleo (por defecto, una copia mínima del repositorio; ``""``,
    ninguna: la celda instala de PyPI o de git, como en Colab). ``env`` añade variables al núcleo."""
    target = base / "site"  # aquí instalará pip course_lib (empieza vacío)
    target.mkdir()
    startup = base / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text(STARTUP, encoding="utf-8")
    if source is None:
        repo = base / "repo"  # copia mínima del repositorio: pip construye dentro de ella
        repo.mkdir()
        for file in (
            "pyproject.toml",
            "README.md",
            "LICENSE",
            "course_grading/plantillas/comentarios/LICENSE-nbgrader",
        ):
            (repo / file).parent.mkdir(parents=True, exist_ok=True)  # los archivos de licencia que pide pyproject
            shutil.copy(ROOT / file, repo / file)
        shutil.copytree(ROOT / "course_lib", repo / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
        source = f"--no-deps --no-build-isolation --target {target} {repo}"
    kernel_dir = base / "jupyter" / "kernels" / name
    kernel_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab simulado",
        "language": "python",
        "env": {
            "PYTHONPATH": f"{target}:{sysconfig.get_paths()['purelib']}",
            "IPYTHONDIR": str(base / "ipython"),
            "CURSO_FUENTE": source,
            "CURSO_RAPIDO": "1",
            "MPLBACKEND": "Agg",
            **(env or {}),
        },
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return str(base / "jupyter"), target


@pytest.fixture(scope="module")
def colab_kernel(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    base = tmp_path_factory.mktemp("colab")
    jupyter_path, target = make_colab_kernel(base, "colab")
    return jupyter_path, target, base


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_runs_like_colab(colab_kernel, assignment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    jupyter_path, target, workdir = colab_kernel
    for key, value in tool_env(JUPYTER_PATH=jupyter_path).items():
        monkeypatch.setenv(key, value)
    nb = filled_release(assignment)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    was_installed = (target / "course_lib").exists()
    client = nbclient.NotebookClient(
        nb, kernel_name="colab", timeout=300, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Google Colab" in printed, "la celda de configuración no detectó Colab"
    # El primer cuaderno instala el curso en el destino vacío; los siguientes ya lo encuentran ahí.
    assert ("Instalando el curso" in printed) == (not was_installed), (was_installed, printed[:300])
    assert f"course_lib desde: {target}" in printed, "course_lib no se instaló con pip desde CURSO_FUENTE"
    assert "nbgrader ausente" in printed
    assert "supera las comprobaciones rápidas" in printed, "las comprobaciones visibles no se ejecutaron"


def setup_cell() -> nbformat.NotebookNode:
    nb = read(solution_path("00_preliminares"))
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "configuracion")
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.source)], metadata=nb.metadata)


def test_setup_cell_does_not_install_when_the_course_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """En el entorno del curso (instalado, en la versión del cuaderno) la celda no llama a pip."""
    for key, value in tool_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CURSO_FUENTE", "/ruta/que/no/existe")  # si intentara instalar, fallaría
    nb = setup_cell()
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "Instalando" not in printed and "course_lib listo" in printed, printed


def test_setup_cell_explains_a_failed_install_in_spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Con una fuente que no existe, pip falla: la celda enseña su salida y explica las causas y CURSO_FUENTE."""
    jupyter_path, _ = make_colab_kernel(tmp_path, "colab_roto", source=str(tmp_path / "no_existe"))
    for key, value in tool_env(JUPYTER_PATH=jupyter_path).items():
        monkeypatch.setenv(key, value)
    nb = setup_cell()
    client = nbclient.NotebookClient(
        nb, kernel_name="colab_roto", timeout=180, resources={"metadata": {"path": str(tmp_path)}}
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    outputs = nb.cells[0].outputs
    printed = "".join(o.get("text", "") for o in outputs)
    error = next(o for o in outputs if o.output_type == "error")
    assert "Instalando el curso" in printed and "no_existe" in printed  # la salida de pip, a la vista
    assert error.ename == "RuntimeError"
    assert "No se pudo instalar el curso" in error.evalue and "CURSO_FUENTE" in error.evalue
