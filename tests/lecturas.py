"""Contar las lecturas de tensores desde Python: en una GPU, cada una sería una espera.

Lo usan tests/test_decode_sync.py y tests/test_train_sync.py; el *fixture* ``reads`` está en
tests/conftest.py.
"""

from __future__ import annotations

import sys
from collections import Counter

import torch

READS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__")

# TokenEmbedding comprueba el rango de los índices solo si están en la CPU (en la GPU no lo hace,
# precisamente para no esperar): en esta prueba, que corre en la CPU, no cuenta.
CPU_ONLY = {("positional.py", "forward")}


def counting_reads(monkeypatch) -> Counter:
    """Sustituye los métodos de ``torch.Tensor`` que leen un valor por unos que cuentan quién los llama.

    Devuelve el contador ``{(método, archivo, función que llama): veces}``, que se vacía con ``clear()``.
    """
    counter: Counter = Counter()

    def counting(name: str):
        original = getattr(torch.Tensor, name)

        def read(self, *args, **kwargs):
            caller = sys._getframe(1).f_code
            counter[name, caller.co_filename.rsplit("/", 1)[-1], caller.co_name] += 1
            return original(self, *args, **kwargs)

        return read

    for name in READS:
        monkeypatch.setattr(torch.Tensor, name, counting(name))
    return counter


def device_reads(counter: Counter) -> int:
    """Las lecturas que también habría en una GPU."""
    return sum(n for (_, file, function), n in counter.items() if (file, function) not in CPU_ONLY)
