"""Los guiones de benchmarks/: el par de comparación (``torch.nn.Transformer``) y ``quality.py``,
``length_penalty.py`` y ``averaging.py`` de punta a punta con el perfil diminuto (segundos, sin red)."""

import subprocess
import sys
from pathlib import Path

import torch

from course_lib.masks import causal_mask, padding_mask

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from torch_baseline import TorchTransformer  # noqa: E402


def test_the_baseline_decodes_as_it_trains():
    """encode + decode con las máscaras de course_lib dan los mismos logits que forward (con relleno)."""
    torch.manual_seed(0)
    model = TorchTransformer(50, d_model=32, n_heads=4, n_layers=2, d_ff=64, dropout=0.0).eval()
    src = torch.randint(4, 50, (3, 7))
    src[0, 5:] = 0
    src[2, 3:] = 0
    tgt = torch.randint(4, 50, (3, 5))
    with torch.no_grad():
        expected = model(src, tgt)  # (B, T, V)
        src_mask = padding_mask(src, 0)
        memory = model.encode(src, src_mask)
        logits = model.decode(tgt, memory, src_mask, causal_mask(tgt.size(1)))
    assert logits.shape == (3, 5, 50)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    # la máscara causal cuenta: cambiar el último token no cambia las posiciones anteriores
    changed = tgt.clone()
    changed[:, -1] = 4 + (changed[:, -1] - 3) % 46
    with torch.no_grad():
        other = model.decode(changed, memory, src_mask, causal_mask(tgt.size(1)))
    torch.testing.assert_close(other[:, :-1], logits[:, :-1])
    assert not torch.allclose(other[:, -1], logits[:, -1])


def test_quality_trains_both_models_and_prints_them_side_by_side(tmp_path):
    """quality.py entrena course_lib y torch.nn.Transformer con los mismos pasos y escribe la razón de BLEU."""
    env = {"PATH": "/usr/bin:/bin", "CURSO_RAPIDO": "0", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "benchmarks/quality.py", "--perfil", "diminuto", "--salida", str(tmp_path / "m"),
         "--pasos", "6", "--haz", "2"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "torch.nn.Transformer: 6 pasos" in out
    assert out.count("BLEU = ") >= 3, out  # course_lib voraz y en haz, y la comparación voraz
    assert "razón de BLEU course_lib / torch.nn.Transformer: " in out
    assert (tmp_path / "m" / "traductor.pt").exists()


def _run(tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "CURSO_RAPIDO": "0", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=280)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_length_penalty_chooses_alpha_on_validation(tmp_path):
    """length_penalty.py evalúa cada α en validación y en prueba, y elige por la validación."""
    _run(tmp_path, "benchmarks/quality.py", "--perfil", "diminuto", "--salida", str(tmp_path / "m"), "--pasos", "6",
         "--haz", "2", "--sin-base")  # fmt: skip
    out = _run(tmp_path, "benchmarks/length_penalty.py", "--modelo", str(tmp_path / "m" / "traductor.pt"),
               "--perfil", "diminuto", "--haz", "2", "--alfas", "0", "2")  # fmt: skip
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0.00", "2.00"))]
    assert [row[0] for row in rows] == ["0.00", "2.00"], out
    best = max(rows, key=lambda row: float(row[1]))  # el primero de los mejores en validación
    assert f"Elegido en validación: α = {float(best[0]):g} → BLEU de prueba {best[2]}" in out


def test_averaging_follows_the_weights_and_evaluates_each_average(tmp_path):
    """averaging.py entrena con el gancho del optimizador y evalúa los pesos finales, cada EMA y la media."""
    out = _run(tmp_path, "benchmarks/averaging.py", "--perfil", "diminuto", "--pasos", "12", "--cada", "4",
               "--ultimos", "3", "--decaimientos", "0.5")  # fmt: skip
    assert "12 pasos en" in out and "2 pesos intermedios guardados" in out, out
    for name in ("pesos finales", "EMA 0.5", "media de los últimos 3"):
        assert f"  {name}" in out, out
    assert "Elegido en validación: " in out


def test_average_states_is_the_mean_of_floats_and_keeps_the_last_integers():
    """La media de puntos de control promedia los tensores reales y no los enteros (contadores)."""
    from averaging import average_states

    states = [
        {"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(1)},
        {"w": torch.tensor([3.0, 5.0]), "n": torch.tensor(7)},
    ]
    out = average_states(states)
    torch.testing.assert_close(out["w"], torch.tensor([2.0, 4.0]))
    assert out["n"].item() == 7
