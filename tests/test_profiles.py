"""Perfiles del traductor para cada máquina: cuál se elige por defecto, qué receta dan y que los de
GPU (``gpu`` y ``t4``) entrenan de verdad en CPU a tamaño diminuto, con su precisión mixta."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

from course_lib import train as train_module
from course_lib.translate import PROFILES, default_profile, prepare_data, train_translator, training_config

GiB = 2**30

# (tarjeta, compute capability, memoria) → perfil esperado
CARDS = [
    ("H100 80 GB", (9, 0), 80 * GiB, "gpu"),
    ("A100 40 GB", (8, 0), 40 * GiB, "gpu"),
    ("L4 24 GB (bf16, poca memoria)", (8, 9), 22 * GiB, "t4"),
    ("T4 de Colab", (7, 5), 15 * GiB, "t4"),
    ("V100 32 GB (sin bf16 nativo)", (7, 0), 32 * GiB, "t4"),
]


@pytest.fixture
def normal_mode(monkeypatch):
    monkeypatch.setenv("CURSO_RAPIDO", "0")


@pytest.mark.parametrize(("card", "capability", "memory", "expected"), CARDS, ids=[c[0] for c in CARDS])
def test_default_profile_follows_the_card(monkeypatch, normal_mode, card, capability, memory, expected):
    """Con CUDA, el perfil lo deciden la capacidad de cálculo y la memoria, no solo «hay GPU»."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: SimpleNamespace(total_memory=memory))
    assert default_profile(torch.device("cuda", 0)) == expected, card


def test_default_profile_without_cuda_and_in_fast_mode(monkeypatch, normal_mode):
    """CPU y Mac (mps): ``cpu``; sin dispositivo y sin CUDA, también; en modo rápido, siempre ``diminuto``."""
    assert default_profile("cpu") == default_profile(torch.device("mps")) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_profile() == "cpu"
    monkeypatch.setenv("CURSO_RAPIDO", "1")
    assert default_profile(torch.device("cuda", 0)) == "diminuto"


@pytest.mark.parametrize(
    ("name", "minutes", "precision"), [("gpu", 15.0, "auto"), ("t4", 20.0, "auto"), ("cpu", 10.0, "bf16")]
)
def test_real_profiles_train_by_time_with_a_cooldown(name, minutes, precision):
    """Los tres perfiles reales entrenan por tiempo (el de la GPU grande, 15 minutos; el de Colab, 20)."""
    profile = PROFILES[name]
    config = training_config(profile)
    assert (config.steps, config.budget_seconds) == (None, minutes * 60)
    assert config.cooldown_fraction == profile.cooldown > 0 and config.precision == precision
    assert profile.d_model % profile.n_heads == 0


def _tiny(name: str):
    """El perfil ``name`` a tamaño diminuto, con su receta (precisión, enfriamiento) y frases sintéticas."""
    return replace(
        PROFILES[name], d_model=32, n_heads=2, n_layers=1, d_ff=64, vocab_size=400, max_len=24, max_tokens=512,
        synthetic=True, max_pairs=300, valid_size=20, test_size=10, steps=8, warmup=4,
        checkpoint_every=4, eval_every=4,
    )  # fmt: skip


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["gpu", "t4"])
def test_gpu_profiles_train_on_cpu_at_tiny_size(tmp_path, name):
    """Los perfiles de GPU, encogidos, entrenan en CPU de principio a fin y guardan su traductor."""
    torch.set_num_threads(1)
    profile = _tiny(name)
    data = prepare_data("en-es", profile)
    translator, history = train_translator(data, profile, tmp_path, device="cpu", progress=False)
    assert history.steps[-1] == history.total_steps == 8
    assert (tmp_path / "traductor.pt").exists()
    assert all(torch.isfinite(v).all() for v in translator.model.state_dict().values())


def test_the_t4_fp16_path_with_a_gradient_scaler_resumes_exactly(tmp_path, monkeypatch):
    """La receta de una T4 (fp16 con GradScaler), ejecutada en CPU: el escalador actúa, su estado va en el
    punto de control y cortar y reanudar da los mismos pesos que entrenar de un tirón."""
    torch.set_num_threads(1)
    scalers = []

    def cpu_scaler(dtype):
        assert dtype == torch.float16, "la T4 no tiene bf16 nativo: fp16"
        scalers.append(torch.amp.GradScaler("cpu", init_scale=2.0**10))
        return scalers[-1]

    monkeypatch.setattr(train_module, "amp_dtype", lambda precision, device: torch.float16)
    monkeypatch.setattr(train_module, "grad_scaler", cpu_scaler)
    profile = _tiny("t4")
    data = prepare_data("en-es", profile)
    whole, history = train_translator(data, profile, tmp_path / "seguido", device="cpu", progress=False)
    assert history.steps[-1] == 8 and scalers[-1].get_scale() > 0
    saved = torch.load(tmp_path / "seguido" / "ultimo.pt", weights_only=False)
    assert saved.get("scaler"), "el estado del GradScaler debe ir en el punto de control"

    original, calls = train_module.train_step, []

    def cut_at_step_6(*args, **kwargs):  # la sesión se corta en el paso 6; el último punto de control es el 4
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_step", cut_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        train_translator(data, profile, tmp_path / "cortado", device="cpu", progress=False)
    monkeypatch.setattr(train_module, "train_step", original)
    resumed, again = train_translator(data, profile, tmp_path / "cortado", device="cpu", progress=False)
    assert again.steps[-1] == 8 and len(scalers) == 3
    expected = _weights(whole.model)
    for key, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0, msg=key)


def test_the_cpu_profile_trains_in_bf16_where_the_cpu_has_it(monkeypatch):
    """Con ``precision="bf16"`` en una CPU con bf16, la pasada hacia delante va en bf16 y la pérdida baja."""
    torch.set_num_threads(1)
    monkeypatch.setattr("course_lib.step.cpu_has_bf16", lambda: True)
    seen = []
    profile = replace(_tiny("cpu"), steps=30, eval_every=0, checkpoint_every=0)
    data = prepare_data("en-es", profile)
    original = train_module.train_step

    def spy(*args, **kwargs):
        seen.append(kwargs.get("dtype"))
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_step", spy)
    _, history = train_translator(data, profile, None, device="cpu", progress=False)
    assert set(seen) == {torch.bfloat16}
    assert history.train_loss[-1] < history.train_loss[0]
