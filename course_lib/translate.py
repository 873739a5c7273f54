"""Un traductor inglés↔español de principio a fin: datos, modelo, entrenamiento, evaluación y línea de órdenes (07).

El cuaderno 07 y la línea de órdenes usan exactamente estas funciones::

    python -m course_lib.translate train --perfil cpu --sentido en-es --salida checkpoints/en-es
    python -m course_lib.translate evaluate --modelo checkpoints/en-es/traductor.pt --haz 4
    python -m course_lib.translate translate --modelo checkpoints/en-es/traductor.pt "Where is the station?"

Con varias GPU: ``torchrun --nproc_per_node=4 -m course_lib.translate train --perfil gpu …``.

Perfiles (:data:`PROFILES`): ``gpu`` (el modelo para una GPU), ``cpu`` (más pequeño, para un
portátil) y ``diminuto`` (con frases sintéticas, sin descargas: para la corrección
automática y las pruebas).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from course_lib import data as datasets
from course_lib import grammar
from course_lib.batching import BatchSource
from course_lib.decode import beam_search, greedy_decode, strip_special
from course_lib.evaluate import Scores, corpus_scores
from course_lib.tokenizer import BPETokenizer, train_tokenizer
from course_lib.tokens import Batch, pad_sequences
from course_lib.train import (
    History,
    TrainConfig,
    _distributed,
    fit,
    init_distributed,
    load_checkpoint,
    save_checkpoint,
)
from course_lib.transformer import Transformer
from course_lib.utils import fast_mode, get_device, seed_everything

DIRECTIONS = ("en-es", "es-en")
MODEL_NAME = "traductor.pt"


@dataclass(frozen=True)
class Profile:
    """Tamaño del modelo y receta de entrenamiento de un perfil.

    Attributes:
        name: nombre del perfil.
        d_model, n_heads, n_layers, d_ff, dropout: arquitectura (pre-LN, embeddings compartidos).
        vocab_size: tamaño del vocabulario BPE común a los dos idiomas.
        max_len: tokens máximos por frase (las más largas se descartan al entrenar).
        max_tokens: tokens (con relleno) por lote.
        steps, warmup, lr_scale: pasos, calentamiento y factor de :func:`course_lib.train.noam_lr`.
        cooldown: fracción final de los pasos en la que la tasa baja hasta 0
            (:func:`course_lib.train.learning_rate`; 0 = sin enfriamiento).
        valid_size: pares de validación apartados.
        max_pairs: máximo de pares de entrenamiento (``None`` = todos).
        checkpoint_every, eval_every: cada cuántos pasos guardar y validar.
        synthetic: usar la gramática sintética del cuaderno 01 en vez de los datos reales.
        test_size: pares del conjunto de prueba que se evalúan (``None`` = los 10 000).
        max_minutes: presupuesto de entrenamiento; se para al agotarlo aunque no se hayan dado
            todos los pasos (``None`` = sin límite).
    """

    name: str
    d_model: int
    n_heads: int
    n_layers: int
    d_ff: int
    dropout: float
    vocab_size: int
    max_len: int
    max_tokens: int
    steps: int
    warmup: int
    lr_scale: float
    valid_size: int
    max_pairs: int | None = None
    checkpoint_every: int = 1000
    eval_every: int = 1000
    synthetic: bool = False
    test_size: int | None = None
    max_minutes: float | None = None
    cooldown: float = 0.0


PROFILES: dict[str, Profile] = {
    # Una GPU de la clase de una H100 (bf16). Pendiente de medir: véase benchmarks/RESULTS.md.
    "gpu": Profile(
        "gpu", d_model=512, n_heads=8, n_layers=6, d_ff=2048, dropout=0.1, vocab_size=16000, max_len=64,
        max_tokens=16384, steps=12000, warmup=2000, lr_scale=1.0, valid_size=2000,
        checkpoint_every=1000, eval_every=1000,
    ),
    # Un portátil: unos 9 minutos en 2 núcleos (el tope de 10 minutos solo protege a las máquinas
    # más lentas). Sin dropout: en 2-3 épocas el modelo aún no memoriza; enfriamiento en el último
    # 30 % de los pasos. Medido en benchmarks/RESULTS.md.
    "cpu": Profile(
        "cpu", d_model=128, n_heads=4, n_layers=2, d_ff=512, dropout=0.0, vocab_size=4000, max_len=40,
        max_tokens=1536, steps=1700, warmup=400, lr_scale=2.0, cooldown=0.3, valid_size=1000,
        checkpoint_every=200, eval_every=500, max_minutes=10.0,
    ),
    # Corrección automática y pruebas: segundos, sin red.
    "diminuto": Profile(
        "diminuto", d_model=32, n_heads=2, n_layers=1, d_ff=64, dropout=0.1, vocab_size=400, max_len=24,
        max_tokens=1024, steps=40, warmup=10, lr_scale=2.0, valid_size=50, max_pairs=600,
        checkpoint_every=20, eval_every=20, synthetic=True, test_size=40,
    ),
}  # fmt: skip


def default_profile() -> str:
    """``diminuto`` en modo rápido; si no, ``gpu`` con CUDA y ``cpu`` sin ella."""
    if fast_mode():
        return "diminuto"
    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(profile: str | Profile) -> Profile:
    """El :class:`Profile` de un nombre (o el mismo perfil)."""
    if isinstance(profile, Profile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"`profile` debe ser uno de {sorted(PROFILES)}; recibí {profile!r}.")
    return PROFILES[profile]


def _check_direction(direction: str) -> tuple[str, str]:
    if direction not in DIRECTIONS:
        raise ValueError(f"`direction` debe ser 'en-es' (inglés → español) o 'es-en'; recibí {direction!r}.")
    source, target = direction.split("-")
    return source, target


@dataclass
class TranslationData:
    """Datos listos para entrenar y evaluar en una dirección.

    Attributes:
        direction: ``"en-es"`` o ``"es-en"``.
        train, valid, test: pares ``(origen, destino)`` ya orientados.
        tokenizer: BPE común a los dos idiomas, entrenado solo con ``train``.
        train_batches: ``train_batches(epoch)`` → lotes agrupados por longitud.
        valid_batches: lotes de validación (siempre los mismos).
        dropped_overlap: pares eliminados porque una de sus frases está en el conjunto de prueba.
        synthetic: si los datos son frases sintéticas (perfil ``diminuto``).
    """

    direction: str
    train: list[tuple[str, str]]
    valid: list[tuple[str, str]]
    test: list[tuple[str, str]]
    tokenizer: BPETokenizer
    train_batches: BatchSource
    valid_batches: list[Batch]
    dropped_overlap: int
    synthetic: bool


def _synthetic_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """Pares (inglés, español) de la gramática del cuaderno 01, con mayúscula y punto."""

    def sentence(text: str) -> str:
        return text[:1].upper() + text[1:] + "."

    return [(sentence(en), sentence(es)) for es, en in grammar.generate_pairs(n, seed=seed, max_len=8)]


def prepare_data(
    direction: str = "en-es",
    profile: str | Profile | None = None,
    data_path: str | Path | None = None,
    test_path: str | Path | None = None,
    seed: int = 0,
) -> TranslationData:
    """Carga los pares, quita los que están en el conjunto de prueba, separa la validación,
    entrena el tokenizador y prepara los lotes.

    Args:
        direction: ``"en-es"`` o ``"es-en"``.
        profile: nombre o :class:`Profile` (por defecto, :func:`default_profile`).
        data_path: copia local de ``spa-eng.zip`` o ``spa.txt`` (sin ella: caché o descarga).
        test_path: carpeta con tatoeba-test v2020-07-28 eng–spa (sin ella: caché o descarga).
        seed: semilla de la separación y del orden de los lotes.
    """
    source, _ = _check_direction(direction)
    profile = get_profile(profile or default_profile())
    if profile.synthetic:
        pairs = _synthetic_pairs(profile.max_pairs or 1000, seed)
        test = _synthetic_pairs(profile.test_size or 100, seed + 1)
    else:
        pairs = datasets.load_spa_eng(data_path)
        test = datasets.load_tatoeba_test(test_path)
    kept = datasets.drop_test_overlap(pairs, test)
    dropped = len(pairs) - len(kept)
    train, valid = datasets.split_pairs(kept, profile.valid_size, seed=seed)
    if profile.max_pairs is not None:
        train = train[: profile.max_pairs]
    if profile.test_size is not None:
        test = test[: profile.test_size]
    tokenizer = train_tokenizer([e for e, _ in train] + [s for _, s in train], profile.vocab_size)

    def orient(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return list(items) if source == "en" else [(s, e) for e, s in items]

    train, valid, test = orient(train), orient(valid), orient(test)

    def encoded(items: list[tuple[str, str]]) -> tuple[list[list[int]], list[list[int]]]:
        src = tokenizer.encode_batch([s for s, _ in items])
        tgt = tokenizer.encode_batch([t for _, t in items])
        keep = [i for i in range(len(items)) if len(src[i]) <= profile.max_len and len(tgt[i]) < profile.max_len]
        return [src[i] for i in keep], [tgt[i] for i in keep]

    train_src, train_tgt = encoded(train)
    valid_src, valid_tgt = encoded(valid)
    return TranslationData(
        direction=direction,
        train=train,
        valid=valid,
        test=test,
        tokenizer=tokenizer,
        train_batches=BatchSource(train_src, train_tgt, profile.max_tokens, shuffle=True, seed=seed),
        valid_batches=list(BatchSource(valid_src, valid_tgt, profile.max_tokens, shuffle=False)(0)),
        dropped_overlap=dropped,
        synthetic=profile.synthetic,
    )


def build_model(profile: str | Profile, tokenizer: BPETokenizer) -> Transformer:
    """El Transformer de un perfil: pre-LN y una sola matriz de embeddings para los dos idiomas.

    Pre-LN (``norm_first=True``) porque entrena de forma estable con calentamientos cortos
    (cuaderno 06); embeddings compartidos porque el vocabulario es común.
    """
    profile = get_profile(profile)
    return Transformer(
        len(tokenizer),
        len(tokenizer),
        d_model=profile.d_model,
        n_heads=profile.n_heads,
        n_layers=profile.n_layers,
        d_ff=profile.d_ff,
        dropout=profile.dropout,
        norm_first=True,
        max_len=profile.max_len + 2,
        pad_id=tokenizer.pad_id,
        share_embeddings=True,
    )


def _model_config(model: Transformer, max_len: int) -> dict[str, Any]:
    """Lo necesario para reconstruir ``model`` al cargarlo (véase :meth:`Translator.load`)."""
    return {
        "vocab": model.generator.out_features,
        "d_model": model.d_model,
        "n_heads": model.encoder_layers[0].self_attn.n_heads,
        "n_layers": len(model.encoder_layers),
        "d_ff": model.encoder_layers[0].feed_forward.W_1.out_features,
        "max_len": max_len,
    }


def training_config(profile: str | Profile, checkpoint_dir: str | Path | None = None, seed: int = 0) -> TrainConfig:
    """La receta de :func:`course_lib.train.fit` para un perfil (la que usa :func:`train_translator`)."""
    profile = get_profile(profile)
    return TrainConfig(
        steps=profile.steps,
        warmup=profile.warmup,
        lr_scale=profile.lr_scale,
        cooldown=round(profile.cooldown * profile.steps),
        label_smoothing=0.1,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=profile.checkpoint_every if checkpoint_dir else 0,
        eval_every=profile.eval_every,
        seed=seed,
        max_seconds=profile.max_minutes * 60 if profile.max_minutes else None,
    )


def train_translator(
    data: TranslationData,
    profile: str | Profile | None = None,
    checkpoint_dir: str | Path | None = None,
    device: torch.device | str | None = None,
    steps: int | None = None,
    progress: bool = True,
    seed: int = 0,
) -> tuple[Translator, History]:
    """Entrena un traductor con :func:`course_lib.train.fit`.

    Con ``checkpoint_dir``, guarda puntos de control (``ultimo.pt``) y, si ya hay uno,
    **reanuda** desde él: volver a ejecutar la celda tras una desconexión sigue donde se quedó.
    Al final guarda también el traductor listo para usar en ``checkpoint_dir/traductor.pt``.

    Args:
        steps: cambia los pasos del perfil (p. ej. para una prueba corta).
    """
    profile = get_profile(profile or default_profile())
    if steps is not None:
        profile = replace(profile, steps=steps)
    seed_everything(seed)
    model = build_model(profile, data.tokenizer)
    config = training_config(profile, checkpoint_dir, seed)
    extra = {
        "tokenizer": data.tokenizer.to_str(),
        "model": _model_config(model, profile.max_len),
        "direction": data.direction,
        "synthetic": data.synthetic,
    }
    history = fit(model, data.train_batches, config, data.valid_batches, device, progress, resume=True, extra=extra)
    translator = Translator(model, data.tokenizer, data.direction, profile.max_len, data.synthetic)
    if checkpoint_dir is not None and _distributed()[0] == 0:
        translator.save(Path(checkpoint_dir) / MODEL_NAME)
    return translator, history


class Translator:
    """Un modelo entrenado con su tokenizador: traduce frases de texto.

    Args:
        model: el :class:`course_lib.transformer.Transformer` entrenado.
        tokenizer: el :class:`course_lib.tokenizer.BPETokenizer` con el que se entrenó.
        direction: ``"en-es"`` o ``"es-en"``.
        max_len: tokens máximos de la traducción.
        synthetic: si se entrenó con las frases sintéticas (perfil ``diminuto``).
    """

    def __init__(
        self,
        model: Transformer,
        tokenizer: BPETokenizer,
        direction: str = "en-es",
        max_len: int = 64,
        synthetic: bool = False,
    ) -> None:
        _check_direction(direction)
        self.model, self.tokenizer, self.direction, self.max_len = model, tokenizer, direction, max_len
        self.synthetic = synthetic

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _encode(self, sentences: Sequence[str]) -> Tensor:
        ids = [ids[: self.max_len] for ids in self.tokenizer.encode_batch(list(sentences))]
        return pad_sequences([i or [self.tokenizer.unk_id] for i in ids], self.tokenizer.pad_id).to(self.device)

    @torch.no_grad()
    def translate(self, sentences: str | Sequence[str], beam_size: int = 1, batch_size: int = 128) -> list[str]:
        """Traduce frases (búsqueda voraz con ``beam_size=1``, en haz si es mayor).

        Las frases se ordenan por longitud para formar lotes con poco relleno y se
        devuelven en el orden original.
        """
        if isinstance(sentences, str):
            sentences = [sentences]
        if not all(isinstance(s, str) for s in sentences):
            raise TypeError("`sentences` debe ser una frase o una lista de frases (str).")
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        out: list[str] = [""] * len(sentences)
        tok = self.tokenizer
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            src = self._encode([sentences[i] for i in chunk])
            if beam_size == 1:
                ids = greedy_decode(self.model, src, self.max_len, tok.sos_id, tok.eos_id)
            else:
                ids = beam_search(self.model, src, beam_size, self.max_len, tok.sos_id, tok.eos_id)
            for i, row in zip(chunk, strip_special(ids.cpu(), tok.eos_id, tok.pad_id, tok.sos_id), strict=True):
                out[i] = tok.decode(row)
        return out

    @torch.no_grad()
    def attention(self, sentence: str, beam_size: int = 1, layer: int = -1) -> tuple[list[str], list[str], Tensor]:
        """Traduce una frase y devuelve la atención cruzada de una capa del decodificador.

        Returns:
            ``(src_tokens, tgt_tokens, weights)``: las piezas de origen, las generadas (sin
            ``<sos>``, con ``<eos>`` si se llegó a generar) y los pesos ``(H, T_tgt, T_src)`` con
            ``T_tgt = len(tgt_tokens)``: la fila ``t`` dice a qué piezas de origen miró el
            decodificador para elegir la pieza ``t``.
        """
        tok = self.tokenizer
        src = self._encode([sentence])
        if beam_size == 1:
            ids = greedy_decode(self.model, src, self.max_len, tok.sos_id, tok.eos_id)
        else:
            ids = beam_search(self.model, src, beam_size, self.max_len, tok.sos_id, tok.eos_id)
        tgt_in = ids[:, :-1]  # la entrada que produjo cada pieza generada (termine o no en <eos>)
        maps = self.model.attention_maps(src, tgt_in)
        weights = maps["cross"][layer][0].cpu()  # (H, T_tgt, T_src)
        return tok.tokens(src[0].tolist()), tok.tokens(ids[0, 1:].tolist()), weights

    def save(self, path: str | Path) -> Path:
        """Guarda pesos, tokenizador y configuración en un solo archivo."""
        return save_checkpoint(
            path,
            model=self.model.state_dict(),
            extra={
                "tokenizer": self.tokenizer.to_str(),
                "model": _model_config(self.model, self.max_len),
                "direction": self.direction,
                "synthetic": self.synthetic,
            },
        )

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str | None = None) -> Translator:
        """Carga un traductor guardado con :meth:`save` o un punto de control de :func:`train_translator`."""
        state = load_checkpoint(path)
        extra = state.get("extra") or {}
        if "tokenizer" not in extra or "model" not in extra:
            raise ValueError(f"{path} no es un traductor del curso (le faltan el tokenizador o la configuración).")
        tokenizer = BPETokenizer.from_str(extra["tokenizer"])
        c = extra["model"]
        model = Transformer(
            c["vocab"], c["vocab"], d_model=c["d_model"], n_heads=c["n_heads"], n_layers=c["n_layers"],
            d_ff=c["d_ff"], dropout=0.0, norm_first=True, max_len=c["max_len"] + 2, pad_id=tokenizer.pad_id,
            share_embeddings=True,
        )  # fmt: skip
        model.load_state_dict(state["model"])
        model.to(torch.device(device) if device is not None else get_device()).eval()
        return cls(model, tokenizer, extra.get("direction", "en-es"), c["max_len"], extra.get("synthetic", False))


@dataclass
class Evaluation:
    """Resultado de :func:`evaluate_translator`."""

    scores: Scores
    hypotheses: list[str]
    sentences: int
    seconds: float
    beam_size: int

    @property
    def sentences_per_second(self) -> float:
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        search = "voraz" if self.beam_size == 1 else f"en haz (k={self.beam_size})"
        return (
            f"{self.scores}\n{self.sentences} frases, búsqueda {search}: {self.seconds:.1f} s "
            f"({self.sentences_per_second:.1f} frases/s)"
        )


def evaluate_translator(
    translator: Translator, pairs: Sequence[tuple[str, str]], beam_size: int = 1, batch_size: int = 128
) -> Evaluation:
    """BLEU y chrF de sacreBLEU (con mayúsculas, tokenización 13a) sobre ``pairs`` = ``[(origen, referencia)]``."""
    if len(pairs) == 0:
        raise ValueError("`pairs` está vacía: no hay nada que evaluar.")
    started = time.perf_counter()
    hypotheses = translator.translate([s for s, _ in pairs], beam_size=beam_size, batch_size=batch_size)
    seconds = time.perf_counter() - started
    scores = corpus_scores(hypotheses, [t for _, t in pairs])
    return Evaluation(scores, hypotheses, len(pairs), seconds, beam_size)


# --- Línea de órdenes ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
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
        source, _ = _check_direction(translator.direction)
        if translator.synthetic:  # perfil diminuto: frases sintéticas de prueba, nunca descargas
            test = _synthetic_pairs(PROFILES["diminuto"].test_size or 100, 1)
        else:
            test = datasets.load_tatoeba_test(args.prueba)
        pairs = test if source == "en" else [(s, e) for e, s in test]
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


__all__ = [
    "DIRECTIONS",
    "PROFILES",
    "Evaluation",
    "Profile",
    "TranslationData",
    "Translator",
    "build_model",
    "default_profile",
    "evaluate_translator",
    "get_profile",
    "main",
    "prepare_data",
    "train_translator",
]
