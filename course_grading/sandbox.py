"""Lanzador del núcleo de corrección: aislado del directorio del curso y con límites.

nbgrader arranca este archivo como núcleo (``python …/course_grading/sandbox.py -f conexión.json``;
lo instala :func:`course_grading.preprocessors.install_kernelspec`). Se ejecuta como archivo y no con
``-m course_grading.sandbox`` para no importar el paquete (y PyTorch) antes de aislarse: ahorra
unos segundos por cuaderno corregido. Antes de ejecutar nada del alumno:

1. **Aislamiento** (Linux): se vuelve a lanzar dentro de espacios de nombres de usuario,
   montaje y procesos (``unshare``, del paquete ``util-linux``, sin privilegios). Ahí tapa el directorio del
   curso con un sistema de archivos vacío y solo vuelve a montar lo imprescindible: la carpeta
   de la entrega que se corrige y, si están dentro, ``course_lib/``, ``course_grading/`` y el entorno virtual. Así el
   código del alumno no puede leer ``solutions/``, la base de notas (con las pruebas ocultas),
   ``.git`` ni las entregas de los demás; tampoco a través de ``/proc`` (se monta uno nuevo).
2. **Límites** (``setrlimit``): memoria virtual y tiempo de CPU. Pasarse de memoria da un
   ``MemoryError`` en la celda; pasarse de CPU termina el núcleo y la corrección sigue.
3. Arranca :class:`course_grading.kernel.GradingKernel`.

Variables de entorno (las pone :func:`course_grading.preprocessors.harden`):

- ``CURSO_CALIFICACION_OCULTAR``: rutas a tapar, separadas por ``os.pathsep``.
- ``CURSO_AISLAMIENTO``: ``obligatorio`` (sin aislamiento el núcleo no arranca),
  ``si_es_posible`` (por defecto: avisa en el registro y sigue) o ``no``.
- ``CURSO_LIMITE_MEMORIA_MB`` (4096) y ``CURSO_LIMITE_CPU_S`` (900).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # que los módulos de course_grading/ no tapen a otros con el mismo nombre

STAGE = "CURSO_SANDBOX_DENTRO"
HIDE = "CURSO_CALIFICACION_OCULTAR"
POLICY = "CURSO_AISLAMIENTO"
MEMORY_MB = "CURSO_LIMITE_MEMORIA_MB"
CPU_S = "CURSO_LIMITE_CPU_S"
UNSHARE = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]


def _log(message: str) -> None:
    print(f"[curso] {message}", file=sys.stderr, flush=True)


def isolation_available() -> bool:
    """¿Puede este sistema crear los espacios de nombres sin privilegios?"""
    unshare = shutil.which("unshare")
    if not sys.platform.startswith("linux") or unshare is None:
        return False
    probe = subprocess.run([unshare, *UNSHARE, "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def _die_with_parent() -> None:
    """Si muere quien corrige (nbgrader), que este núcleo muera también (``PR_SET_PDEATHSIG``).

    Sobrevive al ``exec`` de ``unshare``, que con ``--kill-child`` se lleva consigo al núcleo:
    así un ``nbgrader`` terminado a la fuerza no deja núcleos huérfanos ocupando memoria.
    """
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _reexec_isolated(argv: list[str]) -> None:
    policy = os.environ.get(POLICY, "si_es_posible")
    if policy == "no" or not os.environ.get(HIDE):
        return
    if not isolation_available():
        if policy == "obligatorio":
            _log("No puedo aislar el núcleo (hace falta Linux con `unshare` y espacios de nombres de usuario).")
            raise SystemExit(3)
        _log("AVISO: núcleo SIN aislar: el código del alumno podría leer los archivos del curso.")
        return
    env = dict(os.environ, **{STAGE: "1"})
    _die_with_parent()
    os.execvpe("unshare", ["unshare", *UNSHARE, sys.executable, str(Path(__file__).resolve()), *argv], env)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _hide(paths: list[Path], keep: list[Path]) -> None:
    """Tapa cada ruta de ``paths`` y vuelve a montar dentro las de ``keep`` que caigan en ella."""
    paths = [p for p in paths if not any(q in p.parents for q in paths)]  # lo de dentro ya queda tapado
    stash = Path(tempfile.mkdtemp(prefix="curso-montajes-"))
    _mount("-t", "tmpfs", "tmpfs", str(stash))  # privado de este espacio de nombres
    copies = 0
    for hidden in paths:
        saved = []
        for path in [k for k in keep if k == hidden or hidden in k.parents]:
            copies += 1
            copy = stash / str(copies)
            copy.mkdir()
            _mount("--bind", str(path), str(copy))
            saved.append((path, copy))
        if hidden.is_dir():
            _mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", str(hidden))
        else:
            _mount("--bind", "/dev/null", str(hidden))
        for path, copy in saved:
            path.mkdir(parents=True, exist_ok=True)
            _mount("--bind", str(copy), str(path))


def _isolate() -> None:
    cwd = Path.cwd()
    hidden = [Path(p).resolve() for p in os.environ.get(HIDE, "").split(os.pathsep) if p and Path(p).exists()]
    packages = [importlib.util.find_spec(name) for name in ("course_lib", "course_grading")]
    code = [Path(p).resolve() for spec in packages for p in spec.submodule_search_locations]
    keep = [cwd, *code, Path(sys.prefix).resolve()]
    _hide(sorted(hidden, key=lambda p: len(p.parts)), keep)
    os.chdir(cwd)  # vuelve a entrar por el montaje nuevo (el viejo directorio quedó tapado)
    for name in (HIDE, STAGE):
        os.environ.pop(name, None)


def _limit() -> None:
    memory = int(os.environ.get(MEMORY_MB, "4096")) * 2**20
    cpu = int(os.environ.get(CPU_S, "900"))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def main(argv: list[str]) -> None:
    if not os.environ.get(STAGE):
        _reexec_isolated(argv)  # si aísla, no vuelve
    else:
        _isolate()
    _limit()
    from ipykernel.kernelapp import IPKernelApp

    from course_grading.kernel import GradingKernel

    IPKernelApp.launch_instance(argv=argv, kernel_class=GradingKernel)


if __name__ == "__main__":
    main(sys.argv[1:])
