"""Pruebas de las piezas del entrenamiento: un paso de optimización, puntos de control, varias GPU y la estructura.

El bucle completo (:func:`course_lib.train.fit`: reanudación exacta, DDP con dos procesos) se
prueba en tests/test_train.py; aquí, cada módulo por separado.
"""

import ast
import copy
import importlib
import os
import pkgutil
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import budget, checkpoints, checks, distributed, losses, schedule, train
from course_lib import step as step_module
from course_lib.budget import Stopwatch
from course_lib.checkpoints import (
    load_checkpoint,
    resume_training,
    rng_state,
    save_checkpoint,
    save_training,
    set_rng_state,
)
from course_lib.losses import label_smoothing_loss
from course_lib.mistakes import forbidden
from course_lib.step import amp_dtype, grad_scaler, train_step
from course_lib.train import History, TrainConfig, _RunningLoss, _shard

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


class TinyModel(nn.Module):
    """Un «traductor» mínimo con la interfaz de fit: ``forward(src, tgt_in) → logits (B, T, V)``."""

    def __init__(self, V: int = 7, D: int = 5, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(V, D)
        self.out = nn.Linear(D, V)
        self.seen_dtype: torch.dtype | None = None

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        context = self.embed(src).mean(dim=1, keepdim=True)  # (B, 1, D)
        logits = self.out(self.embed(tgt_in) + context)  # (B, T, V)
        self.seen_dtype = logits.dtype
        return logits


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    src = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])  # (B, T_src)
    tgt_in = torch.tensor([[1, 3, 5], [1, 6, 2]])  # (B, T)
    tgt_out = torch.tensor([[3, 5, 2], [6, 2, 0]])  # (B, T); el último es relleno
    return src, tgt_in, tgt_out


def _delta_norm(before: nn.Module, after: nn.Module) -> float:
    deltas = [(p - q).detach().flatten() for p, q in zip(after.parameters(), before.parameters(), strict=True)]
    return float(torch.cat(deltas).norm())


# --- course_lib.step: un paso de optimización ----------------------------------------------------


def test_train_step_does_one_optimizer_step_and_returns_the_loss():
    """La pérdida devuelta es la del lote antes del paso, y los parámetros dan un paso de SGD con su gradiente."""
    src, tgt_in, tgt_out = _batch()
    model = TinyModel()
    reference = copy.deepcopy(model)
    expected = label_smoothing_loss(reference(src, tgt_in), tgt_out, 0.1, 0)
    expected.backward()
    for p in model.parameters():  # gradientes viejos: train_step debe ponerlos a cero antes
        p.grad = torch.full_like(p, 1e3)
    loss = train_step(model, torch.optim.SGD(model.parameters(), lr=0.1), src, tgt_in, tgt_out, smoothing=0.1, pad_id=0)
    assert loss.dim() == 0 and not loss.requires_grad
    torch.testing.assert_close(loss, expected.detach())
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), (q - 0.1 * q.grad).detach())


def test_train_step_clips_the_gradient_norm():
    """Con SGD y lr = 1 el paso mide exactamente clip_norm; sin recorte, mucho más."""
    src, tgt_in, tgt_out = _batch()
    for clip_norm, check in ((1e-3, lambda n: n == pytest.approx(1e-3, rel=1e-4)), (0.0, lambda n: n > 1e-2)):
        model = TinyModel()
        before = copy.deepcopy(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        train_step(model, optimizer, src, tgt_in, tgt_out, smoothing=0.0, pad_id=0, clip_norm=clip_norm)
        assert check(_delta_norm(before, model)), (clip_norm, _delta_norm(before, model))


def test_train_step_with_a_scaler_unscales_before_clipping():
    """Con GradScaler el paso es el mismo que sin él: se desescala antes de recortar."""
    src, tgt_in, tgt_out = _batch()
    plain, scaled = TinyModel(), TinyModel()
    before = copy.deepcopy(plain)
    options = {"smoothing": 0.1, "pad_id": 0, "clip_norm": 1e-3}
    train_step(plain, torch.optim.SGD(plain.parameters(), lr=1.0), src, tgt_in, tgt_out, **options)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    train_step(scaled, torch.optim.SGD(scaled.parameters(), lr=1.0), src, tgt_in, tgt_out, scaler=scaler, **options)
    assert _delta_norm(before, scaled) == pytest.approx(1e-3, rel=1e-4)
    for p, q in zip(plain.parameters(), scaled.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert scaler.get_scale() == 2.0**12  # un paso bueno no cambia la escala


def test_train_step_with_a_scaler_skips_a_step_with_infinite_gradient():
    """Si el gradiente tiene inf, el escalador se salta el paso y baja la escala."""
    src, tgt_in, tgt_out = _batch()
    model = TinyModel()
    before = copy.deepcopy(model)
    model.out.weight.register_hook(lambda grad: grad * float("inf"))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train_step(model, optimizer, src, tgt_in, tgt_out, smoothing=0.1, pad_id=0, scaler=scaler)
    for p, q in zip(model.parameters(), before.parameters(), strict=True):
        assert torch.equal(p, q), "con gradiente infinito no debe cambiar ningún parámetro"
    assert scaler.get_scale() == 2.0**11


def test_train_step_runs_the_forward_pass_in_the_mixed_precision_type():
    """Con dtype=bf16 el modelo calcula en bf16 (autocast) y la pérdida sigue en fp32; sin dtype, todo fp32."""
    src, tgt_in, tgt_out = _batch()
    model = TinyModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = train_step(model, optimizer, src, tgt_in, tgt_out, smoothing=0.1, pad_id=0, dtype=torch.bfloat16)
    assert model.seen_dtype == torch.bfloat16 and loss.dtype == torch.float32
    train_step(model, optimizer, src, tgt_in, tgt_out, smoothing=0.1, pad_id=0)
    assert model.seen_dtype == torch.float32


def test_amp_dtype_follows_the_precision(monkeypatch):
    """En CUDA, lo pedido, y con «auto», bf16 solo si la tarjeta lo calcula de forma nativa."""
    cuda = torch.device("cuda", 0)
    assert amp_dtype("fp32", cuda) is None
    assert amp_dtype("bf16", cuda) is torch.bfloat16 and amp_dtype("fp16", cuda) is torch.float16
    asked = []
    for supported, expected in ((True, torch.bfloat16), (False, torch.float16)):

        def fake(including_emulation=True, s=supported):
            asked.append(including_emulation)
            return s

        monkeypatch.setattr(torch.cuda, "is_bf16_supported", fake)
        assert amp_dtype("auto", cuda) is expected
    assert asked == [False, False], "una T4 emula bf16: «auto» debe preguntar por bf16 nativo"
    assert amp_dtype("bf16", torch.device("mps")) is None


@pytest.mark.parametrize("has_bf16", [True, False])
def test_amp_dtype_on_cpu_uses_bf16_only_when_asked_and_native(monkeypatch, has_bf16):
    """En CPU: bf16 solo con «bf16» y una CPU con instrucciones bf16; si no, fp32."""
    monkeypatch.setattr(step_module, "cpu_has_bf16", lambda: has_bf16)
    assert amp_dtype("bf16", CPU) is (torch.bfloat16 if has_bf16 else None)
    assert all(amp_dtype(p, CPU) is None for p in ("auto", "fp16", "fp32"))


def test_cpu_has_bf16_reads_the_cpu_capabilities(monkeypatch):
    """Cualquiera de las dos capacidades basta; ninguna, no."""
    for avx, amx in ((True, False), (False, True), (False, False)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda a=avx: a)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda a=amx: a)
        assert step_module.cpu_has_bf16() is (avx or amx)


def test_grad_scaler_only_for_fp16():
    """bf16 y fp32 no escalan la pérdida; fp16 sí."""
    assert grad_scaler(None) is None and grad_scaler(torch.bfloat16) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sin CUDA, PyTorch avisa de que lo desactiva
        assert isinstance(grad_scaler(torch.float16), torch.amp.GradScaler)


# --- course_lib.checkpoints ----------------------------------------------------------------------


def test_save_and_load_checkpoint_round_trip(tmp_path):
    """Lo guardado se lee igual, sin dejar el archivo temporal; si no existe, error en español."""
    tensor = torch.randn(3, 4)
    path = save_checkpoint(tmp_path / "sub" / "c.pt", tensor=tensor, step=7, note="hola")
    assert path == tmp_path / "sub" / "c.pt"
    state = load_checkpoint(path)
    assert torch.equal(state["tensor"], tensor) and state["step"] == 7 and state["note"] == "hola"
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]
    with pytest.raises(FileNotFoundError, match="No existe el punto de control"):
        load_checkpoint(tmp_path / "otro.pt")


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    """Un corte a mitad de torch.save deja intacto el punto de control anterior."""
    path = save_checkpoint(tmp_path / "c.pt", value=1)

    def cut_short(obj, file, *args, **kwargs):
        Path(file).write_bytes(b"a medias")
        raise OSError("corte de luz")

    monkeypatch.setattr(torch, "save", cut_short)
    with pytest.raises(OSError, match="corte"):
        save_checkpoint(path, value=2)
    monkeypatch.undo()
    assert load_checkpoint(path)["value"] == 1


def test_rng_state_restores_python_numpy_and_torch():
    """Tras set_rng_state(rng_state()), los tres generadores repiten los mismos números."""
    state = rng_state()
    first = (random.random(), np.random.rand(), torch.rand(3))
    set_rng_state(state)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[:2] == second[:2] and torch.equal(first[2], second[2])


def test_save_and_resume_training_continue_exactly(tmp_path):
    """Reanudar en objetos nuevos restaura pesos, optimizador, planificador y generadores: sigue idéntico."""
    src, tgt_in, tgt_out = _batch()

    def build(seed):
        model = TinyModel(seed=seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.01 / (s + 1))
        return {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": None}

    def step(parts):
        train_step(parts["model"], parts["optimizer"], src, tgt_in, tgt_out, smoothing=0.1, pad_id=0)
        parts["scheduler"].step()

    original = build(seed=0)
    step(original)
    path = save_training(tmp_path / "ultimo.pt", **original, history={"steps": [1]}, step=1, epoch=2, consumed=3,
                         config={"steps": 5})  # fmt: skip
    expected_noise = torch.rand(4)
    step(original)

    resumed = build(seed=1)
    state = resume_training(path, **resumed)
    assert torch.equal(torch.rand(4), expected_noise), "no restauró el generador de PyTorch"
    assert (state["step"], state["epoch"], state["consumed"]) == (1, 2, 3)
    assert state["history"] == {"steps": [1]} and state["config"] == {"steps": 5} and state["extra"] == {}
    assert resumed["scheduler"].last_epoch == 1
    step(resumed)
    for p, q in zip(original["model"].parameters(), resumed["model"].parameters(), strict=True):
        assert torch.equal(p, q)


# --- course_lib.distributed, sin torchrun --------------------------------------------------------


def test_without_torchrun_everything_is_one_process(monkeypatch):
    """Sin grupo de procesos: rango 0 de 1, el modelo sin envolver y el valor del indicador tal cual."""
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.rank_and_world() == (0, 1)
    rank, world, device = distributed.init_distributed()
    assert (rank, world) == (0, 1) and isinstance(device, torch.device)
    model = TinyModel()
    assert distributed.wrap_model(model, CPU) is model
    assert distributed.broadcast_flag(True, CPU) is True and distributed.broadcast_flag(False, CPU) is False


# --- course_lib.train: piezas del bucle ----------------------------------------------------------


def test_shard_deals_one_batch_per_process_and_skips_what_was_seen():
    """Cada grupo de world lotes da uno a cada proceso; el grupo incompleto se descarta; start salta lotes vistos."""
    letters = list("abcdefg")
    assert list(_shard(letters, 0, 0, 1)) == [(i + 1, x) for i, x in enumerate(letters)]
    assert list(_shard(letters, 5, 0, 1)) == [(6, "f"), (7, "g")]
    assert list(_shard(letters, 0, 0, 2)) == [(2, "a"), (4, "c"), (6, "e")]
    assert list(_shard(letters, 0, 1, 2)) == [(2, "b"), (4, "d"), (6, "f")]
    assert list(_shard(letters, 2, 1, 3)) == [(5, "d")]
    assert list(_shard([], 0, 0, 1)) == []


def test_running_loss_averages_since_the_last_reading():
    """take() da la media y los tokens desde la lectura anterior y vuelve a empezar."""
    running = _RunningLoss(CPU)
    running.add(torch.tensor(2.0), torch.tensor(10))
    running.add(torch.tensor(4.0), torch.tensor(5))
    assert running.take() == (3.0, 15) and running.count == 0
    running.add(torch.tensor(1.0), torch.tensor(1))
    assert running.take() == (1.0, 1)


def test_stopwatch_does_not_count_the_pauses(monkeypatch):
    """Segundos = los de antes + los de pared, menos los de las pausas (la validación)."""
    ticks = iter([100.0, 103.0, 110.0, 112.0])
    monkeypatch.setattr(budget.time, "perf_counter", lambda: next(ticks))
    clock = Stopwatch(before=5.0)  # arranca en 100
    with clock.paused():  # de 103 a 110
        pass
    assert clock.seconds() == 5.0 + 12.0 - 7.0  # se lee en 112


def test_history_log_train_and_log_valid():
    """log_train anota paso, pérdida y tasa, suma tokens y pone el tiempo; log_valid anota la validación."""
    history = History()
    history.log_train(10, 2.5, 1e-3, tokens=400, seconds=2.0)
    history.log_train(20, 2.0, 2e-3, tokens=600, seconds=4.0)
    history.log_valid(20, 2.2)
    assert (history.steps, history.train_loss, history.lr) == ([10, 20], [2.5, 2.0], [1e-3, 2e-3])
    assert (history.tokens, history.seconds, history.tokens_per_second) == (1000, 4.0, 250.0)
    assert (history.valid_steps, history.valid_loss) == ([20], [2.2])


# --- Estructura: qué vive dónde ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "home", "attr"),
    [
        ("noam_lr", "course_lib.schedule", "noam_lr"),
        ("learning_rate", "course_lib.schedule", "learning_rate"),
        ("steps_for_budget", "course_lib.schedule", "steps_for_budget"),
        ("label_smoothing_loss", "course_lib.losses", "label_smoothing_loss"),
        ("train_step", "course_lib.step", "train_step"),
        ("save_checkpoint", "course_lib.checkpoints", "save_checkpoint"),
        ("load_checkpoint", "course_lib.checkpoints", "load_checkpoint"),
        ("CHECKPOINT_NAME", "course_lib.checkpoints", "CHECKPOINT_NAME"),
    ],
)
def test_train_still_exports_each_piece(name, home, attr):
    """Lo que antes se importaba de course_lib.train sigue ahí, y es el mismo objeto que en su módulo."""
    assert getattr(train, name) is getattr(importlib.import_module(home), attr)


def test_train_all_lists_what_it_exports():
    """Cada nombre de __all__ existe; fit se define en course_lib.train y la receta en course_lib.train_config."""
    for name in train.__all__:
        assert hasattr(train, name), name
    assert {"TrainConfig", "History", "fit", "evaluate_loss"} <= set(train.__all__)
    assert train.fit.__module__ == "course_lib.train"
    assert train.TrainConfig.__module__ == train.History.__module__ == "course_lib.train_config"


def test_importing_train_does_not_import_the_distributed_module():
    """course_lib.distributed se carga solo al pedirlo (o al entrenar con varios procesos), no al importar train."""
    code = (
        "import sys\n"
        "import course_lib.train as train\n"
        "assert 'course_lib.distributed' not in sys.modules, 'course_lib.train importó course_lib.distributed'\n"
        "from course_lib.distributed import init_distributed\n"
        "assert 'course_lib.distributed' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def _imports_torch_distributed(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.startswith("torch.distributed") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("torch.distributed"):
                return True
            if node.module == "torch" and any(a.name == "distributed" for a in node.names):
                return True
    return False


def test_only_the_distributed_module_imports_torch_distributed():
    """Toda la biblioteca habla con torch.distributed a través de course_lib.distributed."""
    offenders = [p.name for p in sorted((ROOT / "course_lib").rglob("*.py")) if _imports_torch_distributed(p)]
    assert offenders == ["distributed.py"]


def test_imports_torch_distributed_detects_every_form(tmp_path):
    """La comprobación anterior puede fallar: reconoce las tres formas de importarlo."""
    for source in (
        "import torch.distributed as dist",
        "from torch.distributed import broadcast",
        "from torch import distributed",
    ):
        module = tmp_path / "m.py"
        module.write_text(source + "\n", encoding="utf-8")
        assert _imports_torch_distributed(module), source
    module.write_text("import torch\nfrom torch import nn\n", encoding="utf-8")
    assert not _imports_torch_distributed(module)


# --- Rutas prohibidas del cuaderno 07 ------------------------------------------------------------


@pytest.mark.parametrize("path", forbidden.TRAIN)
def test_forbidden_train_paths_resolve_to_callables(path):
    """Cada ruta de forbidden.TRAIN se importa (con pkgutil) y se puede llamar."""
    assert callable(pkgutil.resolve_name(path))


@pytest.mark.parametrize("reference", [losses.label_smoothing_loss, schedule.noam_lr], ids=lambda f: f.__name__)
def test_forbidden_train_lists_every_home_of_each_reference(reference):
    """Se prohíbe donde se define y donde se vuelve a exportar: si no, bastaría con llamar a la otra ruta."""
    for module in (reference.__module__, "course_lib.train", "course_lib"):
        assert f"{module}.{reference.__name__}" in forbidden.TRAIN


def test_forbid_train_blocks_the_references_through_every_path():
    """Dentro de forbid(TRAIN), las referencias fallan por cualquier ruta; al salir vuelven."""
    logits, target = torch.randn(2, 3, 5), torch.ones(2, 3, dtype=torch.long)
    calls = [
        lambda: losses.label_smoothing_loss(logits, target, 0.1, 0),
        lambda: train.label_smoothing_loss(logits, target, 0.1, 0),
        lambda: schedule.noam_lr(1, 8, 2),
        lambda: train.noam_lr(1, 8, 2),
        lambda: schedule.learning_rate(1, 8, TrainConfig(steps=2, warmup=2)),
    ]
    with checks.forbid(forbidden.TRAIN, namespace={}):
        for call in calls:
            with pytest.raises(checks.ForbiddenCallError):
                call()
    assert schedule.noam_lr(1, 8, 2) > 0 and checkpoints.CHECKPOINT_NAME == "ultimo.pt"
