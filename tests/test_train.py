"""Pruebas de course_lib.train: pérdida con suavizado, calentamiento, bucle, reanudación y DDP."""

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from course_lib import Transformer, grammar
from course_lib.train import (
    History,
    TrainConfig,
    evaluate_loss,
    fit,
    label_smoothing_loss,
    learning_rate,
    load_checkpoint,
    noam_lr,
)

ROOT = Path(__file__).resolve().parents[1]


# --- noam_lr -------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [1, 7, 100, 4000, 4001, 10**6])
def test_noam_lr_matches_the_formula(step):
    """Igual a la fórmula del artículo escrita aparte."""
    expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
    assert noam_lr(step, 512, 4000) == pytest.approx(expected, rel=1e-12)


def test_noam_lr_peaks_at_warmup():
    """Sube en línea recta hasta warmup y después baja; el máximo es (d_model·warmup)^-0.5."""
    values = [noam_lr(s, 64, 50) for s in range(1, 200)]
    assert max(range(len(values)), key=values.__getitem__) + 1 == 50
    assert values[49] == pytest.approx((64 * 50) ** -0.5)
    assert values[19] == pytest.approx(2 * values[9])  # lineal durante el calentamiento
    assert values[199 - 1] < values[99]


@pytest.mark.parametrize("args", [(0, 512, 4000), (-3, 512, 4000), (1, 0, 10), (1, 512, 0), (1.5, 512, 10)])
def test_noam_lr_rejects_bad_arguments(args):
    """Argumentos no válidos: error en español que nombra el argumento."""
    with pytest.raises(ValueError, match="debe ser un entero"):
        noam_lr(*args)


def test_learning_rate_is_scaled_noam_until_the_cooldown():
    """Sin enfriamiento, lr_scale · noam_lr; con él, igual hasta los últimos pasos y luego una recta hacia 0."""
    plain = TrainConfig(steps=100, warmup=10, lr_scale=2.0)
    cooled = TrainConfig(steps=100, warmup=10, lr_scale=2.0, cooldown=20)
    for step in range(1, 101):
        assert learning_rate(step, 64, plain) == pytest.approx(2.0 * noam_lr(step, 64, 10), rel=1e-12)
    for step in range(1, 81):
        assert learning_rate(step, 64, cooled) == learning_rate(step, 64, plain)
    factors = [learning_rate(s, 64, cooled) / learning_rate(s, 64, plain) for s in range(81, 101)]
    assert factors == pytest.approx([(101 - s) / 20 for s in range(81, 101)])  # 1, 0,95, …, 0,05
    assert learning_rate(101, 64, cooled) == 0.0  # después del último paso


@pytest.mark.parametrize("cooldown", [-1, 101, 2.5])
def test_cooldown_must_fit_in_the_steps(cooldown):
    """Un enfriamiento negativo, no entero o más largo que el entrenamiento se rechaza en español."""
    with pytest.raises(ValueError, match="cooldown"):
        TrainConfig(steps=100, cooldown=cooldown)


# --- label_smoothing_loss ------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.4])
def test_label_smoothing_loss_equals_pytorch_cross_entropy(smoothing):
    """(B, T, V) con relleno: igual que F.cross_entropy con ignore_index y label_smoothing."""
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 11)
    target = torch.randint(1, 11, (3, 5))
    target[0, 3:] = 0
    target[2, 1:] = 0
    expected = F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), ignore_index=0, label_smoothing=smoothing)
    torch.testing.assert_close(label_smoothing_loss(logits, target, smoothing, 0), expected)


def test_label_smoothing_loss_flat_input_and_other_pad_id():
    """(N, V) y un pad_id distinto de 0."""
    torch.manual_seed(1)
    logits, target = torch.randn(9, 6), torch.randint(0, 6, (9,))
    target[::3] = 5
    expected = F.cross_entropy(logits, target, ignore_index=5, label_smoothing=0.2)
    torch.testing.assert_close(label_smoothing_loss(logits, target, 0.2, 5), expected)


def test_label_smoothing_loss_ignores_what_padding_predicts():
    """Cambiar los logits de las posiciones de relleno no cambia la pérdida."""
    torch.manual_seed(2)
    logits, target = torch.randn(2, 4, 7), torch.randint(1, 7, (2, 4))
    target[:, 2:] = 0
    other = logits.clone()
    other[:, 2:] = 100 * torch.randn(2, 2, 7)
    torch.testing.assert_close(
        label_smoothing_loss(logits, target, 0.1, 0), label_smoothing_loss(other, target, 0.1, 0)
    )


def test_label_smoothing_loss_gradient_flows():
    """La pérdida es diferenciable respecto a los logits."""
    logits = torch.randn(2, 3, 5, requires_grad=True)
    label_smoothing_loss(logits, torch.ones(2, 3, dtype=torch.long), 0.1, 0).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("logits", "target", "smoothing", "message"),
    [
        (torch.randn(2, 3, 5), torch.ones(2, 4, dtype=torch.long), 0.1, "logits"),
        (torch.randn(2, 3, 5), torch.ones(2, 3), 0.1, "índices enteros"),
        (torch.randn(2, 3, 5), torch.ones(2, 3, dtype=torch.long), 1.0, "smoothing"),
    ],
)
def test_label_smoothing_loss_errors(logits, target, smoothing, message):
    """Entradas mal formadas: error en español que nombra el problema."""
    with pytest.raises((ValueError, TypeError), match=message):
        label_smoothing_loss(logits, target, smoothing, 0)


# --- fit -----------------------------------------------------------------------------------


def _task(n=192, seed=0):
    es, en = grammar.build_vocabs()
    pairs = grammar.generate_pairs(n, seed=seed, max_len=6)
    return es, en, (lambda epoch: grammar.batches(pairs, es, en, 32, shuffle=True, seed=epoch, by_length=True))


def _model(es, en, dropout=0.1):
    torch.manual_seed(0)
    return Transformer(len(es), len(en), d_model=32, n_heads=4, n_layers=1, d_ff=64, dropout=dropout)


def test_fit_reduces_the_loss():
    """Unos pasos de entrenamiento bajan la pérdida de validación."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    valid = list(batches(0))[:2]
    model = _model(es, en)
    before = evaluate_loss(model, valid)
    history = fit(model, batches, TrainConfig(steps=30, warmup=10, lr_scale=2.0), valid, "cpu", progress=False)
    assert history.valid_loss[-1] < before - 0.5, (before, history.valid_loss)
    assert history.steps[-1] == 30 and history.tokens > 0 and history.tokens_per_second > 0
    assert len(history.lr) == len(history.train_loss)


def test_fit_follows_the_cooldown():
    """Con enfriamiento, la tasa que anota fit es la de learning_rate y acaba en 0."""
    es, en, batches = _task(32)
    config = TrainConfig(steps=20, warmup=5, cooldown=10, log_every=1)
    history = fit(_model(es, en), batches, config, device="cpu", progress=False)
    # Tras el paso n, el planificador ya da la tasa del paso n + 1.
    assert history.lr == pytest.approx([learning_rate(n + 1, 32, config) for n in history.steps])
    assert history.lr[-1] == 0.0 and history.lr[-2] > 0.0


def test_resume_gives_the_same_parameters_as_an_uninterrupted_run(tmp_path):
    """Entrenar 12 pasos de una vez = 7 pasos, punto de control, modelo nuevo y reanudar (dropout incluido)."""
    torch.set_num_threads(1)
    es, en, batches = _task()  # 6 lotes por época: la reanudación cae a mitad de la segunda
    config = {"warmup": 4, "seed": 3}
    straight = _model(es, en)
    fit(straight, batches, TrainConfig(steps=12, **config), device="cpu", progress=False)

    first = _model(es, en)
    fit(first, batches, TrainConfig(steps=7, checkpoint_dir=tmp_path, **config), device="cpu", progress=False)
    state = load_checkpoint(tmp_path / "ultimo.pt")
    assert state["step"] == 7 and state["epoch"] == 1 and state["consumed"] == 1
    torch.manual_seed(123)  # otro estado aleatorio: la reanudación debe restaurar el guardado
    resumed = Transformer(len(es), len(en), d_model=32, n_heads=4, n_layers=1, d_ff=64, dropout=0.1)
    history = fit(
        resumed, batches, TrainConfig(steps=12, checkpoint_dir=tmp_path, **config), device="cpu", progress=False
    )
    assert history.steps[-1] == 12 and history.steps[0] <= 7  # la historia incluye lo anterior
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} difiere entre el entrenamiento seguido y el reanudado"
    changed = _model(es, en).state_dict()
    assert any(not torch.equal(changed[k], v) for k, v in resumed.state_dict().items())


def test_checkpoint_every_n_steps(tmp_path):
    """Con checkpoint_every=3 hay punto de control a mitad del entrenamiento (paso 3) y al final."""
    torch.set_num_threads(1)
    es, en, batches = _task(64)
    seen = []

    def spy(epoch):
        seen.append(sorted(p.name for p in tmp_path.iterdir()) if tmp_path.exists() else [])
        return batches(epoch)

    fit(_model(es, en), spy, TrainConfig(steps=5, warmup=2, checkpoint_dir=tmp_path, checkpoint_every=3), None,
        "cpu", progress=False)  # fmt: skip
    assert load_checkpoint(tmp_path / "ultimo.pt")["step"] == 5
    assert ["ultimo.pt"] in seen[1:], "tras el paso 3 (época 2) debería existir ya un punto de control"


def test_time_budget_stops_training_early():
    """Con max_seconds=0 para en la primera anotación (paso log_every) en vez de llegar a steps."""
    es, en, batches = _task(64)
    history = fit(_model(es, en), batches, TrainConfig(steps=50, log_every=3, max_seconds=0.0), device="cpu",
                  progress=False)  # fmt: skip
    assert history.steps == [3]


def test_fit_rejects_bad_arguments():
    """Errores claros para configuraciones y lotes mal formados."""
    es, en, batches = _task(32)
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(steps=1, precision="fp8")
    with pytest.raises(TypeError, match="TrainConfig"):
        fit(_model(es, en), batches, {"steps": 1}, device="cpu")
    with pytest.raises(ValueError, match="ningún lote"):
        fit(_model(es, en), lambda epoch: [], TrainConfig(steps=1), device="cpu", progress=False)


def test_history_plot_has_spanish_labels():
    """La curva lleva título y ejes en español."""
    import matplotlib

    matplotlib.use("Agg")
    history = History(steps=[1, 2], train_loss=[3.0, 2.0], lr=[1e-4, 2e-4], valid_steps=[2], valid_loss=[2.5])
    ax = history.plot()
    assert ax.get_xlabel() == "paso" and "pérdida" in ax.get_ylabel() and ax.get_title()
    assert len(ax.get_lines()) == 2


def test_ddp_two_processes_keep_identical_replicas(tmp_path):
    """torchrun con 2 procesos (gloo, CPU): tras unos pasos, las dos réplicas son idénticas y han cambiado."""
    from tests.torchrun import torchrun

    torchrun("ddp_worker.py", str(tmp_path))
    first, second = (torch.load(tmp_path / f"replica{r}.pt") for r in (0, 1))
    assert first["world"] == second["world"] == 2
    assert first["int"] == second["int"] == 5637, "broadcast_int: todos reciben el entero del proceso 0"
    for name, value in first["state"].items():
        assert torch.equal(value, second["state"][name]), f"las réplicas difieren en {name}"
    assert any(not torch.equal(v, first["initial"][k]) for k, v in first["state"].items()), "no entrenó"
    assert all(math.isfinite(x) for x in first["loss"] + second["loss"])
