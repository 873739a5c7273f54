"""La línea de órdenes del traductor: ``python -m course_lib.translate train | evaluate | translate``.

Solo lee los argumentos (en español) y llama a las funciones de :mod:`course_lib.translate`,
las mismas que usa el cuaderno 07::

    python -m course_lib.translate train --perfil cpu --sentido en-es --salida checkpoints/en-es
    python -m course_lib.translate evaluate --modelo checkpoints/en-es/traductor.pt --haz 4
    python -m course_lib.translate translate --modelo checkpoints/en-es/traductor.pt "Where is the station?"

Con varias GPU: ``torchrun --nproc_per_node=4 -m course_lib.translate train --perfil gpu …``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from course_lib.distributed import init_distributed
from course_lib.translate import (
    DIRECTIONS,
    MODEL_NAME,
    PROFILES,
    Translator,
    default_profile,
    evaluate_translator,
    get_profile,
    load_test_pairs,
    prepare_data,
    train_translator,
)


def _parser() -> argparse.ArgumentParser:
    """Las órdenes y opciones, con la ayuda en español (`--help`)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.translate",
        description="Entrena, evalúa y usa el traductor inglés↔español del curso «Atención y Transformers».",
    )
    parser._positionals.title = "órdenes"
    parser._optionals.title = "opciones"
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,translate}")

    train = sub.add_parser("train", help="entrena un traductor (reanuda si la carpeta ya tiene un punto de control)")
    train.add_argument("--perfil", choices=sorted(PROFILES), default=None, help="tamaño del modelo y receta")
    train.add_argument("--sentido", choices=DIRECTIONS, default="en-es", help="dirección de la traducción")
    train.add_argument("--salida", type=Path, required=True, help="carpeta de los puntos de control y del modelo")
    train.add_argument("--datos", type=Path, default=None, help="copia local de spa-eng.zip o spa.txt")
    train.add_argument("--prueba", type=Path, default=None, help="carpeta con tatoeba-test v2020-07-28")
    train.add_argument("--pasos", type=int, default=None, help="pasos de entrenamiento (por defecto, los del perfil)")
    train.add_argument("--semilla", type=int, default=0, help="semilla (por defecto 0)")

    evaluate = sub.add_parser("evaluate", help="BLEU y chrF en el conjunto de prueba oficial")
    evaluate.add_argument("--modelo", type=Path, required=True, help="traductor.pt guardado al entrenar")
    evaluate.add_argument("--prueba", type=Path, default=None, help="carpeta con tatoeba-test v2020-07-28")
    evaluate.add_argument("--haz", type=int, default=1, help="tamaño del haz (1 = búsqueda voraz)")
    evaluate.add_argument("--limite", type=int, default=None, help="evaluar solo las primeras N frases")

    translate = sub.add_parser("translate", help="traduce frases (argumentos o, si no hay, la entrada estándar)")
    translate.add_argument("--modelo", type=Path, required=True, help="traductor.pt guardado al entrenar")
    translate.add_argument("--haz", type=int, default=1, help="tamaño del haz (1 = búsqueda voraz)")
    translate.add_argument("frases", nargs="*", help="frases que traducir")
    for p in (train, evaluate, translate):
        p._positionals.title = "argumentos"
        p._optionals.title = "opciones"
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Punto de entrada de ``python -m course_lib.translate``."""
    args = _parser().parse_args(argv)
    if args.command == "train":
        rank, _, device = init_distributed()
        profile = get_profile(args.perfil or default_profile())
        data = prepare_data(args.sentido, profile, args.datos, args.prueba, seed=args.semilla)
        if rank == 0:
            print(
                f"Perfil {profile.name}, {args.sentido}: {len(data.train)} pares de entrenamiento, "
                f"{len(data.valid)} de validación ({data.dropped_overlap} quitados por estar en la prueba), "
                f"vocabulario {len(data.tokenizer)}."
            )
        translator, history = train_translator(data, profile, args.salida, device, args.pasos, rank == 0, args.semilla)
        if rank == 0:
            print(
                f"Entrenado en {history.seconds:.0f} s ({history.tokens_per_second:,.0f} tokens/s). "
                f"Modelo: {args.salida / MODEL_NAME}"
            )
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        return 0
    translator = Translator.load(args.modelo)
    if args.command == "evaluate":
        # Un traductor del perfil diminuto se evalúa con frases sintéticas, nunca con descargas.
        pairs = load_test_pairs(translator.direction, translator.synthetic, args.prueba)
        if args.limite:
            pairs = pairs[: args.limite]
        print(evaluate_translator(translator, pairs, beam_size=args.haz))
        return 0
    sentences = args.frases or [line.strip() for line in sys.stdin if line.strip()]
    for translation in translator.translate(sentences, beam_size=args.haz):
        print(translation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
