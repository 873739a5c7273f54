"""Proceso de la prueba de datos con ``torchrun`` (lo lanza tests/test_distributed_data.py).

Sustituye la carga de los pares por una que «descarga» a una caché compartida si aún no está
(y lo anota) y la lee si ya está; cuenta quién entrena el tokenizador. Guarda en
``<carpeta>/datos<rank>.json`` el tokenizador que recibió y cuántos pares tiene.
"""

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from course_lib import translate
from course_lib.distributed import init_distributed


def main(out: Path) -> None:
    rank, _, _ = init_distributed()
    cache = out / "cache.json"
    log = out / f"registro{rank}.txt"

    def load(kind: str, seed: int):
        def loader(path=None):
            if not cache.with_suffix(f".{kind}").exists():
                with log.open("a") as f:
                    f.write(f"descarga {kind}\n")
                time.sleep(0.5)  # una descarga tarda: si otro proceso no esperara, la repetiría
                pairs = translate._synthetic_pairs(300, seed)
                cache.with_suffix(f".{kind}").write_text(json.dumps(pairs, ensure_ascii=False))
            with log.open("a") as f:
                f.write(f"lee {kind}\n")
            return [tuple(p) for p in json.loads(cache.with_suffix(f".{kind}").read_text())]

        return loader

    translate.datasets.load_spa_eng = load("pares", 0)
    translate.datasets.load_tatoeba_test = load("prueba", 1)
    real = translate.train_tokenizer

    def counted(*args, **kwargs):
        with log.open("a") as f:
            f.write("tokenizador\n")
        return real(*args, **kwargs)

    translate.train_tokenizer = counted
    profile = replace(translate.PROFILES["diminuto"], synthetic=False, test_size=20)
    data = translate.prepare_data("en-es", profile)
    (out / f"datos{rank}.json").write_text(
        json.dumps({"tokenizer": data.tokenizer.to_str(), "train": len(data.train), "test": len(data.test)})
    )
    import torch

    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
