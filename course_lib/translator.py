"""Un traductor ya entrenado: traducir, ver su atención, guardarlo y cargarlo (cuaderno 07).

:class:`Translator` junta un :class:`course_lib.transformer.Transformer` con su tokenizador BPE.
Lo que guarda :meth:`Translator.save` (y los puntos de control de
:func:`course_lib.translate.train_translator`) es un archivo de ``torch.save`` con los pesos en
``"model"`` y, en ``"extra"``, lo que da :meth:`Translator.checkpoint_extra`: ``"config"``
(``asdict`` de la :class:`~course_lib.transformer.TransformerConfig`), ``"tokenizer"``,
``"max_len"``, ``"direction"`` y ``"synthetic"``. :meth:`Translator.load` reconstruye el modelo
con ``Transformer.from_config``. Cómo se entrena
un traductor está en :mod:`course_lib.translate`.

Los errores de uso (un archivo que no existe, que está dañado o que no es un traductor, una
carpeta de otro entrenamiento) son :class:`TranslatorError`, con un mensaje en español que
dice qué pasa y qué hacer; la línea de órdenes los muestra en una sola línea.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from course_lib.decode import DEFAULT_LENGTH_PENALTY, beam_search, greedy_decode, strip_special
from course_lib.tokenizer import BPETokenizer
from course_lib.tokens import pad_sequences
from course_lib.train import load_checkpoint, save_checkpoint
from course_lib.transformer import Transformer, TransformerConfig
from course_lib.utils import get_device

DIRECTIONS = ("en-es", "es-en")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")  # dónde se parte una frase demasiado larga


class TranslatorError(ValueError):
    """Un traductor (o su carpeta) no se puede usar como se pidió; el mensaje dice por qué y qué hacer."""


class MissingTranslatorError(TranslatorError, FileNotFoundError):
    """El archivo del traductor no existe (también es un ``FileNotFoundError``)."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Lee un archivo de ``torch.save`` (traductor o punto de control) con errores en español.

    Raises:
        MissingTranslatorError: si ``path`` no existe.
        TranslatorError: si es una carpeta, o si PyTorch no puede leerlo (un archivo cortado
            a medias, un archivo de texto renombrado a ``.pt``…).
    """
    path = Path(path)
    if path.is_dir():
        raise TranslatorError(
            f"{path} es una carpeta; pasa el archivo del traductor que hay dentro (p. ej. {path / 'traductor.pt'})."
        )
    if not path.exists():
        raise MissingTranslatorError(
            f"No existe el traductor {path}: comprueba la ruta, o entrena uno con "
            "`python -m course_lib.translate train --salida CARPETA` (deja CARPETA/traductor.pt)."
        )
    try:
        state = load_checkpoint(path)
    except Exception as error:  # PyTorch da errores de muchos tipos, y en inglés, para un archivo ilegible
        raise TranslatorError(
            f"No puedo leer {path}: está dañado (p. ej. se cortó al copiarlo o al guardarlo) o no es un archivo "
            "guardado con torch.save. Vuelve a copiarlo o a entrenarlo con `python -m course_lib.translate train`."
        ) from error
    if not isinstance(state, dict):
        raise TranslatorError(
            f"{path} no es un traductor del curso (contiene un {type(state).__name__}, no un diccionario). "
            "Usa el traductor.pt o el ultimo.pt que guarda `python -m course_lib.translate train`."
        )
    return state


def check_direction(direction: str) -> tuple[str, str]:
    """``"en-es"`` → ``("en", "es")``; error en español si no es una de :data:`DIRECTIONS`."""
    if direction not in DIRECTIONS:
        raise ValueError(f"`direction` debe ser 'en-es' (inglés → español) o 'es-en'; recibí {direction!r}.")
    source, target = direction.split("-")
    return source, target


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
        check_direction(direction)
        self.model, self.tokenizer, self.direction, self.max_len = model, tokenizer, direction, max_len
        self.synthetic = synthetic

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _pad(self, rows: Sequence[list[int]]) -> Tensor:
        """Listas de índices → ``(B, T)`` rellenado, en el dispositivo del modelo."""
        return pad_sequences([r or [self.tokenizer.unk_id] for r in rows], self.tokenizer.pad_id).to(self.device)

    def _warn_truncated(self, sentences: Sequence[str]) -> None:
        """Avisa (en español) de que unas frases se recortaron a :attr:`max_len` piezas."""
        if sentences:
            warnings.warn(
                f"{len(sentences)} frase(s) pasan de {self.max_len} piezas, el máximo del modelo, aun partidas por "
                f"los puntos: se ha recortado a {self.max_len} piezas lo que sobraba y su traducción quedará "
                f"incompleta: «{sentences[0][:60]}…».",
                UserWarning,
                stacklevel=3,
            )

    def _split(self, sentence: str, ids: list[int]) -> tuple[list[list[int]], bool]:
        """Los trozos que se traducen de ``sentence`` (de índices ``ids``) y si hubo que recortar alguno.

        Si cabe en :attr:`max_len` piezas, un solo trozo; si no, uno por frase (tras ``. ! ? …``),
        cada uno recortado a :attr:`max_len` piezas.
        """
        if len(ids) <= self.max_len:
            return [ids], False
        pieces = [p for p in self.tokenizer.encode_batch(SENTENCE_END.split(sentence.strip())) if p]
        truncated = any(len(p) > self.max_len for p in pieces)
        return [p[: self.max_len] for p in pieces], truncated

    @torch.no_grad()
    def translate(
        self,
        sentences: str | Sequence[str],
        beam_size: int = 1,
        batch_size: int = 128,
        length_penalty: float = DEFAULT_LENGTH_PENALTY,
    ) -> list[str]:
        """Traduce frases (búsqueda voraz con ``beam_size=1``, en haz si es mayor).

        Las frases se ordenan por longitud para formar lotes con poco relleno y se
        devuelven en el orden original. Dos casos especiales, para no inventar nada:

        - una frase vacía (o solo con espacios) se traduce por ``""`` sin pasar por el modelo;
        - una frase de más de :attr:`max_len` piezas (tokens; el modelo nunca vio frases más
          largas) se parte por los finales de frase (tras ``.``, ``!``, ``?`` o ``…`` seguidos de
          espacio); cada trozo se traduce por separado y las traducciones se unen con un
          espacio. Un trozo que aun así no cabe se recorta a :attr:`max_len` piezas (lo que
          sobra no se traduce) y se avisa con un ``UserWarning``.

        Args:
            sentences: una frase o una lista de frases.
            beam_size: tamaño del haz (1 = búsqueda voraz).
            batch_size: trozos por lote.
            length_penalty: exponente ``α`` de la penalización por longitud de la búsqueda en haz
                (:func:`course_lib.decode.beam_search`; no cuenta en la voraz).

        Returns:
            Una traducción por frase, en el mismo orden.
        """
        if isinstance(sentences, str):
            sentences = [sentences]
        if not all(isinstance(s, str) for s in sentences):
            raise TypeError("`sentences` debe ser una frase o una lista de frases (str).")
        tok = self.tokenizer
        todo = [i for i, s in enumerate(sentences) if s.strip()]
        units: list[tuple[int, int, list[int]]] = []  # (frase, trozo, índices)
        truncated: list[str] = []
        encoded = tok.encode_batch([sentences[i] for i in todo]) if todo else []
        for i, ids in zip(todo, encoded, strict=True):
            pieces, cut = self._split(sentences[i], ids)
            units += [(i, j, piece) for j, piece in enumerate(pieces)]
            if cut:
                truncated.append(sentences[i])
        self._warn_truncated(truncated)
        units.sort(key=lambda unit: len(unit[2]))
        parts: dict[int, dict[int, str]] = {i: {} for i in todo}
        for start in range(0, len(units), batch_size):
            chunk = units[start : start + batch_size]
            src = self._pad([piece for _, _, piece in chunk])  # (B, T)
            if beam_size == 1:
                ids = greedy_decode(self.model, src, self.max_len, tok.sos_id, tok.eos_id)
            else:
                ids = beam_search(
                    self.model, src, beam_size, self.max_len, tok.sos_id, tok.eos_id, length_penalty=length_penalty
                )
            rows = strip_special(ids.cpu(), tok.eos_id, tok.pad_id, tok.sos_id)
            for (i, j, _), row in zip(chunk, rows, strict=True):
                parts[i][j] = tok.decode(row)
        out = [""] * len(sentences)
        for i, pieces in parts.items():
            out[i] = " ".join(text for _, text in sorted(pieces.items()) if text)
        return out

    @torch.no_grad()
    def attention(self, sentence: str, beam_size: int = 1, layer: int = -1) -> tuple[list[str], list[str], Tensor]:
        """Traduce una frase y devuelve la atención cruzada de una capa del decodificador.

        La frase no se parte: si pasa de :attr:`max_len` piezas, se recorta (con un ``UserWarning``).

        Returns:
            ``(src_tokens, tgt_tokens, weights)``: las piezas de origen, las generadas (sin
            ``<sos>``, con ``<eos>`` si se llegó a generar) y los pesos ``(H, T_tgt, T_src)`` con
            ``T_tgt = len(tgt_tokens)``: la fila ``t`` dice a qué piezas de origen miró el
            decodificador para elegir la pieza ``t``.
        """
        if not sentence.strip():
            raise TranslatorError("`sentence` está vacía: no hay nada que traducir ni atención que mostrar.")
        tok = self.tokenizer
        src_ids = tok.encode(sentence)
        self._warn_truncated([sentence] if len(src_ids) > self.max_len else [])
        src = self._pad([src_ids[: self.max_len]])  # (1, T_src)
        if beam_size == 1:
            ids = greedy_decode(self.model, src, self.max_len, tok.sos_id, tok.eos_id)
        else:
            ids = beam_search(self.model, src, beam_size, self.max_len, tok.sos_id, tok.eos_id)
        tgt_in = ids[:, :-1]  # la entrada que produjo cada pieza generada (termine o no en <eos>)
        maps = self.model.attention_maps(src, tgt_in)
        weights = maps["cross"][layer][0].cpu()  # (H, T_tgt, T_src)
        return tok.tokens(src[0].tolist()), tok.tokens(ids[0, 1:].tolist()), weights

    def checkpoint_extra(self) -> dict[str, Any]:
        """Lo que se guarda junto a los pesos: la configuración del modelo, el tokenizador y el uso.

        ``config`` es ``dataclasses.asdict(model.config)``; ``max_len`` es el máximo de tokens de
        una traducción (no el de la tabla de posiciones, que está en ``config``).
        """
        return {
            "config": asdict(self.model.config),
            "tokenizer": self.tokenizer.to_str(),
            "max_len": self.max_len,
            "direction": self.direction,
            "synthetic": self.synthetic,
        }

    def save(self, path: str | Path) -> Path:
        """Guarda pesos, tokenizador y configuración en un solo archivo."""
        return save_checkpoint(path, model=self.model.state_dict(), extra=self.checkpoint_extra())

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str | None = None) -> Translator:
        """Carga un traductor guardado con :meth:`save` o un punto de control de :func:`train_translator`.

        Reconstruye el modelo con la configuración guardada. Los traductores guardados antes de
        que existiera :class:`~course_lib.transformer.TransformerConfig` también se cargan
        (:func:`_legacy_config`).

        Raises:
            MissingTranslatorError: si ``path`` no existe.
            TranslatorError: si el archivo está dañado, no es un traductor del curso o su
                configuración no encaja con esta versión del curso.
        """
        state = read_checkpoint(path)
        extra = state.get("extra")
        usable = isinstance(extra, dict) and "tokenizer" in extra and bool({"config", "model"} & set(extra))
        if not usable or "model" not in state:
            raise TranslatorError(
                f"{path} no es un traductor del curso (le faltan los pesos, el tokenizador o la configuración). "
                "Usa el traductor.pt o el ultimo.pt que guarda `python -m course_lib.translate train`."
            )
        try:
            tokenizer = BPETokenizer.from_str(extra["tokenizer"])
            if "config" in extra:
                config, max_len = TransformerConfig(**extra["config"]), extra["max_len"]
            else:
                config, max_len = _legacy_config(extra["model"], tokenizer.pad_id)
            model = Transformer.from_config(config)
            model.load_state_dict(state["model"])
        except Exception as error:  # el detalle (en inglés, de PyTorch o de tokenizers) queda en error.__cause__
            raise TranslatorError(
                f"No puedo reconstruir el modelo de {path}: su configuración no encaja con esta versión del curso "
                f"({type(error).__name__}). Vuelve a entrenarlo con "
                "`python -m course_lib.translate train` (o con train_translator en el cuaderno 07)."
            ) from error
        model.to(torch.device(device) if device is not None else get_device()).eval()
        return cls(model, tokenizer, extra.get("direction", "en-es"), max_len, extra.get("synthetic", False))


def _legacy_config(old: dict[str, Any], pad_id: int) -> tuple[TransformerConfig, int]:
    """La configuración de un traductor guardado con el formato anterior (hasta diciembre de 2026).

    Aquel formato guardaba en ``extra["model"]`` solo ``vocab``, ``d_model``, ``n_heads``,
    ``n_layers``, ``d_ff`` y ``max_len`` (el de las traducciones); lo demás era siempre lo de
    :func:`model_config`. Devuelve ``(config, max_len)``.
    """
    config = TransformerConfig(
        src_vocab=old["vocab"],
        tgt_vocab=old["vocab"],
        d_model=old["d_model"],
        n_heads=old["n_heads"],
        n_layers=old["n_layers"],
        d_ff=old["d_ff"],
        dropout=0.0,
        norm_first=True,
        max_len=old["max_len"] + 2,
        pad_id=pad_id,
        share_embeddings=True,
    )
    return config, old["max_len"]
