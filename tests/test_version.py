"""Una versión del curso: la de pyproject.toml, la del paquete instalado y la que instala cada cuaderno."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import course_lib
from tests.cuadernos import ASSIGNMENTS, ROOT, nbgrader_meta, read, release_path, solution_path

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def course_version(path: Path) -> str:
    setup = next(c for c in read(path).cells if nbgrader_meta(c).get("grade_id") == "configuracion")
    found = re.findall(r'^COURSE_VERSION = "([^"]+)"', setup.source, re.MULTILINE)
    assert len(found) == 1, f"{path.name}: la celda de configuración debe tener una línea COURSE_VERSION = …"
    return found[0]


def test_installed_package_has_the_pyproject_version() -> None:
    assert course_lib.__version__ == VERSION, "reinstala el curso (make instalar) tras cambiar la versión"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_installs_the_course_version(assignment: str) -> None:
    assert course_version(solution_path(assignment)) == VERSION
    assert course_version(release_path(assignment)) == VERSION  # make release después de ci/version.py


def test_version_script_changes_every_place(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for assignment in ASSIGNMENTS[:2]:
        (tmp_path / "solutions" / assignment).mkdir(parents=True)
        shutil.copy2(solution_path(assignment), tmp_path / "solutions" / assignment)
    sys.path.insert(0, str(ROOT / "ci"))
    try:
        from version import set_version
    finally:
        sys.path.pop(0)
    changed = set_version("9.8.7", tmp_path)
    assert len(changed) == 4  # pyproject, dos cuadernos y el CHANGELOG
    assert 'version = "9.8.7"' in (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    for assignment in ASSIGNMENTS[:2]:
        assert course_version(tmp_path / "solutions" / assignment / f"{assignment}.ipynb") == "9.8.7"
    assert re.search(r"^## 9\.8\.7 \(\d{4}-\d\d-\d\d\)$", (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    with pytest.raises(ValueError, match="versión «v1» no válida"):
        set_version("v1", tmp_path)
    cli = subprocess.run([sys.executable, str(ROOT / "ci" / "version.py")], capture_output=True, text=True)
    assert cli.returncode == 2 and "Uso: python ci/version.py X.Y.Z" in cli.stderr
