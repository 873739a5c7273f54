"""Un traductor inglés↔español de principio a fin: datos, modelo, entrenamiento y evaluación (cuaderno 07).

El cuaderno 07 y la línea de órdenes (:mod:`course_lib.translate_cli`) usan exactamente estas
funciones::

    python -m course_lib.translate train --perfil cpu --sentido en-es --salida checkpoints/en-es
    python -m course_lib.translate evaluate --modelo checkpoints/en-es/traductor.pt --haz 4
    python -m course_lib.translate translate --modelo checkpoints/en-es/traductor.pt "Where is the station?"

Con varias GPU: ``torchrun --nproc_per_node=4 -m course_lib.translate train --perfil gpu …``.

Perfiles (:data:`PROFILES`): ``gpu`` (una GPU grande), ``t4`` (la GPU de Colab), ``cpu`` (para un
portátil) y ``diminuto`` (con frases sintéticas, sin descargas: para la corrección
automática y las pruebas). Cada perfil da una :class:`course_lib.transformer.TransformerConfig`
(:func:`model_config`); el traductor guardado lleva esa configuración, el tokenizador y los pesos.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from course_lib import data as datasets
from course_lib import grammar
from course_lib.batching import BatchSource
from course_lib.decode import DEFAULT_LENGTH_PENALTY
from course_lib.distributed import broadcast_object, main_process_first, rank_and_world
from course_lib.evaluate import Scores, corpus_scores
from course_lib.resume import check_resume
from course_lib.tokenizer import BPETokenizer, train_tokenizer
from course_lib.tokens import Batch
from course_lib.train import History, TrainConfig, fit
from course_lib.transformer import Transformer, TransformerConfig
from course_lib.translator import DIRECTIONS, Translator, check_direction
from course_lib.utils import fast_mode, seed_everything

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
        steps: pasos de entrenamiento. Si se dan, mandan: el entrenamiento es el mismo en
            cualquier máquina (``None`` = los decide ``minutes``).
        minutes: presupuesto de entrenamiento en minutos, para los perfiles sin ``steps``:
            :func:`course_lib.train.fit` mide lo que tarda un paso en esta máquina y da los pasos
            que caben, con el calentamiento y el enfriamiento dentro (``TrainConfig.budget_seconds``).
        warmup, lr_scale: calentamiento (en pasos) y factor de :func:`course_lib.train.noam_lr`.
        cooldown: fracción final de los pasos en la que la tasa baja hasta 0
            (:func:`course_lib.train.learning_rate`; 0 = sin enfriamiento).
        valid_size: pares de validación apartados.
        max_pairs: máximo de pares de entrenamiento (``None`` = todos).
        checkpoint_every, eval_every: cada cuántos pasos guardar y validar.
        synthetic: usar la gramática sintética del cuaderno 01 en vez de los datos reales.
        test_size: pares del conjunto de prueba que se evalúan (``None`` = los 10 000).
        precision: la de ``TrainConfig.precision`` (``"bf16"`` en CPU: bf16 donde la CPU lo
            calcula de forma nativa, fp32 donde no; :func:`course_lib.step.amp_dtype`).
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
    steps: int | None
    warmup: int
    lr_scale: float
    valid_size: int
    max_pairs: int | None = None
    checkpoint_every: int = 1000
    eval_every: int = 1000
    synthetic: bool = False
    test_size: int | None = None
    minutes: float | None = None
    cooldown: float = 0.0
    precision: str = "auto"

    def __post_init__(self) -> None:
        steps, minutes = self.steps, self.minutes
        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise ValueError(f"`steps` debe ser un entero ≥ 1 (o None); recibí {steps!r}.")
        if minutes is not None and (
            not isinstance(minutes, int | float) or isinstance(minutes, bool) or not 0 < minutes < float("inf")
        ):
            raise ValueError(f"`minutes` debe ser un número de minutos > 0 (o None); recibí {minutes!r}.")
        if steps is None and minutes is None:
            raise ValueError(f"El perfil {self.name!r} necesita `steps` (pasos) o `minutes` (minutos).")


PROFILES: dict[str, Profile] = {
    # Una GPU grande (clase A100/H100, bf16 nativo y ≥ 30 GB): el tamaño del modelo base del
    # artículo, 15 minutos. Sin medir aún en una GPU: véase benchmarks/RESULTS.md.
    "gpu": Profile(
        "gpu", d_model=512, n_heads=8, n_layers=6, d_ff=2048, dropout=0.1, vocab_size=16000, max_len=64,
        max_tokens=16384, steps=None, minutes=15.0, warmup=2000, lr_scale=1.0, cooldown=0.3, valid_size=2000,
        checkpoint_every=500, eval_every=1000,
    ),
    # La GPU gratuita de Colab (una T4: 15 GB, fp16 con ``GradScaler``, sin bf16 nativo) y las de su
    # clase: un modelo más estrecho y lotes que caben de sobra, 20 minutos. Sin medir aún.
    "t4": Profile(
        "t4", d_model=384, n_heads=6, n_layers=4, d_ff=1536, dropout=0.1, vocab_size=8000, max_len=64,
        max_tokens=8192, steps=None, minutes=20.0, warmup=1000, lr_scale=1.0, cooldown=0.3, valid_size=2000,
        checkpoint_every=500, eval_every=1000, precision="auto",
    ),
    # Un portátil: 10 minutos de entrenamiento en cualquier máquina; fit calibra cuántos pasos caben
    # (más en una máquina rápida), con el enfriamiento en el último 30 % de ellos. Sin dropout: en
    # pocas épocas el modelo aún no memoriza. bf16 donde la CPU lo calcula de forma nativa.
    "cpu": Profile(
        "cpu", d_model=128, n_heads=4, n_layers=2, d_ff=512, dropout=0.0, vocab_size=4000, max_len=40,
        max_tokens=1536, steps=None, minutes=10.0, warmup=400, lr_scale=2.0, cooldown=0.3, valid_size=1000,
        checkpoint_every=200, eval_every=500, precision="bf16",
    ),
    # Corrección automática y pruebas: segundos, sin red.
    "diminuto": Profile(
        "diminuto", d_model=32, n_heads=2, n_layers=1, d_ff=64, dropout=0.1, vocab_size=400, max_len=24,
        max_tokens=1024, steps=40, warmup=10, lr_scale=2.0, valid_size=50, max_pairs=600,
        checkpoint_every=20, eval_every=20, synthetic=True, test_size=40,
    ),
}  # fmt: skip

# El perfil gpu pide bf16 nativo (capacidad de cálculo ≥ 8.0: Ampere o posterior) y esta memoria.
BIG_GPU_MEMORY = 30 * 2**30


def default_profile(device: torch.device | str | None = None) -> str:
    """El perfil que conviene a ``device`` (por defecto, el que elegiría :func:`course_lib.get_device`).

    - Modo rápido: ``diminuto``.
    - CUDA: ``gpu`` en una tarjeta con bf16 nativo (capacidad de cálculo ≥ 8.0) y al menos 30 GB
      (A100, H100…); si no, ``t4`` (la T4 de Colab, una V100, una tarjeta de escritorio).
    - Cualquier otro dispositivo (CPU, o ``mps`` en un Mac): ``cpu``.
    """
    if fast_mode():
        return "diminuto"
    if device is None:
        device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type != "cuda":
        return "cpu"
    major, _ = torch.cuda.get_device_capability(device)
    memory = torch.cuda.get_device_properties(device).total_memory
    return "gpu" if major >= 8 and memory >= BIG_GPU_MEMORY else "t4"


def get_profile(profile: str | Profile) -> Profile:
    """El :class:`Profile` de un nombre (o el mismo perfil)."""
    if isinstance(profile, Profile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"`profile` debe ser uno de {sorted(PROFILES)}; recibí {profile!r}.")
    return PROFILES[profile]


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

    Con varios procesos (``torchrun``), solo el proceso 0 descarga los datos y entrena el
    tokenizador; los demás esperan, leen la caché y reciben su tokenizador.
    """
    source, _ = check_direction(direction)
    profile = get_profile(profile or default_profile())
    if profile.synthetic:
        pairs = _synthetic_pairs(profile.max_pairs or 1000, seed)
        test = _synthetic_pairs(profile.test_size or 100, seed + 1)
    else:
        with main_process_first():  # con torchrun, solo el proceso 0 descarga; los demás leen su caché
            pairs = datasets.load_spa_eng(data_path)
            test = datasets.load_tatoeba_test(test_path)
    kept = datasets.drop_test_overlap(pairs, test)
    dropped = len(pairs) - len(kept)
    train, valid = datasets.split_pairs(kept, profile.valid_size, seed=seed)
    if profile.max_pairs is not None:
        train = train[: profile.max_pairs]
    if profile.test_size is not None:
        test = test[: profile.test_size]
    texts = [e for e, _ in train] + [s for _, s in train]
    rank, world = rank_and_world()
    if world == 1:
        tokenizer = train_tokenizer(texts, profile.vocab_size)
    else:  # con torchrun, lo entrena el proceso 0 y los demás reciben el mismo
        trained = train_tokenizer(texts, profile.vocab_size).to_str() if rank == 0 else None
        tokenizer = BPETokenizer.from_str(broadcast_object(trained))

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


def model_config(profile: str | Profile, tokenizer: BPETokenizer) -> TransformerConfig:
    """La configuración del Transformer de un perfil, para el vocabulario de ``tokenizer``."""
    profile = get_profile(profile)
    return TransformerConfig(
        src_vocab=len(tokenizer),
        tgt_vocab=len(tokenizer),
        d_model=profile.d_model,
        n_heads=profile.n_heads,
        n_layers=profile.n_layers,
        d_ff=profile.d_ff,
        dropout=profile.dropout,
        norm_first=True,  # pre-LN: entrena de forma estable con calentamientos cortos (cuaderno 06)
        max_len=profile.max_len + 2,  # la frase más larga, más <sos> y <eos>
        pad_id=tokenizer.pad_id,
        share_embeddings=True,  # el vocabulario BPE es común a los dos idiomas
    )


def build_model(profile: str | Profile, tokenizer: BPETokenizer) -> Transformer:
    """El Transformer de un perfil (:func:`model_config`): pre-LN y una matriz de embeddings para los dos idiomas."""
    return Transformer.from_config(model_config(profile, tokenizer))


def training_config(
    profile: str | Profile,
    checkpoint_dir: str | Path | None = None,
    seed: int = 0,
    *,
    steps: int | None = None,
    minutes: float | None = None,
) -> TrainConfig:
    """La receta de :func:`course_lib.train.fit` para un perfil (la que usa :func:`train_translator`).

    La duración: ``steps`` si se da (reproducible: ignora el presupuesto del perfil); si no,
    ``minutes`` si se da; si no, la del perfil (sus ``steps`` o, si no tiene, sus ``minutes``).
    Por pasos, el enfriamiento son ``round(cooldown · steps)`` pasos (``TrainConfig.cooldown``);
    por tiempo, la fracción ``cooldown`` del total que calibre ``fit`` (``TrainConfig.cooldown_fraction``).

    Args:
        steps: pasos de entrenamiento en lugar de los del perfil.
        minutes: minutos de entrenamiento en lugar de los del perfil (no junto con ``steps``).
    """
    profile = get_profile(profile)
    if steps is not None and minutes is not None:
        raise ValueError(f"Da `steps` ({steps!r}) o `minutes` ({minutes!r}), no los dos.")
    if steps is not None:
        profile = replace(profile, steps=steps)
    elif minutes is not None:
        profile = replace(profile, steps=None, minutes=minutes)
    by_steps = profile.steps is not None
    return TrainConfig(
        steps=profile.steps,
        budget_seconds=None if by_steps or profile.minutes is None else profile.minutes * 60,
        warmup=profile.warmup,
        lr_scale=profile.lr_scale,
        cooldown=round(profile.cooldown * profile.steps) if profile.steps is not None else 0,
        cooldown_fraction=0.0 if by_steps else profile.cooldown,
        label_smoothing=0.1,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=profile.checkpoint_every if checkpoint_dir else 0,
        eval_every=profile.eval_every,
        seed=seed,
        precision=profile.precision,
    )


def train_translator(
    data: TranslationData,
    profile: str | Profile | None = None,
    checkpoint_dir: str | Path | None = None,
    device: torch.device | str | None = None,
    steps: int | None = None,
    progress: bool = True,
    seed: int = 0,
    minutes: float | None = None,
) -> tuple[Translator, History]:
    """Entrena un traductor con :func:`course_lib.train.fit`.

    Con ``checkpoint_dir``, guarda puntos de control (``ultimo.pt``) y, si ya hay uno,
    **reanuda** desde él: volver a ejecutar la celda tras una desconexión sigue donde se quedó
    (un entrenamiento por tiempo sigue con el total de pasos que calibró, sin volver a medir).
    Si esa carpeta es de un entrenamiento con otra dirección o con otro perfil, se niega a
    reanudar antes de empezar (``TranslatorError``; véase :func:`course_lib.resume.check_resume`).
    Al final guarda también el traductor listo para usar en ``checkpoint_dir/traductor.pt``.

    Args:
        steps: cambia los pasos del perfil (p. ej. para una prueba corta o para repetir
            exactamente un entrenamiento: ``history.total_steps`` de uno por tiempo).
        minutes: entrena por tiempo, este número de minutos, en lugar de lo que diga el perfil.
            ``fit`` calibra los pasos en esta máquina (véase :func:`training_config`).
    """
    profile = get_profile(profile or default_profile())
    config = training_config(profile, checkpoint_dir, seed, steps=steps, minutes=minutes)
    # Antes de entrenar: la carpeta no es de otro traductor.
    check_resume(checkpoint_dir, data.direction, profile.name, asdict(model_config(profile, data.tokenizer)))
    seed_everything(seed)
    model = build_model(profile, data.tokenizer)
    translator = Translator(model, data.tokenizer, data.direction, profile.max_len, data.synthetic)
    extra = translator.checkpoint_extra()  # también en los puntos de control: Translator.load sabe leerlos
    history = fit(model, data.train_batches, config, data.valid_batches, device, progress, resume=True, extra=extra)
    if checkpoint_dir is not None and rank_and_world()[0] == 0:
        translator.save(Path(checkpoint_dir) / MODEL_NAME)
    return translator, history


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


def load_test_pairs(
    direction: str, synthetic: bool = False, test_path: str | Path | None = None
) -> list[tuple[str, str]]:
    """El conjunto de prueba orientado en ``direction``: tatoeba-test o, con ``synthetic``, frases sintéticas.

    Las sintéticas son las del perfil ``diminuto`` (las mismas que aparta :func:`prepare_data`),
    sin descargas; ``test_path`` es la carpeta con tatoeba-test v2020-07-28 (sin ella: caché o descarga).
    """
    source, _ = check_direction(direction)
    if synthetic:
        test = _synthetic_pairs(PROFILES["diminuto"].test_size or 100, 1)
    else:
        test = datasets.load_tatoeba_test(test_path)
    return test if source == "en" else [(s, e) for e, s in test]


def evaluate_translator(
    translator: Translator,
    pairs: Sequence[tuple[str, str]],
    beam_size: int = 1,
    batch_size: int = 128,
    length_penalty: float = DEFAULT_LENGTH_PENALTY,
) -> Evaluation:
    """BLEU y chrF de sacreBLEU (con mayúsculas, tokenización 13a) sobre ``pairs`` = ``[(origen, referencia)]``.

    ``length_penalty`` es el ``α`` de la búsqueda en haz (:meth:`Translator.translate`).
    """
    if len(pairs) == 0:
        raise ValueError("`pairs` está vacía: no hay nada que evaluar.")
    started = time.perf_counter()
    sources = [s for s, _ in pairs]
    hypotheses = translator.translate(
        sources, beam_size=beam_size, batch_size=batch_size, length_penalty=length_penalty
    )
    seconds = time.perf_counter() - started
    scores = corpus_scores(hypotheses, [t for _, t in pairs])
    return Evaluation(scores, hypotheses, len(pairs), seconds, beam_size)


if __name__ == "__main__":  # python -m course_lib.translate …: la línea de órdenes
    from course_lib.translate_cli import main

    sys.exit(main())


__all__ = [
    "DIRECTIONS",
    "MODEL_NAME",
    "PROFILES",
    "Evaluation",
    "Profile",
    "TranslationData",
    "Translator",
    "build_model",
    "default_profile",
    "evaluate_translator",
    "get_profile",
    "load_test_pairs",
    "model_config",
    "prepare_data",
    "train_translator",
    "training_config",
]
