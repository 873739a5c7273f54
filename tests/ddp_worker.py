"""Proceso de la prueba de DistributedDataParallel (lo lanza ``torchrun`` desde tests/test_train.py).

Entrena unos pasos un Transformer diminuto con el corpus sintético y guarda los parámetros
de su réplica en ``<carpeta>/replica<rank>.pt``.
"""

import sys
from pathlib import Path

import torch

from course_lib import Transformer, grammar
from course_lib.distributed import broadcast_int, init_distributed
from course_lib.train import TrainConfig, fit


def main(out: Path) -> None:
    rank, world, device = init_distributed()
    torch.set_num_threads(1)
    torch.manual_seed(0)  # la misma inicialización en todas las réplicas (DDP además la difunde)
    es, en = grammar.build_vocabs()
    pairs = grammar.generate_pairs(256, seed=0, max_len=6)
    model = Transformer(len(es), len(en), d_model=32, n_heads=4, n_layers=1, d_ff=64, dropout=0.1)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    history = fit(
        model,
        lambda epoch: grammar.batches(pairs, es, en, 32, shuffle=True, seed=epoch),
        TrainConfig(steps=4, warmup=2, lr_scale=1.0, seed=rank),  # semillas distintas: dropout distinto
        device=device,
        progress=False,
    )
    shared = broadcast_int(5637 if rank == 0 else 1, device)  # el total que calibró el proceso 0
    torch.save(
        {"state": model.state_dict(), "initial": initial, "world": world, "loss": history.train_loss, "int": shared},
        out / f"replica{rank}.pt",
    )
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
