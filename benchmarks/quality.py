"""Calidad con un presupuesto fijo: entrena un perfil y mide BLEU y chrF en tatoeba-test v2020-07-28.

Usa exactamente el código del cuaderno 07 y de ``python -m course_lib.translate``. Ejemplos::

    python benchmarks/quality.py --perfil cpu --sentido en-es --datos ../shared/data/spa-eng.zip \\
        --prueba ../shared/data/tatoeba-test --salida /tmp/traductor-cpu

Imprime el tiempo de entrenamiento, los tokens por segundo, BLEU/chrF con la firma de
sacreBLEU (búsqueda voraz y en haz k=4) y la velocidad de decodificación.
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

from course_lib.translate import PROFILES, evaluate_translator, get_profile, prepare_data, train_translator


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
    for beam in (1, args.haz):
        result = evaluate_translator(translator, test, beam_size=beam)
        print(result)


if __name__ == "__main__":
    main()
