"""Promediar pesos: una media móvil exponencial (EMA) y la media de los últimos puntos de control.

Entrena un perfil exactamente como ``quality.py`` (mismos datos, tokenizador, receta y presupuesto)
y, sin tocar :func:`course_lib.train.fit`, sigue los pesos desde fuera con un gancho que se ejecuta
tras cada paso del optimizador (``register_optimizer_step_post_hook``):

- **EMA** con las tasas de ``--decaimientos`` (``torch.optim.swa_utils.AveragedModel``):
  ``θ_ema ← d · θ_ema + (1 − d) · θ`` en cada paso;
- **media de puntos de control**: la media uniforme de los pesos cada ``--cada`` pasos en los
  últimos ``--ultimos`` (el artículo promedió los 5 últimos puntos de control del modelo base).

Evalúa (búsqueda voraz) los pesos finales y cada promedio en la **validación** y en tatoeba-test;
se elige por la validación. Ejemplo::

    python benchmarks/averaging.py --perfil cpu --sentido en-es --datos ../shared/data/spa-eng.zip \\
        --prueba ../shared/data/tatoeba-test
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from collections import deque
from pathlib import Path

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from course_lib.train import fit
from course_lib.translate import (
    PROFILES,
    Translator,
    build_model,
    evaluate_translator,
    get_profile,
    prepare_data,
    training_config,
)
from course_lib.utils import seed_everything


def average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """La media uniforme de varios ``state_dict`` (los tensores enteros, como los contadores, del último)."""
    out = {}
    for name, last in states[-1].items():
        if last.is_floating_point():
            out[name] = torch.stack([state[name].float() for state in states]).mean(0).to(last.dtype)
        else:
            out[name] = last.clone()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--perfil", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--sentido", choices=("en-es", "es-en"), default="en-es")
    parser.add_argument("--datos", type=Path, default=None, help="spa-eng.zip o spa.txt (sin él: caché o descarga)")
    parser.add_argument("--prueba", type=Path, default=None, help="carpeta de tatoeba-test v2020-07-28")
    parser.add_argument("--pasos", type=int, default=None, help="pasos (por defecto, los del presupuesto del perfil)")
    parser.add_argument("--decaimientos", type=float, nargs="+", default=[0.999, 0.9995], help="tasas de la EMA")
    parser.add_argument("--cada", type=int, default=200, help="pasos entre dos pesos de la media")
    parser.add_argument("--ultimos", type=int, default=5, help="cuántos pesos promedia la media (con los finales)")
    args = parser.parse_args()
    profile = get_profile(args.perfil)
    print(f"{platform.processor() or 'CPU'} · {torch.get_num_threads()} hilos · torch {torch.__version__}")

    data = prepare_data(args.sentido, profile, args.datos, args.prueba)
    seed_everything(0)
    model = build_model(profile, data.tokenizer)
    emas = [AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(d), use_buffers=True) for d in args.decaimientos]
    snapshots: deque[dict[str, torch.Tensor]] = deque(maxlen=args.ultimos - 1)
    steps = 0

    def follow(optimizer, *_):
        nonlocal steps
        steps += 1
        for ema in emas:
            ema.update_parameters(model)
        if steps % args.cada == 0:
            snapshots.append(copy.deepcopy(model.state_dict()))

    hook = register_optimizer_step_post_hook(follow)
    try:
        config = training_config(profile, steps=args.pasos)
        history = fit(model, data.train_batches, config, data.valid_batches, "cpu")
    finally:
        hook.remove()
    print(f"{history.steps[-1]} pasos en {history.seconds:.0f} s; {len(snapshots)} pesos intermedios guardados")

    candidates = {"pesos finales": model.state_dict()}
    for decay, ema in zip(args.decaimientos, emas, strict=True):
        candidates[f"EMA {decay:g}"] = ema.module.state_dict()
    candidates[f"media de los últimos {len(snapshots) + 1}"] = average_states([*snapshots, model.state_dict()])

    print(f"\n  {'pesos':28s} {'BLEU val.':>10s} {'BLEU prueba':>12s} {'chrF prueba':>12s}")
    rows = []
    for name, state in candidates.items():
        evaluated = build_model(profile, data.tokenizer)
        evaluated.load_state_dict(state)
        translator = Translator(evaluated, data.tokenizer, data.direction, profile.max_len, data.synthetic)
        started = time.perf_counter()
        valid = evaluate_translator(translator, data.valid)
        test = evaluate_translator(translator, data.test)
        rows.append((name, valid.scores.bleu, test.scores.bleu))
        print(
            f"  {name:28s} {valid.scores.bleu:10.1f} {test.scores.bleu:12.1f} {test.scores.chrf:12.1f}"
            f"   ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    best = max(rows, key=lambda row: row[1])
    print(f"\nElegido en validación: {best[0]} → BLEU de prueba {best[2]:.1f} (voraz)")


if __name__ == "__main__":
    main()
