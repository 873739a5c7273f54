"""Entrenar y evaluar el traductor seq2seq del cuaderno 01 con el corpus sintético.

El modelo está en :mod:`course_lib.seq2seq`; aquí, lo que lo usa con :mod:`course_lib.grammar`:
un bucle de entrenamiento con *teacher forcing* (:func:`train_seq2seq`), la traducción de
frases (:func:`translate_sentences`) y la exactitud por longitud (:func:`accuracy_by_length`),
con la que el cuaderno 01 compara traductores con y sin atención.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_lib import grammar
from course_lib.seq2seq import Seq2Seq
from course_lib.tokens import pad_sequences


def train_seq2seq(
    model: Seq2Seq,
    pairs: Sequence[tuple[str, str]],
    src_vocab: grammar.Vocab,
    tgt_vocab: grammar.Vocab,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
    desc: str = "Entrenando",
) -> list[float]:
    """Entrena ``model`` con *teacher forcing* y entropía cruzada (sin contar el relleno).

    Usa Adam, recorte del gradiente a norma 1 y una barra de progreso (tqdm) con la
    pérdida. En cada época baraja los lotes con ``seed + época``; cada lote reúne
    frases de longitud parecida, para no gastar tiempo en relleno.

    Returns:
        La pérdida media de cada época.
    """
    from tqdm.auto import tqdm

    if len(pairs) == 0:
        raise ValueError("`pairs` está vacía: no hay nada con lo que entrenar.")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` debe ser un entero positivo; recibí {epochs!r}.")
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = -(-len(pairs) // batch_size)
    history = []
    with tqdm(total=epochs * steps_per_epoch, desc=desc, disable=not progress, unit="lote") as bar:
        for epoch in range(epochs):
            total, count = 0.0, 0
            for batch in grammar.batches(
                pairs, src_vocab, tgt_vocab, batch_size, shuffle=True, seed=seed + epoch, by_length=True
            ):
                batch = batch.to(device)
                logits, _ = model(batch.src, batch.tgt_in)  # (B, T_tgt, V)
                loss = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=model.pad_id)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                total += loss.item()
                count += 1
                bar.update()
                bar.set_postfix(época=epoch + 1, pérdida=f"{total / count:.3f}")
            history.append(total / count)
    model.eval()
    return history


def translate_sentences(
    model: Seq2Seq,
    sentences: Sequence[str],
    src_vocab: grammar.Vocab,
    tgt_vocab: grammar.Vocab,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> list[str]:
    """Traduce frases de origen (cadenas) con :meth:`Seq2Seq.translate`."""
    model.to(device).eval()
    out = []
    for start in range(0, len(sentences), batch_size):
        chunk = sentences[start : start + batch_size]
        src = pad_sequences([src_vocab.encode(s) for s in chunk]).to(device)
        tokens, _ = model.translate(src, max_len=2 * src.size(1) + 10)
        out += [tgt_vocab.decode(row) for row in tokens]
    return out


def accuracy_by_length(
    model: Seq2Seq,
    pairs: Sequence[tuple[str, str]],
    src_vocab: grammar.Vocab,
    tgt_vocab: grammar.Vocab,
    metric: str = "token",
    device: torch.device | str = "cpu",
) -> dict[int, float]:
    """Exactitud de la traducción voraz, agrupada por longitud de la frase de origen.

    Args:
        metric: ``"token"``: fracción de palabras de la referencia que la traducción
            acierta en su misma posición; ``"sentence"``: fracción de frases traducidas
            exactamente igual que la referencia.

    Returns:
        ``{longitud en palabras: exactitud entre 0 y 1}``, ordenado por longitud.
    """
    if metric not in ("token", "sentence"):
        raise ValueError(f'`metric` debe ser `"token"` o `"sentence"`; recibí {metric!r}.')
    predictions = translate_sentences(model, [s for s, _ in pairs], src_vocab, tgt_vocab, device=device)
    hits: dict[int, list[float]] = {}
    for (src, ref), pred in zip(pairs, predictions, strict=True):
        ref_words, pred_words = ref.split(), pred.split()
        if metric == "sentence":
            score = float(pred_words == ref_words)
        else:
            score = sum(r == p for r, p in zip(ref_words, pred_words, strict=False)) / len(ref_words)
        hits.setdefault(len(src.split()), []).append(score)
    return {length: sum(v) / len(v) for length, v in sorted(hits.items())}


__all__ = ["accuracy_by_length", "train_seq2seq", "translate_sentences"]
