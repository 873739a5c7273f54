"""Pruebas de que el bucle de :func:`course_lib.train.fit` no hace esperar a la GPU en cada paso.

Se cuentan en la CPU, como en tests/test_decode_sync.py, las lecturas de tensores desde Python
(``item``, ``float(t)``, ``int(t)``, ``bool(t)``…), que en una GPU serían una espera a que acabe
todo lo pendiente. Fuera de la calibración de un entrenamiento por tiempo, ``fit`` solo lee al
anotar la pérdida (cada ``log_every`` pasos). Lo que no se cuenta: ``GradScaler.step`` de PyTorch
lee en cada paso si hubo gradientes infinitos (solo con fp16, por diseño de PyTorch).
"""

from collections import Counter

import pytest

from course_lib.train import TrainConfig, fit
from tests.lecturas import device_reads
from tests.test_train import _model, _task

STEPS, LOG_EVERY = 40, 10


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Modelos diminutos: con un hilo (la fixture ``one_thread`` de conftest)."""


# Adam guarda su contador de pasos en un tensor de la CPU también cuando entrena en GPU (salvo con
# ``capturable`` o ``fused``) y lo lee con ``item()``: en GPU no es una espera.
CPU_TENSORS = {("optimizer.py", "_get_value")}


def _device_reads(counter: Counter) -> Counter:
    """Las lecturas que en una GPU serían esperas (sin las de tensores que viven en la CPU)."""
    kept = Counter({key: n for key, n in counter.items() if (key[1], key[2]) not in CPU_TENSORS})
    return Counter({key: n for key, n in kept.items() if device_reads(Counter({key: n}))})


def _readers(counter: Counter) -> set[str]:
    return {f"{file}:{function}" for (_, file, function), n in _device_reads(counter).items() if n}


def test_fit_reads_the_device_only_when_it_logs(reads):
    """40 pasos con una anotación cada 10: las lecturas no crecen con los pasos, solo con las anotaciones."""
    es, en, batches = _task()
    counts = []
    for log_every in (LOG_EVERY, STEPS):
        reads.clear()
        config = TrainConfig(steps=STEPS, warmup=5, log_every=log_every)
        fit(_model(es, en), batches, config, device="cpu", progress=False)
        counts.append(sum(_device_reads(reads).values()))
    per_log = counts[1]  # una sola anotación, al final
    assert per_log <= 4, f"una anotación no debería leer más de unas pocas veces: {reads}"
    assert counts[0] == per_log * STEPS // LOG_EVERY, f"{counts}: hay lecturas fuera de las anotaciones ({reads})"
    assert _readers(reads) <= {"train.py:take"}, _readers(reads)


def test_the_count_would_see_a_read_per_step(reads, monkeypatch):
    """Control de la prueba: si train_step leyera la pérdida en cada paso, el recuento lo vería."""
    from course_lib import train as train_module

    original = train_module.train_step

    def reading(*args, **kwargs):
        loss = original(*args, **kwargs)
        loss.item()  # una lectura por paso, como un bucle ingenuo que imprime la pérdida
        return loss

    monkeypatch.setattr(train_module, "train_step", reading)
    es, en, batches = _task()
    fit(_model(es, en), batches, TrainConfig(steps=STEPS, warmup=5, log_every=STEPS), device="cpu", progress=False)
    assert sum(_device_reads(reads).values()) >= STEPS


@pytest.mark.parametrize("precision", ["bf16"])
def test_mixed_precision_on_cpu_adds_no_reads(reads, monkeypatch, precision):
    """Con bf16 (autocast en CPU) el bucle lee lo mismo que en fp32."""
    monkeypatch.setattr("course_lib.step.cpu_has_bf16", lambda: True)
    es, en, batches = _task()
    config = TrainConfig(steps=STEPS, warmup=5, log_every=LOG_EVERY, precision=precision)
    fit(_model(es, en), batches, config, device="cpu", progress=False)
    assert _readers(reads) <= {"train.py:take"}, reads
    assert sum(_device_reads(reads).values()) <= 4 * STEPS // LOG_EVERY
