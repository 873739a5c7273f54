"""Con ``torchrun``, solo el proceso 0 descarga los datos y entrena el tokenizador; los demás esperan
y reciben lo mismo."""

import json

from tests.torchrun import torchrun


def test_only_rank_zero_downloads_and_trains_the_tokenizer(tmp_path):
    torchrun("data_worker.py", str(tmp_path), CURSO_RAPIDO="0")
    logs = {r: (tmp_path / f"registro{r}.txt").read_text().split("\n")[:-1] for r in (0, 1)}
    assert logs[0] == ["descarga pares", "lee pares", "descarga prueba", "lee prueba", "tokenizador"], logs[0]
    assert logs[1] == ["lee pares", "lee prueba"], "el proceso 1 no debe descargar ni entrenar el tokenizador"
    first, second = (json.loads((tmp_path / f"datos{r}.json").read_text()) for r in (0, 1))
    assert first == second, "los dos procesos deben tener los mismos datos y el mismo tokenizador"
    assert first["train"] > 0 and first["test"] == 20
