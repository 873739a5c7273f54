"""Calidad con un presupuesto fijo: entrena un perfil y mide BLEU y chrF en tatoeba-test v2020-07-28.

Usa exactamente el código del cuaderno 07 y de ``python -m course_lib.translate``. Ejemplos::

    python benchmarks/quality.py --perfil cpu --sentido en-es --datos ../shared/data/spa-eng.zip \\
        --prueba ../shared/data/tatoeba-test --salida /tmp/traductor-cpu

Imprime el tiempo de entrenamiento, los tokens por segundo, BLEU/chrF con la firma de
sacreBLEU (búsqueda voraz y en haz k=4) y la velocidad de decodificación.

En la misma ejecución entrena además, con el mismo presupuesto, los mismos datos, el mismo
tokenizador y la misma prueba, un ``torch.nn.Transformer`` del mismo tamaño con la receta
habitual (Adam con el calentamiento del artículo y sin enfriamiento; ``torch_baseline.py``) y
escribe las dos puntuaciones voraces lado a lado con su razón: así cada cifra viene con la de
un par medido en la misma máquina y a la misma hora. ``--sin-base`` lo omite.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch_baseline import TorchTransformer

from course_lib.train import fit
from course_lib.translate import (
    PROFILES,
    Translator,
    evaluate_translator,
    get_profile,
    prepare_data,
    train_translator,
    training_config,
)
from course_lib.utils import seed_everything


def train_baseline(data, profile, device: torch.device, steps: int | None, progress: bool = True):
    """``torch.nn.Transformer`` del tamaño de ``profile``, entrenado con la misma duración y la receta habitual.

    La receta: la de :func:`course_lib.translate.training_config` (Adam, calentamiento y factor del
    perfil, mismo presupuesto o mismos pasos, misma precisión) **sin enfriamiento**, como el artículo.
    """
    config = training_config(profile, steps=steps)
    config = replace(config, cooldown=0, cooldown_fraction=0.0, checkpoint_dir=None, checkpoint_every=0)
    seed_everything(0)
    tokenizer = data.tokenizer
    model = TorchTransformer(
        len(tokenizer), profile.d_model, profile.n_heads, profile.n_layers, profile.d_ff, profile.dropout,
        pad_id=tokenizer.pad_id, max_len=profile.max_len + 2,
    )  # fmt: skip
    history = fit(model, data.train_batches, config, data.valid_batches, device, progress)
    return Translator(model, tokenizer, data.direction, profile.max_len, data.synthetic), history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--perfil", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--sentido", choices=("en-es", "es-en"), default="en-es")
    parser.add_argument("--datos", type=Path, default=None, help="spa-eng.zip o spa.txt (sin él: caché o descarga)")
    parser.add_argument("--prueba", type=Path, default=None, help="carpeta de tatoeba-test v2020-07-28")
    parser.add_argument("--salida", type=Path, required=True, help="carpeta de los puntos de control")
    parser.add_argument("--pasos", type=int, default=None, help="pasos (por defecto, los del perfil)")
    parser.add_argument("--haz", type=int, default=4, help="tamaño del haz de la segunda evaluación")
    parser.add_argument("--limite", type=int, default=None, help="evaluar solo las primeras N frases de la prueba")
    parser.add_argument("--sin-base", action="store_true", help="no entrenar el torch.nn.Transformer de comparación")
    parser.add_argument(
        "--cambios", type=json.loads, default={}, metavar="JSON",
        help='cambia campos del perfil para probar variantes, p. ej. \'{"dropout": 0.1, "cooldown": 0}\'',
    )  # fmt: skip
    args = parser.parse_args()
    try:
        profile = replace(get_profile(args.perfil), **args.cambios)
    except TypeError as error:
        raise SystemExit(f"--cambios: {error}") from None

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "CPU"
    print(f"Commit {commit} · {device} ({name}) · {torch.get_num_threads()} hilos · torch {torch.__version__}")
    print(profile)

    started = time.perf_counter()
    data = prepare_data(args.sentido, profile, args.datos, args.prueba)
    print(
        f"Datos en {time.perf_counter() - started:.0f} s: {len(data.train)} pares de entrenamiento, "
        f"{len(data.valid)} de validación, {data.dropped_overlap} quitados por estar en la prueba, "
        f"vocabulario {len(data.tokenizer)}"
    )
    translator, history = train_translator(data, profile, args.salida, device, args.pasos)
    print(
        f"Entrenamiento ({args.perfil}, {args.sentido}): {history.steps[-1]} pasos en {history.seconds:.0f} s, "
        f"{history.tokens_per_second:,.0f} tokens de destino/s, pérdida de validación {history.valid_loss[-1]:.3f}"
    )
    test = data.test if args.limite is None else data.test[: args.limite]
    if not data.synthetic and len(test) != 10000 and args.limite is None:
        raise SystemExit("El conjunto de prueba no tiene 10 000 pares.")
    results = [evaluate_translator(translator, test, beam_size=beam) for beam in (1, args.haz)]
    for result in results:
        print(result)
    if args.sin_base:
        return
    baseline, base_history = train_baseline(data, profile, device, args.pasos)
    print(
        f"torch.nn.Transformer: {base_history.steps[-1]} pasos en {base_history.seconds:.0f} s, "
        f"{base_history.tokens_per_second:,.0f} tokens de destino/s, "
        f"pérdida de validación {base_history.valid_loss[-1]:.3f}"
    )
    base = evaluate_translator(baseline, test, beam_size=1)
    print(base)
    ours = results[0]
    print(f"\nBúsqueda voraz, {len(test)} frases, mismo presupuesto y mismos datos:")
    print(f"  {'modelo':22s} {'BLEU':>6s} {'chrF':>6s}")
    print(f"  {'course_lib':22s} {ours.scores.bleu:6.1f} {ours.scores.chrf:6.1f}")
    print(f"  {'torch.nn.Transformer':22s} {base.scores.bleu:6.1f} {base.scores.chrf:6.1f}")
    ratio = f"{ours.scores.bleu / base.scores.bleu:.2f}" if base.scores.bleu > 0 else "— (el par tiene BLEU 0)"
    print(f"  razón de BLEU course_lib / torch.nn.Transformer: {ratio}")


if __name__ == "__main__":
    main()
