"""La penalización por longitud de la búsqueda en haz: ``α`` elegido en la validación, no en la prueba.

Toma un traductor ya entrenado (p. ej. el de ``quality.py``) y decodifica en haz con varios
``α`` (:func:`course_lib.decode.beam_search`): primero los pares de **validación** que apartó
el entrenamiento (la misma partición que :func:`course_lib.translate.prepare_data`), después
tatoeba-test. El ``α`` que se elige es el mejor en validación; la prueba solo se mira para
informar, así que la cifra de prueba del elegido no está ajustada a la prueba. Ejemplo::

    python benchmarks/length_penalty.py --modelo /tmp/traductor-cpu/traductor.pt \\
        --datos ../shared/data/spa-eng.zip --prueba ../shared/data/tatoeba-test --alfas 0 0.6 1 1.5
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch

from course_lib import data as datasets
from course_lib.decode import DEFAULT_LENGTH_PENALTY
from course_lib.translate import PROFILES, Translator, evaluate_translator, load_test_pairs, prepare_data


def validation_pairs(
    direction: str, data_path: Path | None, test_path: Path | None, valid_size: int, seed: int = 0
) -> list[tuple[str, str]]:
    """Los pares de validación de :func:`course_lib.translate.prepare_data` (sin entrenar tokenizador), orientados."""
    pairs = datasets.load_spa_eng(data_path)
    test = datasets.load_tatoeba_test(test_path)
    _, valid = datasets.split_pairs(datasets.drop_test_overlap(pairs, test), valid_size, seed=seed)
    return valid if direction == "en-es" else [(s, e) for e, s in valid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modelo", type=Path, required=True, help="traductor.pt guardado")
    parser.add_argument("--datos", type=Path, default=None, help="spa-eng.zip o spa.txt (sin él: caché o descarga)")
    parser.add_argument("--prueba", type=Path, default=None, help="carpeta de tatoeba-test v2020-07-28")
    parser.add_argument("--perfil", choices=sorted(PROFILES), default="cpu", help="el perfil con que se entrenó")
    parser.add_argument("--haz", type=int, default=4, help="tamaño del haz")
    parser.add_argument(
        "--alfas", type=float, nargs="+", default=[0.0, 0.3, DEFAULT_LENGTH_PENALTY, 1.0, 1.5], help="valores de α"
    )
    parser.add_argument("--limite", type=int, default=None, help="evaluar solo las primeras N frases de la prueba")
    args = parser.parse_args()

    translator = Translator.load(args.modelo, device="cpu")
    direction = translator.direction
    print(f"{args.modelo} · {direction} · {platform.processor() or 'CPU'} · {torch.get_num_threads()} hilos")
    if translator.synthetic:  # el perfil diminuto: las frases sintéticas que apartó prepare_data, sin red
        valid = prepare_data(direction, "diminuto").valid
    else:
        valid = validation_pairs(direction, args.datos, args.prueba, PROFILES[args.perfil].valid_size)
    test = load_test_pairs(direction, translator.synthetic, args.prueba)[: args.limite]
    print(f"{len(valid)} pares de validación, {len(test)} de prueba, haz k={args.haz}\n")
    print(f"  {'α':>5s} {'BLEU val.':>10s} {'BLEU prueba':>12s} {'chrF prueba':>12s} {'s prueba':>9s}")
    rows = []
    for alpha in args.alfas:
        on_valid = evaluate_translator(translator, valid, beam_size=args.haz, length_penalty=alpha)
        on_test = evaluate_translator(translator, test, beam_size=args.haz, length_penalty=alpha)
        rows.append((alpha, on_valid.scores.bleu, on_test.scores.bleu))
        print(
            f"  {alpha:5.2f} {on_valid.scores.bleu:10.1f} {on_test.scores.bleu:12.1f} "
            f"{on_test.scores.chrf:12.1f} {on_test.seconds:9.0f}",
            flush=True,
        )
    best = max(rows, key=lambda row: row[1])
    print(f"\nElegido en validación: α = {best[0]:g} → BLEU de prueba {best[2]:.1f}")
    print(f"firma: {on_test.scores.bleu_signature}")


if __name__ == "__main__":
    main()
