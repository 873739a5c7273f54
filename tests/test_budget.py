"""Pruebas del entrenamiento por tiempo: calibración, total de pasos, tasa y reanudación.

Todas usan un reloj falso que avanza una cantidad fija en cada paso (en cada pasada hacia
delante del modelo): nada depende de la velocidad de la máquina.
"""

import math
from dataclasses import replace

import pytest
import torch

from course_lib import Transformer, grammar
from course_lib.budget import BUDGET_MARGIN, CALIBRATION_FRACTION, CALIBRATION_STEPS, Calibration
from course_lib.schedule import learning_rate, noam_lr, steps_for_budget
from course_lib.train import TrainConfig, fit, load_checkpoint
from course_lib.translate import PROFILES, get_profile, training_config


class FakeClock:
    """Reloj de pruebas: cada pasada hacia delante del modelo avanza ``cost(n)`` segundos (``n`` desde 1)."""

    def __init__(self, cost):
        self.now, self.count, self.cost = 0.0, 0, cost

    def __call__(self) -> float:
        return self.now

    def attach(self, model):
        """``model``, con un gancho que hace avanzar este reloj en cada ``forward``."""

        def tick(module, args):
            self.count += 1
            self.now += self.cost(self.count)

        model.register_forward_pre_hook(tick)
        return model


def _task(n=192, seed=0):
    es, en = grammar.build_vocabs()
    pairs = grammar.generate_pairs(n, seed=seed, max_len=6)
    return es, en, (lambda epoch: grammar.batches(pairs, es, en, 32, shuffle=True, seed=epoch, by_length=True))


def _model(es, en, seed=0):
    torch.manual_seed(seed)
    return Transformer(len(es), len(en), d_model=32, n_heads=4, n_layers=1, d_ff=64, dropout=0.1)


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


RECIPE = {"warmup": 5, "lr_scale": 2.0, "seed": 3}


# --- steps_for_budget y la calibración -----------------------------------------------------------


def test_steps_for_budget_from_a_measured_throughput():
    """Los pasos dados más los que caben en lo que queda, con el margen descontado."""
    assert steps_for_budget(100.0, elapsed=10.0, step=20, seconds_per_step=0.5) == 200
    assert steps_for_budget(100.0, elapsed=10.0, step=20, seconds_per_step=0.5, margin=0.1) == 20 + 160
    assert steps_for_budget(100.0, elapsed=10.0, step=20, seconds_per_step=0.3) == 20 + 300  # ⌊90 / 0,3⌋
    assert steps_for_budget(10.0, elapsed=12.0, step=20, seconds_per_step=0.5) == 20  # ya no queda tiempo


def test_steps_for_budget_keeps_the_cooldown_after_the_steps_already_taken():
    """Si el presupuesto se acabó calibrando, el total crece lo justo para enfriar después de lo ya dado."""
    total = steps_for_budget(10.0, elapsed=10.0, step=21, seconds_per_step=0.5, cooldown_fraction=0.3)
    assert total == 30 and total - round(0.3 * total) == 21
    assert total - 1 - round(0.3 * (total - 1)) < 21  # con uno menos, el enfriamiento pisaría la calibración


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"budget_seconds": 0.0}, "budget_seconds"),
        ({"budget_seconds": math.nan}, "budget_seconds"),
        ({"seconds_per_step": -1.0}, "seconds_per_step"),
        ({"step": -1}, "step"),
        ({"cooldown_fraction": 1.0}, "cooldown_fraction"),
        ({"margin": -0.1}, "margin"),
    ],
)
def test_steps_for_budget_rejects_bad_arguments(kwargs, name):
    """Error en español que nombra el argumento."""
    arguments = {"budget_seconds": 10.0, "elapsed": 0.0, "step": 1, "seconds_per_step": 0.1, **kwargs}
    with pytest.raises(ValueError, match=f"`{name}`"):
        steps_for_budget(**arguments)


def test_calibration_skips_the_first_step_and_waits_for_enough_steps_and_time():
    """La ventana se abre tras el primer paso y se cierra con CALIBRATION_STEPS pasos y una fracción del presupuesto."""
    budget = 1000.0  # la fracción del presupuesto (50 s) pesa más que los 20 pasos
    calibration = Calibration(budget)
    assert calibration.seconds_per_step(1, 100.0) is None  # el primer paso (lento) solo abre la ventana
    needed = math.ceil(CALIBRATION_FRACTION * budget)  # pasos de 1 s
    assert needed > CALIBRATION_STEPS
    for step in range(2, 1 + needed):
        assert calibration.seconds_per_step(step, 100.0 + step - 1) is None, step
    assert calibration.seconds_per_step(1 + needed, 100.0 + needed) == 1.0  # no cuenta los 100 s del primero


def test_learning_rate_without_a_total_is_the_warmup_only():
    """Sin total (calibrando) no hay enfriamiento; con él, los pasos anteriores al enfriamiento tienen la misma tasa."""
    calibrating = TrainConfig(budget_seconds=60.0, warmup=10, lr_scale=2.0, cooldown_fraction=0.3)
    planned = replace(calibrating, steps=100)
    assert calibrating.cooldown_steps == 0 and planned.cooldown_steps == 30
    for step in range(1, 72):  # en el paso 71 el factor del enfriamiento aún vale 30/30
        assert learning_rate(step, 64, calibrating) == learning_rate(step, 64, planned) == 2.0 * noam_lr(step, 64, 10)
    assert learning_rate(72, 64, planned) < learning_rate(72, 64, calibrating)
    assert learning_rate(100, 64, planned) > 0.0 and learning_rate(101, 64, planned) == 0.0


# --- fit por tiempo -----------------------------------------------------------------------------


def _expected_total(budget, step_seconds, first_seconds=None):
    """El total que debe fijar la calibración con pasos de duración constante (el primero puede ser distinto)."""
    first = step_seconds if first_seconds is None else first_seconds
    end = 1 + CALIBRATION_STEPS  # paso en que cierra la ventana (aquí la fracción del presupuesto no manda)
    assert CALIBRATION_STEPS * step_seconds >= CALIBRATION_FRACTION * budget
    elapsed = first + CALIBRATION_STEPS * step_seconds
    return end + math.floor((budget * (1 - BUDGET_MARGIN) - elapsed) / step_seconds)


def test_fit_by_budget_calibrates_the_total_and_ends_with_the_rate_at_zero(tmp_path):
    """0,5 s por paso y 20 s: el total sale del ritmo medido; calentamiento y enfriamiento caben; la tasa acaba en 0."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    clock = FakeClock(lambda n: 0.5)
    config = TrainConfig(budget_seconds=20.0, cooldown_fraction=0.3, log_every=1, checkpoint_dir=tmp_path, **RECIPE)
    history = fit(clock.attach(_model(es, en)), batches, config, device="cpu", progress=False, clock=clock)
    total = _expected_total(20.0, 0.5)
    assert total == 38  # 21 pasos de calibración (10,5 s) + ⌊(19,4 − 10,5) / 0,5⌋
    assert history.total_steps == total and history.steps[-1] == total
    assert clock.now == total * 0.5 <= 20.0  # dentro del presupuesto
    planned = replace(config, steps=total)
    assert RECIPE["warmup"] < total - planned.cooldown_steps  # el calentamiento acaba antes de enfriar
    assert history.lr == pytest.approx([learning_rate(n + 1, 32, planned) for n in history.steps])
    assert history.lr[-1] == 0.0 and history.lr[-2] > 0.0  # la tasa llega a 0 justo tras el último paso
    state = load_checkpoint(tmp_path / "ultimo.pt")
    assert state["history"]["total_steps"] == total and state["config"]["steps"] == total


def test_calibration_does_not_count_the_first_step():
    """Un primer paso de 5 s (la puesta en marcha) no cambia el ritmo medido, solo el tiempo gastado."""
    es, en, batches = _task()
    clock = FakeClock(lambda n: 5.0 if n == 1 else 0.5)
    config = TrainConfig(budget_seconds=30.0, cooldown_fraction=0.3, **RECIPE)
    history = fit(clock.attach(_model(es, en)), batches, config, device="cpu", progress=False, clock=clock)
    assert history.total_steps == _expected_total(30.0, 0.5, first_seconds=5.0) == 21 + 28


def test_fit_by_budget_equals_fit_with_the_recorded_steps():
    """Entrenar por tiempo da los mismos pesos que entrenar con steps = el total que calibró (CPU)."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    clock = FakeClock(lambda n: 0.5)
    by_time = _model(es, en)
    config = TrainConfig(budget_seconds=20.0, cooldown_fraction=0.3, **RECIPE)
    history = fit(clock.attach(by_time), batches, config, device="cpu", progress=False, clock=clock)
    by_steps = _model(es, en)
    fit(by_steps, batches, TrainConfig(steps=history.total_steps, cooldown_fraction=0.3, **RECIPE), device="cpu",
        progress=False)  # fmt: skip
    assert _same_weights(by_time, by_steps)
    shorter = _model(es, en)
    fit(shorter, batches, TrainConfig(steps=history.total_steps - 1, cooldown_fraction=0.3, **RECIPE), device="cpu",
        progress=False)  # fmt: skip
    assert not _same_weights(by_time, shorter)  # la comparación puede fallar


def test_resume_continues_with_the_recorded_total(tmp_path):
    """Cortado tras calibrar, se reanuda con el total guardado (sin volver a medir) y acaba como sin corte."""
    torch.set_num_threads(1)
    es, en, batches = _task()  # 6 lotes por época
    config = TrainConfig(budget_seconds=20.0, cooldown_fraction=0.3, checkpoint_dir=tmp_path, **RECIPE)
    clock = FakeClock(lambda n: 0.5)
    cut = replace(config, max_seconds=15.0)  # el tope corta en la anotación del paso 30 (15 s)
    first = fit(clock.attach(_model(es, en)), batches, cut, device="cpu", progress=False, clock=clock)
    state = load_checkpoint(tmp_path / "ultimo.pt")
    assert state["step"] == first.steps[-1] == 30 < first.total_steps == 38

    slower = FakeClock(lambda n: 5.0)  # si volviera a calibrar, saldría otro total
    resumed = _model(es, en, seed=123)
    history = fit(slower.attach(resumed), batches, config, device="cpu", progress=False, clock=slower)
    assert history.total_steps == 38 and history.steps[-1] == 38
    assert history.lr[-1] == 0.0
    straight = _model(es, en)
    fit(straight, batches, TrainConfig(steps=38, cooldown_fraction=0.3, **RECIPE), device="cpu", progress=False)
    assert _same_weights(resumed, straight)


def test_resume_during_the_calibration_calibrates_again(tmp_path):
    """Cortado antes de fijar el total, la reanudación calibra de nuevo y sigue dando los pesos de steps = total."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    config = TrainConfig(budget_seconds=30.0, cooldown_fraction=0.3, checkpoint_dir=tmp_path, **RECIPE)
    clock = FakeClock(lambda n: 0.5)
    fit(clock.attach(_model(es, en)), batches, replace(config, max_seconds=4.0), device="cpu", progress=False,
        clock=clock)  # fmt: skip
    state = load_checkpoint(tmp_path / "ultimo.pt")
    assert state["step"] == 10 and state["history"]["total_steps"] is None

    again = FakeClock(lambda n: 0.5)
    resumed = _model(es, en, seed=123)
    history = fit(again.attach(resumed), batches, config, device="cpu", progress=False, clock=again)
    # Calibra del paso 11 al 31, con los 5 s de antes: 31 + ⌊(29,1 − 15,5) / 0,5⌋.
    assert history.total_steps == 31 + 27
    straight = _model(es, en)
    fit(straight, batches, TrainConfig(steps=history.total_steps, cooldown_fraction=0.3, **RECIPE), device="cpu",
        progress=False)  # fmt: skip
    assert _same_weights(resumed, straight)


def test_explicit_steps_ignore_the_budget():
    """Con steps, el presupuesto no cuenta: ni calibra ni cambia el resultado."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    clock = FakeClock(lambda n: 0.5)
    with_budget = _model(es, en)
    config = TrainConfig(steps=12, budget_seconds=1.0, cooldown_fraction=0.3, **RECIPE)  # 1 s daría 1 paso
    history = fit(clock.attach(with_budget), batches, config, device="cpu", progress=False, clock=clock)
    assert history.total_steps == 12 and history.steps[-1] == 12
    without = _model(es, en)
    fit(without, batches, TrainConfig(steps=12, cooldown_fraction=0.3, **RECIPE), device="cpu", progress=False)
    assert _same_weights(with_budget, without)


def test_broadcast_int_without_processes_is_the_value(monkeypatch):
    """Sin varios procesos, broadcast_int devuelve el mismo entero sin tocar torch.distributed."""
    from course_lib import distributed

    monkeypatch.setattr(distributed.dist, "broadcast", lambda *a, **k: pytest.fail("no debía emitir"))
    assert distributed.broadcast_int(5637, torch.device("cpu")) == 5637


# --- Recetas mal formadas -----------------------------------------------------------------------


@pytest.mark.parametrize("budget", [0, -5.0, math.nan, math.inf, True, "600"])
def test_bad_budget_seconds_is_rejected_in_spanish(budget):
    """Un presupuesto que no es un número de segundos > 0: error que nombra budget_seconds."""
    with pytest.raises(ValueError, match="`budget_seconds` debe ser un número de segundos > 0"):
        TrainConfig(budget_seconds=budget)


def test_train_config_needs_a_length_and_a_coherent_cooldown():
    """Sin steps ni presupuesto, enfriamiento en pasos sin total o las dos formas a la vez: errores claros."""
    with pytest.raises(ValueError, match="`steps`.*`budget_seconds`"):
        TrainConfig()
    with pytest.raises(ValueError, match="cooldown_fraction"):
        TrainConfig(budget_seconds=60.0, cooldown=10)
    with pytest.raises(ValueError, match="no los dos"):
        TrainConfig(steps=100, cooldown=10, cooldown_fraction=0.1)
    for fraction in (-0.1, 1.0, "0.3"):
        with pytest.raises(ValueError, match="`cooldown_fraction`"):
            TrainConfig(steps=100, cooldown_fraction=fraction)
    with pytest.raises(ValueError, match="`max_seconds`"):
        TrainConfig(steps=100, max_seconds=-1.0)
    assert TrainConfig(steps=100, cooldown_fraction=0.25).cooldown_steps == 25


# --- Los perfiles del traductor -----------------------------------------------------------------


def test_cpu_profile_trains_for_ten_minutes_and_the_tiny_one_by_steps():
    """cpu: 10 minutos, con el enfriamiento como fracción; diminuto (modo rápido): pasos fijos, unos segundos."""
    cpu = get_profile("cpu")
    assert cpu.steps is None and cpu.minutes == 10.0
    config = training_config(cpu)
    assert config.steps is None and config.budget_seconds == 600.0
    assert (config.warmup, config.lr_scale, config.cooldown, config.cooldown_fraction) == (400, 2.0, 0, 0.3)
    assert config.max_seconds is None
    tiny = training_config("diminuto")
    assert tiny.steps == PROFILES["diminuto"].steps == 40 and tiny.budget_seconds is None


def test_training_config_explicit_steps_or_minutes():
    """steps manda sobre el presupuesto del perfil (reproducible); minutes cambia el presupuesto o lo pone."""
    by_steps = training_config("cpu", steps=500)
    assert (by_steps.steps, by_steps.budget_seconds, by_steps.cooldown) == (500, None, 150)
    shorter = training_config("cpu", minutes=2)
    assert (shorter.steps, shorter.budget_seconds, shorter.cooldown_fraction) == (None, 120.0, 0.3)
    tiny = training_config("diminuto", minutes=0.5)
    assert (tiny.steps, tiny.budget_seconds) == (None, 30.0)
    assert training_config(replace(get_profile("cpu"), steps=1700)).steps == 1700  # steps en el perfil también manda


@pytest.mark.parametrize("minutes", [0, -1.0, math.nan, math.inf, True, "10"])
def test_bad_minutes_are_rejected_in_spanish(minutes):
    """Minutos que no son un número > 0: error que nombra minutes."""
    with pytest.raises(ValueError, match="`minutes` debe ser un número de minutos > 0"):
        training_config("cpu", minutes=minutes)


def test_steps_and_minutes_together_or_neither_are_rejected():
    """No se pueden pedir pasos y minutos a la vez, ni un perfil sin ninguno de los dos."""
    with pytest.raises(ValueError, match="no los dos"):
        training_config("cpu", steps=100, minutes=5)
    with pytest.raises(ValueError, match="`steps`.*`minutes`"):
        replace(get_profile("cpu"), minutes=None)
    with pytest.raises(ValueError, match="`steps`"):
        training_config("cpu", steps=0)


def test_a_calibration_during_a_busy_moment_is_corrected_by_the_second_measure():
    """Calibrar con la máquina ocupada (1 s por paso) y seguir a 0,1 s: la segunda medida fija otro total,
    que llena el presupuesto, y el resultado es el mismo que entrenar con steps = ese total (CPU)."""
    torch.set_num_threads(1)
    es, en, batches = _task()
    clock = FakeClock(lambda n: 1.0 if n <= 22 else 0.1)
    by_time = _model(es, en)
    config = TrainConfig(budget_seconds=100.0, cooldown_fraction=0.3, **RECIPE)
    history = fit(clock.attach(by_time), batches, config, device="cpu", progress=False, clock=clock)
    first_total = _expected_total(100.0, 1.0)  # lo que habría fijado la primera medida sola
    assert first_total == 97
    assert history.total_steps > 5 * first_total, history.total_steps
    assert clock.now <= 100.0 and clock.now > 0.8 * 100.0  # dentro del presupuesto, y aprovechándolo
    assert history.lr[-1] == 0.0
    by_steps = _model(es, en)
    fit(by_steps, batches, TrainConfig(steps=history.total_steps, cooldown_fraction=0.3, **RECIPE), device="cpu",
        progress=False)  # fmt: skip
    assert _same_weights(by_time, by_steps)


def test_a_steady_pace_keeps_the_first_total():
    """Con el mismo ritmo en las dos medidas, el total no cambia (la tolerancia absorbe el redondeo)."""
    es, en, batches = _task()
    clock = FakeClock(lambda n: 0.5)
    config = TrainConfig(budget_seconds=60.0, cooldown_fraction=0.3, **RECIPE)
    history = fit(clock.attach(_model(es, en)), batches, config, device="cpu", progress=False, clock=clock)
    assert history.total_steps == _expected_total(60.0, 0.5)
