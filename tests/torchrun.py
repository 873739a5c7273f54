"""Lanzar un guion de prueba con ``torchrun`` (2 procesos, gloo, CPU) y comprobar que acaba bien."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def torchrun(worker: str, *args: str, nproc: int = 2, timeout: int = 240, **env: str) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run --standalone --nproc_per_node=nproc tests/<worker> args…``.

    Cada proceso con un hilo y ``course_lib`` importable; ``env`` añade variables. Falla con la
    salida de los procesos si alguno termina mal.
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **env}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(ROOT / "tests" / worker), *args]  # fmt: skip
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result
