"""Arranque del núcleo de corrección: del inicio del proceso a la primera prueba calificada terminada.

Es lo que paga cada cuaderno corregido antes de ejecutar nada del alumno: aislarse, importar
IPython y PyTorch, fotografiar ``course_lib`` y ejecutar la primera celda calificada, que
empieza con ``from course_lib import checks``. Arranca el núcleo ``curso-calificacion`` tal
como lo arranca nbgrader (con su kernelspec), ``--rondas`` veces, y da la mediana y el
intervalo de cada fase:

- ``listo``: desde que se lanza el proceso hasta que el núcleo responde;
- ``primera prueba``: la primera celda calificada (``from course_lib import checks`` y una
  comprobación), tras la foto;
- ``total``: la suma.

Funciona con la organización de antes (``course_lib.grading``) y con la de ahora
(``course_grading``), para medir las dos en la misma máquina:

    python benchmarks/nucleo_calificacion.py --rondas 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client import KernelManager

try:
    from course_grading.kernel import MARKER
    from course_grading.preprocessors import KERNEL_NAME, install_kernelspec
except ImportError:  # la organización anterior (hasta a18269f): todo en course_lib
    from course_lib.grading import KERNEL_NAME, install_kernelspec  # type: ignore[no-redef]
    from course_lib.guard import MARKER  # type: ignore[no-redef]

FIRST_TEST = (
    f"{MARKER}\nimport torch\nfrom course_lib import checks\nchecks.check_shape(torch.zeros(2, 3), (2, 3), 'x')\n"
)


def one_round(workdir: Path) -> tuple[float, float]:
    """Arranca el núcleo, ejecuta la primera prueba y lo apaga: ``(s hasta listo, s de la prueba)``."""
    manager = KernelManager(kernel_name=KERNEL_NAME)
    start = time.perf_counter()
    manager.start_kernel(cwd=str(workdir))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        ready = time.perf_counter()
        reply = client.execute_interactive(FIRST_TEST, timeout=120)
        done = time.perf_counter()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"La primera prueba falló en el núcleo: {reply['content']}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return ready - start, done - ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rondas", type=int, default=5, help="arranques medidos (por defecto, 5)")
    args = parser.parse_args()

    base = str(install_kernelspec())
    os.environ["JUPYTER_PATH"] = os.pathsep.join([base, os.environ.get("JUPYTER_PATH", "")])
    workdir = Path.cwd() / ".nucleo_calificacion"
    workdir.mkdir(exist_ok=True)
    one_round(workdir)  # calienta la caché de disco: no cuenta
    rounds = [one_round(workdir) for _ in range(args.rondas)]
    workdir.rmdir()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"Máquina: {platform.processor() or platform.machine()}, {os.cpu_count()} núcleos; commit {commit}")
    print(f"Carga media al terminar: {os.getloadavg()[0]:.2f}; {args.rondas} arranques")
    for name, values in (
        ("listo", [r[0] for r in rounds]),
        ("primera prueba", [r[1] for r in rounds]),
        ("total", [r[0] + r[1] for r in rounds]),
    ):
        print(f"  {name:>15}: mediana {statistics.median(values):.2f} s (de {min(values):.2f} a {max(values):.2f})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
