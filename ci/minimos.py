"""Prueba el curso con las versiones mínimas de sus dependencias: ``python3 ci/minimos.py``.

Copia el repositorio (los archivos que sigue git, con los cambios sin confirmar) a una carpeta
temporal, crea allí un entorno virtual, instala la copia en modo editable (como ``make instalar``:
tests/test_colab.py lo necesita) con los extras lab, docente y test, fijando las versiones de
``ci/minimos.txt`` (los suelos de ``pyproject.toml``), y pasa el carril rápido de las pruebas
(``make test-rapido``: sin cuadernos ni nbgrader). Con ``--completo`` pasa todas (``make test``:
bastantes más minutos). No toca el repositorio ni su ``.venv``.

    python3 ci/minimos.py              # instalar y carril rápido (unos 2 o 3 minutos)
    python3 ci/minimos.py --completo   # instalar y todas las pruebas
    python3 ci/minimos.py --conservar  # no borra la carpeta temporal (para repetir a mano)

Sale con el código de pytest (0 si todo pasa). Si falla por una versión vieja, sube ese suelo
en ``pyproject.toml`` y en ``ci/minimos.txt`` (``tests/test_minimos.py`` comprueba que coinciden).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MINIMOS = ROOT / "ci" / "minimos.txt"
EXTRAS = "lab,docente,test"


def run(command: list[str], **kwargs) -> int:
    print("$", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], **kwargs).returncode


def copy_repository(destination: Path) -> None:
    """Copia los archivos que sigue git y los nuevos no ignorados (sin .venv, .git ni datos de corrección)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # los borrados sin confirmar siguen en el índice
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Instala el curso con las versiones mínimas y pasa las pruebas.")
    parser.add_argument("--completo", action="store_true", help="todas las pruebas, no solo el carril rápido")
    parser.add_argument("--conservar", action="store_true", help="no borrar la carpeta temporal al terminar")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="minimos-"))
    repo, venv = work / "repo", work / "venv"
    bin_dir = venv / "bin"
    start = time.monotonic()
    try:
        print(f"Copiando el repositorio a {repo}…", flush=True)
        copy_repository(repo)
        # Las pruebas buscan los datos del proyecto en ../shared, junto al repositorio.
        if (ROOT.parent / "shared").is_dir():
            (work / "shared").symlink_to(ROOT.parent / "shared")

        print(f"Creando el entorno {venv} e instalando con las versiones de ci/minimos.txt…", flush=True)
        if run([sys.executable, "-m", "venv", venv]):
            print("No pude crear el entorno virtual. En Debian/Ubuntu: sudo apt install python3-venv")
            return 2
        # CPU=1 (como en el Makefile y en .github/workflows/ci.yml): torch==2.13.0 también del índice
        # solo-CPU de PyTorch, donde esa versión es «2.13.0+cpu» (que cumple ==2.13.0 y pip prefiere).
        cpu = ["--extra-index-url", "https://download.pytorch.org/whl/cpu"] if os.environ.get("CPU") else []
        code = run(
            [bin_dir / "python", "-m", "pip", "install", "--quiet", *cpu, "-c", MINIMOS, "-e", f"{repo}[{EXTRAS}]"],
            cwd=work,
        )
        if code:
            print(
                "La instalación con las versiones mínimas ha fallado (mira arriba qué paquete no se instala "
                "o qué choca): sube ese suelo en pyproject.toml y en ci/minimos.txt."
            )
            return code
        installed = time.monotonic()
        print(f"Instalado en {installed - start:.0f} s. Versiones:", flush=True)
        run([bin_dir / "python", "-m", "pip", "list", "--format=freeze"], cwd=work)

        lane = [] if args.completo else ["-m", "not cuadernos"]
        print("Pasando " + ("todas las pruebas" if args.completo else "el carril rápido") + "…", flush=True)
        env = dict(os.environ, CURSO_RAPIDO="1", MPLBACKEND="Agg")
        # nbgrader llama a otros ejecutables del entorno (alembic): el entorno va primero en el PATH.
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env.pop("VIRTUAL_ENV", None)
        env.pop("PYTHONPATH", None)
        code = run([bin_dir / "python", "-m", "pytest", *lane, "-q", "-p", "no:cacheprovider"], cwd=repo, env=env)
        end = time.monotonic()
        print(f"Instalación: {installed - start:.0f} s; pruebas: {end - installed:.0f} s; total: {end - start:.0f} s.")
        print(
            "Las versiones mínimas pasan las pruebas."
            if code == 0
            else "Con las versiones mínimas fallan pruebas: sube el suelo del paquete culpable "
            "(en pyproject.toml y en ci/minimos.txt) o arregla el código."
        )
        return code
    finally:
        if args.conservar:
            print(f"La carpeta temporal se queda en {work}.")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
