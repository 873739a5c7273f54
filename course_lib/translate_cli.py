"""La línea de órdenes del traductor: ``python -m course_lib.translate train | evaluate | translate``.

Solo lee los argumentos (en español) y llama a las funciones de :mod:`course_lib.translate`,
las mismas que usa el cuaderno 07::

    python -m course_lib.translate train --perfil cpu --sentido en-es --salida checkpoints/en-es
    python -m course_lib.translate evaluate --modelo checkpoints/en-es/traductor.pt --haz 4
    python -m course_lib.translate translate --modelo checkpoints/en-es/traductor.pt "Where is the station?"

Con varias GPU: ``torchrun --nproc_per_node=4 -m course_lib.translate train --perfil gpu …``.

Un error de uso (un modelo que no existe o está dañado, unos datos que no están, una carpeta de
salida de otro entrenamiento) se explica en una sola línea, ``error: …``, en la salida de
errores, y la orden termina con el código 2, sin la traza de Python: los detalles están en
las excepciones de la biblioteca (:class:`course_lib.translator.TranslatorError` y
:class:`course_lib.data.DataError`), que en un cuaderno se ven completas.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from course_lib.cli import SpanishArgumentParser, positive
from course_lib.data import DataError
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
from course_lib.translator import TranslatorError

USAGE_ERROR = 2  # el mismo código que usa `argparse` para una opción mal escrita


# Tipos de ``argparse``: --haz, --pasos y --limite, enteros; --minutos, un número (2.5 vale).
_positive = positive(int, "un entero")
_positive_minutes = positive(float, "un número de minutos")


def _parser() -> argparse.ArgumentParser:
    """Las órdenes y opciones, con la ayuda en español (`--help`)."""
    parser = SpanishArgumentParser(
        prog="python -m course_lib.translate",
        description="Entrena, evalúa y usa el traductor inglés↔español del curso «Atención y Transformers».",
    )
    parser._positionals.title = "órdenes"
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{train,evaluate,translate}", parser_class=SpanishArgumentParser
    )

    train = sub.add_parser(
        "train",
        help="entrena un traductor (reanuda si la carpeta ya tiene un punto de control del mismo sentido y perfil)",
    )
    train.add_argument("--perfil", choices=sorted(PROFILES), default=None, help="tamaño del modelo y receta")
    train.add_argument("--sentido", choices=DIRECTIONS, default="en-es", help="dirección de la traducción")
    train.add_argument("--salida", type=Path, required=True, help="carpeta de los puntos de control y del modelo")
    train.add_argument("--datos", type=Path, default=None, help="copia local de spa-eng.zip o spa.txt")
    train.add_argument("--prueba", type=Path, default=None, help="carpeta con tatoeba-test v2020-07-28")
    budget = train.add_mutually_exclusive_group()
    budget.add_argument(
        "--pasos",
        type=_positive,
        default=None,
        help="pasos de entrenamiento fijos: reproduce una ejecución exacta y no mira el reloj",
    )
    budget.add_argument(
        "--minutos",
        type=_positive_minutes,
        default=None,
        help="presupuesto de entrenamiento en minutos (por defecto, el del perfil): los pasos se calculan "
        "midiendo la velocidad de esta máquina al empezar",
    )
    train.add_argument("--semilla", type=int, default=0, help="semilla (por defecto 0)")

    evaluate = sub.add_parser("evaluate", help="BLEU y chrF en el conjunto de prueba oficial")
    evaluate.add_argument("--modelo", type=Path, required=True, help="traductor.pt guardado al entrenar")
    evaluate.add_argument("--prueba", type=Path, default=None, help="carpeta con tatoeba-test v2020-07-28")
    evaluate.add_argument("--haz", type=_positive, default=1, help="tamaño del haz (1 = búsqueda voraz)")
    evaluate.add_argument("--limite", type=_positive, default=None, help="evaluar solo las primeras N frases")

    translate = sub.add_parser("translate", help="traduce frases (argumentos o, si no hay, la entrada estándar)")
    translate.add_argument("--modelo", type=Path, required=True, help="traductor.pt guardado al entrenar")
    translate.add_argument("--haz", type=_positive, default=1, help="tamaño del haz (1 = búsqueda voraz)")
    translate.add_argument(
        "frases", nargs="*", help="frases que traducir; sin ellas, una por línea de la entrada estándar"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Punto de entrada de ``python -m course_lib.translate``.

    Returns:
        0 si todo fue bien; 2 (:data:`USAGE_ERROR`) si la biblioteca dio un error de uso, que
        se escribe en una línea, ``error: …``, en la salida de errores.
    """
    args = _parser().parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _use(args)
    except (TranslatorError, DataError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return USAGE_ERROR


def _one_line(message: object) -> str:
    """El texto de un error o de un aviso en una sola línea."""
    return " ".join(str(message).split())


def _show_warning(message: Warning | str, *_: object, **__: object) -> None:
    """Muestra un aviso como ``aviso: …`` en una línea, sin la ruta ni la línea de código que lo dio."""
    print(f"aviso: {_one_line(message)}", file=sys.stderr)


def _use(args: argparse.Namespace) -> int:
    """``evaluate`` y ``translate`` con un traductor guardado."""
    translator = Translator.load(args.modelo)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning  # p. ej. el de una frase demasiado larga
        if args.command == "evaluate":
            # Un traductor del perfil diminuto se evalúa con frases sintéticas, nunca con descargas.
            pairs = load_test_pairs(translator.direction, translator.synthetic, args.prueba)
            if args.limite:
                pairs = pairs[: args.limite]
            print(evaluate_translator(translator, pairs, beam_size=args.haz))
            return 0
        # Una línea vacía de la entrada da una línea vacía de la salida: siguen alineadas.
        sentences = args.frases or [line.rstrip("\r\n") for line in sys.stdin]
        for translation in translator.translate(sentences, beam_size=args.haz):
            print(translation)
    return 0


def _train(args: argparse.Namespace) -> int:
    """``train``: prepara los datos, entrena (o reanuda) y guarda el traductor."""
    rank, _, device = init_distributed()
    try:
        profile = get_profile(args.perfil or default_profile(device))
        data = prepare_data(args.sentido, profile, args.datos, args.prueba, seed=args.semilla)
        if rank == 0:
            print(
                f"Perfil {profile.name}, {args.sentido}: {len(data.train)} pares de entrenamiento, "
                f"{len(data.valid)} de validación ({data.dropped_overlap} quitados por estar en la prueba), "
                f"vocabulario {len(data.tokenizer)}."
            )
        translator, history = train_translator(
            data, profile, args.salida, device, args.pasos, rank == 0, args.semilla, minutes=args.minutos
        )
        if rank == 0:
            print(
                f"Entrenado en {history.seconds:.0f} s, {history.total_steps} pasos "
                f"({history.tokens_per_second:,.0f} tokens/s). "
                f"Modelo: {args.salida / MODEL_NAME}"
            )
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
