"""Con ``torchrun``, solo el proceso 0 descarga los datos y entrena el tokenizador; los demás esperan
y reciben lo mismo."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_only_rank_zero_downloads_and_trains_the_tokenizer(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CURSO_RAPIDO": "0"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(ROOT / "tests" / "data_worker.py"), str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    logs = {r: (tmp_path / f"registro{r}.txt").read_text().split("\n")[:-1] for r in (0, 1)}
    assert logs[0] == ["descarga pares", "lee pares", "descarga prueba", "lee prueba", "tokenizador"], logs[0]
    assert logs[1] == ["lee pares", "lee prueba"], "el proceso 1 no debe descargar ni entrenar el tokenizador"
    first, second = (json.loads((tmp_path / f"datos{r}.json").read_text()) for r in (0, 1))
    assert first == second, "los dos procesos deben tener los mismos datos y el mismo tokenizador"
    assert first["train"] > 0 and first["test"] == 20
