"""Dónde vive el curso, escrito una sola vez en ``pyproject.toml`` (``[project.urls]`` y el nombre).

Las celdas de configuración, las insignias de Colab (cuadernos y README), el ``git clone`` del
README y ``course_lib.REPO_URL`` se generan desde ahí con ``ci/repositorio.py`` (``make release``
lo ejecuta); aquí se comprueba que coinciden y que un fork solo cambia esas líneas.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import course_lib
from tests.cuadernos import ASSIGNMENTS, ROOT, nbgrader_meta, read, release_path, solution_path

sys.path.insert(0, str(ROOT / "ci"))
try:
    import repositorio
finally:
    sys.path.pop(0)

INFO = repositorio.project()


def setup_source(path: Path) -> str:
    return next(c for c in read(path).cells if nbgrader_meta(c).get("grade_id") == "configuracion").source


def test_everything_matches_pyproject() -> None:
    changed = repositorio.sync(check=True)
    assert not changed, f"no coinciden con pyproject.toml (ejecuta python ci/repositorio.py y make release): {changed}"
    assert course_lib.REPO_URL == INFO["repo"]
    assert INFO["name"] == "atencion-transformers"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebooks_carry_the_generated_setup_cell(assignment: str) -> None:
    """La versión del alumnado (make release) lleva la misma celda que genera ci/repositorio.py."""
    cell = repositorio.setup_cell()
    assert setup_source(solution_path(assignment)) == cell
    assert setup_source(release_path(assignment)) == cell, "ejecuta make release"
    badge = f"{repositorio.colab_prefix(INFO['repo'])}notebooks/{assignment}/{assignment}.ipynb"
    assert badge in read(release_path(assignment)).cells[0].source


def test_setup_cell_installs_a_release_from_the_index_and_a_dev_from_git() -> None:
    cell = repositorio.setup_cell()
    assert f'PACKAGE = "{INFO["name"]}"' in cell and f'REPO = "{INFO["repo"]}"' in cell
    assert f'COURSE_VERSION = "{INFO["version"]}"' in cell
    assert 'f"{PACKAGE}=={COURSE_VERSION}"' in cell and 'f"git+{REPO}@main"' in cell
    assert "@v" not in cell, "una versión publicada se instala del índice, no de una etiqueta de git"


def test_a_fork_changes_one_line(tmp_path: Path) -> None:
    """Con otra URL en pyproject.toml, el guion la pone en cada sitio y no queda la vieja en ninguno."""
    for name in ("pyproject.toml", "README.md", "course_lib/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for assignment in ASSIGNMENTS[:2]:
        (tmp_path / "solutions" / assignment).mkdir(parents=True)
        shutil.copy2(solution_path(assignment), tmp_path / "solutions" / assignment)
    pyproject = tmp_path / "pyproject.toml"
    old, new = INFO["repo"], "https://github.com/otra-escuela/curso-fork"
    text = pyproject.read_text(encoding="utf-8")
    assert text.count(f'Repository = "{old}"') == 1
    pyproject.write_text(text.replace(f'Repository = "{old}"', f'Repository = "{new}"'), encoding="utf-8")

    assert len(repositorio.sync(tmp_path, check=True)) == 4  # dos cuadernos, README y course_lib
    changed = repositorio.sync(tmp_path)
    assert len(changed) == 4 and repositorio.sync(tmp_path, check=True) == []
    for path in changed:
        content = path.read_text(encoding="utf-8")
        assert f"github.com/{old.removeprefix('https://github.com/')}" not in content.replace("/issues", ""), path
        assert "otra-escuela/curso-fork" in content, path
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert re.search(r"git clone https://github\.com/otra-escuela/curso-fork\.git", readme)
    assert "colab.research.google.com/github/otra-escuela/curso-fork/blob/main/notebooks/" in readme


def test_bad_repository_url_is_a_spanish_error(tmp_path: Path) -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        text.replace(f'Repository = "{INFO["repo"]}"', 'Repository = "gitlab.com/x"'), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"Repository debe ser https://github\.com/<dueño>/<repo>"):
        repositorio.sync(tmp_path, check=True)


def test_check_mode_from_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "ci" / "repositorio.py"), "--comprobar"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "Todo coincide con pyproject.toml" in result.stdout, result
