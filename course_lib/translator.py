"""Un traductor ya entrenado: traducir, ver su atención, guardarlo y cargarlo (cuaderno 07).

:class:`Translator` junta un :class:`course_lib.transformer.Transformer` con su tokenizador BPE.
Lo que guarda :meth:`Translator.save` (y los puntos de control de
:func:`course_lib.translate.train_translator`) es un archivo de ``torch.save`` con los pesos en
``"model"`` y, en ``"extra"``, lo que da :meth:`Translator.checkpoint_extra`: ``"config"``
(``asdict`` de la :class:`~course_lib.transformer.TransformerConfig`), ``"tokenizer"``,
``"max_len"``, ``"direction"`` y ``"synthetic"``. :meth:`Translator.load` reconstruye el modelo
con ``Transformer.from_config``. Cómo se entrena
un traductor está en :mod:`course_lib.translate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from course_lib.decode import beam_search, greedy_decode, strip_special
from course_lib.tokenizer import BPETokenizer
from course_lib.tokens import pad_sequences
from course_lib.train import load_checkpoint, save_checkpoint
from course_lib.transformer import Transformer, TransformerConfig
from course_lib.utils import get_device

DIRECTIONS = ("en-es", "es-en")


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
        """
        state = load_checkpoint(path)
        extra = state.get("extra") or {}
        if "tokenizer" not in extra or not ({"config", "model"} & set(extra)) or "model" not in state:
            raise ValueError(
                f"{path} no es un traductor del curso (le faltan los pesos, el tokenizador o la configuración). "
                "Usa el traductor.pt o el ultimo.pt que guarda `python -m course_lib.translate train`."
            )
        tokenizer = BPETokenizer.from_str(extra["tokenizer"])
        try:
            if "config" in extra:
                config, max_len = TransformerConfig(**extra["config"]), extra["max_len"]
            else:
                config, max_len = _legacy_config(extra["model"], tokenizer.pad_id)
            model = Transformer.from_config(config)
            model.load_state_dict(state["model"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"No puedo reconstruir el modelo de {path}: su configuración no encaja con esta versión del curso "
                f"({type(error).__name__}: {str(error)[:200]}). Vuelve a entrenarlo con "
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
