"""Lanzador del núcleo de corrección: aislado del directorio del curso y con límites.

nbgrader arranca este archivo como núcleo (``python …/course_grading/sandbox.py -f conexión.json``; lo da
:class:`course_grading.preprocessors.SandboxKernelSpecs`, siempre el del árbol del curso que corrige). Se
ejecuta como archivo y no con ``-m course_grading.sandbox`` para no importar el paquete (y PyTorch) antes de
aislarse: ahorra unos segundos por cuaderno corregido. Antes de ejecutar nada del alumno:

1. **Aislamiento** (Linux): se vuelve a lanzar dentro de espacios de nombres de usuario,
   montaje, procesos y red (``unshare``, del paquete ``util-linux``, sin privilegios). Ahí tapa el directorio del
   curso y la carpeta personal de quien corrige (``HOME``) con sistemas de archivos vacíos y solo vuelve a
   montar lo imprescindible: la carpeta de la entrega que se corrige, la carpeta temporal con el archivo
   de conexión del núcleo y, si están dentro, ``course_lib/``, ``course_grading/``, el entorno virtual y el
   Python base. Así el código del alumno no puede leer ``solutions/``, la base de notas (con las pruebas
   ocultas), ``.git``, las entregas de los demás ni los archivos personales del docente (claves, tokens);
   tampoco a través de ``/proc`` (se monta uno nuevo). ``HOME`` pasa a ser una carpeta nueva y vacía dentro del
   ``tmpfs`` que tapa la de verdad: lo que el núcleo escriba ahí desaparece con él. Si algo falla al montar,
   el núcleo lo dice en su salida de errores (la que nbgrader guarda) y sale con estado 4.
   El espacio de red nuevo no tiene interfaces activas, ni siquiera ``127.0.0.1``: el núcleo habla con
   nbgrader por sockets de Unix (transporte ``ipc``, lo pone :class:`course_grading.preprocessors.GuardedExecute`).
2. **Entorno**: sin GPU (``CUDA_VISIBLE_DEVICES`` vacía) y sin barras de progreso (``TQDM_DISABLE=1``),
   con o sin aislamiento.
3. **Límites** (``setrlimit``): memoria virtual y tiempo de CPU. Pasarse de memoria da un
   ``MemoryError`` en la celda; pasarse de CPU termina el núcleo y la corrección sigue.
4. Arranca :class:`course_grading.kernel.GradingKernel`.

Variables de entorno (las pone :func:`course_grading.preprocessors.harden`):

- ``CURSO_CALIFICACION_OCULTAR``: rutas a tapar, separadas por ``os.pathsep``.
- ``CURSO_AISLAMIENTO``: ``obligatorio`` (por defecto: sin aislamiento no se corrige),
  ``si_es_posible`` (aísla si puede; si no, corrige sin aislar y lo dice en cada línea del registro) o
  ``no`` (nunca aísla).
- ``CURSO_LIMITE_MEMORIA_MB`` (4096) y ``CURSO_LIMITE_CPU_S`` (900).
"""

from __future__ import annotations

import functools
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
UNSHARE = ["--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "--kill-child", "--mount-proc"]
# Con o sin aislamiento: sin GPU (la corrección compara en CPU) y sin barras de progreso en las salidas.
KERNEL_ENV = {"CUDA_VISIBLE_DEVICES": "", "TQDM_DISABLE": "1"}
APPARMOR = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")


def _log(message: str) -> None:
    print(f"[curso] {message}", file=sys.stderr, flush=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@functools.cache
def isolation_problem() -> str | None:
    """Por qué este sistema no puede crear los espacios de nombres sin privilegios (``None`` si puede)."""
    if not sys.platform.startswith("linux"):
        return (
            f"este sistema ({sys.platform}) no tiene los espacios de nombres de usuario de Linux "
            "(macOS y Windows no los tienen)"
        )
    unshare = shutil.which("unshare")
    if unshare is None:
        return "falta el programa `unshare` (paquete util-linux)"
    try:
        probe = subprocess.run([unshare, *UNSHARE, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`unshare` no funciona ({error})"
    if probe.returncode == 0:
        return None
    detail = probe.stderr.strip().splitlines()[-1:] or [f"código {probe.returncode}"]
    if _read(APPARMOR) == "1":
        return (
            "AppArmor no deja crear espacios de nombres de usuario sin privilegios "
            f"(kernel.apparmor_restrict_unprivileged_userns=1, lo normal en Ubuntu 24.04; `unshare` dice: {detail[0]})"
        )
    if _read(Path("/proc/sys/kernel/unprivileged_userns_clone")) == "0":
        return f"Linux los tiene desactivados (kernel.unprivileged_userns_clone=0; `unshare` dice: {detail[0]})"
    return f"`unshare` falla (¿un contenedor que no los permite?): {detail[0]}"


def isolation_available() -> bool:
    """¿Puede este sistema crear los espacios de nombres sin privilegios?"""
    return isolation_problem() is None


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
    policy = os.environ.get(POLICY, "obligatorio")
    if policy == "no" or not os.environ.get(HIDE):
        return
    problem = isolation_problem()
    if problem:
        if policy != "si_es_posible":
            _log(f"No puedo aislar el núcleo: {problem}. Ver «Entregas hostiles o rotas» en el README.")
            raise SystemExit(3)
        _log("AVISO: núcleo SIN AISLAMIENTO: el código del alumno podría leer los archivos del curso y usar la red.")
        return
    env = dict(os.environ, **{STAGE: "1"})
    _die_with_parent()
    os.execvpe("unshare", ["unshare", *UNSHARE, sys.executable, str(Path(__file__).resolve()), *argv], env)


class IsolationError(RuntimeError):
    """No se pudo montar el aislamiento (dentro de ``unshare``): el núcleo no arranca."""


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode:
        said = result.stderr.strip() or result.stdout.strip() or "sin mensaje"
        raise IsolationError(f"`mount {' '.join(args)}` falló (estado {result.returncode}): {said}")


def _stash_dir(hidden: list[Path]) -> Path:
    """Carpeta temporal para los montajes de paso, fuera de todo lo que se tapa (si no, se taparía a sí misma)."""
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        folder = Path(base).resolve()
        covered = any(h == folder or h in folder.parents for h in hidden)
        if folder.is_dir() and os.access(folder, os.W_OK) and not covered:
            return Path(tempfile.mkdtemp(prefix="curso-montajes-", dir=folder))
    raise IsolationError(f"no hay una carpeta temporal con permiso de escritura fuera de {', '.join(map(str, hidden))}")


def _hide(paths: list[Path], keep: list[Path]) -> None:
    """Tapa cada ruta de ``paths`` y vuelve a montar dentro las de ``keep`` que caigan en ella.

    Los montajes de paso van a una carpeta temporal que se desmonta y se borra al terminar: ni
    ella ni nada de lo que el núcleo escriba en lo tapado queda en el disco de quien corrige.
    """
    paths = [p for p in paths if not any(q in p.parents for q in paths)]  # lo de dentro ya queda tapado
    stash = _stash_dir(paths)
    try:
        _mount("-t", "tmpfs", "tmpfs", str(stash))  # privado de este espacio de nombres
        _hide_through(stash, paths, keep)
    finally:
        # Los montajes hechos desde la carpeta de paso ya no dependen de ella: se suelta y se borra.
        subprocess.run(["umount", "--recursive", "--lazy", str(stash)], capture_output=True)
        try:
            stash.rmdir()
        except OSError:
            pass


def _hide_through(stash: Path, paths: list[Path], keep: list[Path]) -> None:
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


def _connection_dir(argv: list[str]) -> list[Path]:
    """La carpeta del archivo de conexión (``-f``): ahí están también los sockets de Unix del núcleo."""
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag in ("-f", "--f"):
            return [Path(value).resolve().parent]
    return [Path(a.split("=", 1)[1]).resolve().parent for a in argv if a.startswith(("-f=", "--f="))]


def _isolate(argv: list[str]) -> None:
    cwd = Path.cwd()
    hidden = [Path(p).resolve() for p in os.environ.get(HIDE, "").split(os.pathsep) if p and Path(p).exists()]
    home = Path(os.path.expanduser("~")).resolve()
    if home.is_dir() and home != Path("/"):
        hidden.append(home)  # la carpeta personal de quien corrige: claves, tokens, otros cursos
    packages = [importlib.util.find_spec(name) for name in ("course_lib", "course_grading")]
    code = [Path(p).resolve() for spec in packages for p in spec.submodule_search_locations]
    # El Python base (p. ej. el de ``pyenv``, dentro de ``HOME``) hace falta para seguir importando.
    python = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    keep = [cwd, *code, *sorted(python), *_connection_dir(argv)]
    _hide(sorted(set(hidden), key=lambda p: len(p.parts)), keep)
    os.chdir(cwd)  # vuelve a entrar por el montaje nuevo (el viejo directorio quedó tapado)
    # La HOME nueva, dentro del ``tmpfs`` que tapa la de verdad: desaparece con el núcleo (en /tmp quedaría).
    private = home if home in hidden and home not in keep and home.is_dir() else None
    os.environ["HOME"] = tempfile.mkdtemp(prefix="curso-home-", dir=private)
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
        try:
            _isolate(argv)
        except (IsolationError, OSError) as error:
            # Antes de responder a nbgrader: sin esta línea, solo se vería ``Kernel died before replying``.
            _log(f"No pude aislar el núcleo dentro de `unshare`: {error}")
            raise SystemExit(4) from None
    os.environ.update(KERNEL_ENV)
    _limit()
    from ipykernel.kernelapp import IPKernelApp

    from course_grading.kernel import GradingKernel

    IPKernelApp.launch_instance(argv=argv, kernel_class=GradingKernel)


if __name__ == "__main__":
    main(sys.argv[1:])
