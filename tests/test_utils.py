"""Pruebas de course_lib.utils."""

from __future__ import annotations

import random
import sys
import types

import numpy as np
import pytest
import torch

from course_lib import utils

# --- fast_mode ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("0", False), ("", False), ("sí", True), ("true", True), (" TRUE ", True), ("off", False)],
)
def test_fast_mode_values(monkeypatch, value, expected):
    """CURSO_RAPIDO acepta 1/sí/true (activo) y 0/vacío/off (inactivo), sin distinguir mayúsculas."""
    monkeypatch.setenv("CURSO_RAPIDO", value)
    assert utils.fast_mode() is expected


def test_fast_mode_unset_is_false(monkeypatch):
    """Sin la variable, el modo rápido está desactivado."""
    monkeypatch.delenv("CURSO_RAPIDO", raising=False)
    assert utils.fast_mode() is False


@pytest.mark.parametrize("value", ["2", "quizás"])
def test_fast_mode_invalid_value(monkeypatch, value):
    """Un valor desconocido es un error que nombra la variable."""
    monkeypatch.setenv("CURSO_RAPIDO", value)
    with pytest.raises(ValueError) as info:
        utils.fast_mode()
    message = str(info.value)
    assert "CURSO_RAPIDO" in message and repr(value) in message, "el mensaje debe nombrar la variable y el valor"


# --- in_colab ----------------------------------------------------------------------------------------


def test_in_colab_false_locally(monkeypatch):
    """Fuera de Colab (sin el módulo google.colab) devuelve False."""
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert utils.in_colab() is False


def test_in_colab_true_with_fake_module(monkeypatch):
    """Con un módulo «google.colab» cargado devuelve True."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert utils.in_colab() is True


# --- seed_everything ---------------------------------------------------------------------------------


def test_seed_everything_makes_random_reproducible():
    """La misma semilla da los mismos números en torch, NumPy y random; otra semilla, otros."""

    def draw():
        return torch.randn(5), np.random.rand(3), random.random()

    utils.seed_everything(123)
    first = draw()
    utils.seed_everything(123)
    second = draw()
    utils.seed_everything(124)
    other = draw()
    assert torch.equal(first[0], second[0]), "torch.randn debe repetirse con la misma semilla"
    assert np.array_equal(first[1], second[1]), "np.random debe repetirse con la misma semilla"
    assert first[2] == second[2], "random debe repetirse con la misma semilla"
    assert not torch.equal(first[0], other[0]), "otra semilla debe dar otros números"


@pytest.mark.parametrize("seed", [2**40, -3])
def test_seed_everything_accepts_large_and_negative_seeds(seed):
    """Semillas fuera del rango de NumPy (grandes o negativas) no fallan y se repiten."""
    utils.seed_everything(seed)
    a, b = torch.randn(3), np.random.rand(2)
    utils.seed_everything(seed)
    assert torch.equal(a, torch.randn(3)) and np.array_equal(b, np.random.rand(2))


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_seed_everything_rejects_non_int(seed):
    """Una semilla que no es un entero (ni un bool) da TypeError que nombra `seed`."""
    with pytest.raises(TypeError) as info:
        utils.seed_everything(seed)
    assert "`seed`" in str(info.value)


# --- get_device / setup --------------------------------------------------------------------------------


def test_get_device_default_is_cpu_here():
    """Sin GPU ni MPS, el dispositivo elegido es la CPU."""
    if torch.cuda.is_available() or utils._mps_available():
        pytest.skip("esta máquina tiene acelerador")
    assert utils.get_device() == torch.device("cpu")


def test_get_device_prefer_cpu():
    """Pedir la CPU siempre funciona."""
    assert utils.get_device("cpu") == torch.device("cpu")


def test_get_device_unknown_raises_value_error():
    """Un dispositivo desconocido: ValueError que nombra `prefer` y el valor."""
    with pytest.raises(ValueError) as info:
        utils.get_device("tpu")
    message = str(info.value)
    assert "`prefer`" in message and "'tpu'" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="hay CUDA en esta máquina")
def test_get_device_cuda_unavailable_raises_runtime_error():
    """Pedir CUDA sin GPU: RuntimeError en español en lugar de caer a la CPU en silencio."""
    with pytest.raises(RuntimeError) as info:
        utils.get_device("cuda")
    assert "'cuda'" in str(info.value) and "disponible" in str(info.value)


def test_setup_prints_device_and_returns_it(monkeypatch, capsys):
    """setup() imprime una línea en español con el dispositivo y devuelve un torch.device."""
    monkeypatch.delenv("CURSO_RAPIDO", raising=False)
    device = utils.setup(seed=7)
    out = capsys.readouterr().out
    assert isinstance(device, torch.device)
    assert "dispositivo" in out and str(device) in out, "la línea debe decir el dispositivo"
    assert "semilla 7" in out and "modo normal" in out


def test_setup_seeds_and_can_be_quiet(monkeypatch, capsys):
    """setup(verbose=False) no imprime nada, pero sí fija la semilla."""
    monkeypatch.setenv("CURSO_RAPIDO", "1")
    utils.setup(seed=5, verbose=False)
    a = torch.randn(4)
    assert capsys.readouterr().out == ""
    torch.manual_seed(5)
    assert torch.equal(a, torch.randn(4)), "setup() debe fijar la semilla de torch"
