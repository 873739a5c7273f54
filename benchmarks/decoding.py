"""Velocidad de decodificación: la forma directa frente a la incremental, en la misma ejecución.

Mide frases por segundo de :func:`course_lib.decode.greedy_decode` y de
:func:`course_lib.decode.beam_search` por tres caminos, con el mismo modelo y las mismas frases:

- ``antes``: el prefijo entero pasa por el decodificador en cada paso y todas sus posiciones se
  proyectan al vocabulario (lo que hacía ``course_lib.decode`` antes; aquí, con el modelo
  envuelto para que solo se vean ``encode`` y ``decode``);
- ``última posición``: el prefijo entero, pero solo la última posición se proyecta
  (``use_cache=False``);
- ``caché``: decodificación incremental con las claves y los valores guardados (lo de ahora).

El modelo tiene el tamaño de un perfil de :mod:`course_lib.translate` (``cpu`` por defecto:
d_model 256, 4 cabezas, 2+2 capas, vocabulario 8000) con pesos aleatorios: casi nunca genera
``<eos>``, así que cada frase llega a ``max_len``, como el modelo poco entrenado de
``benchmarks/RESULTS.md``. Las frases de origen tienen las longitudes en piezas de las de
tatoeba-test (con ``--prueba``) o longitudes aleatorias de 3 a 20 piezas. Se comprueba además
que los tres caminos den los mismos tokens. Ejemplo::

    python benchmarks/decoding.py --frases 128 --prueba ../shared/data/tatoeba-test
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from course_lib.decode import beam_search, greedy_decode
from course_lib.tokens import pad_sequences
from course_lib.transformer import Transformer, TransformerConfig
from course_lib.translate import PROFILES

PAD, SOS, EOS = 0, 1, 2


class OnlyEncodeDecode(nn.Module):
    """El modelo visto solo a través de ``pad_id``, ``encode`` y ``decode``: el camino de antes."""

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        self.model, self.pad_id = model, model.pad_id

    def encode(self, src: Tensor, src_mask: Tensor | None = None) -> Tensor:
        return self.model.encode(src, src_mask)

    def decode(self, tgt: Tensor, memory: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None):
        return self.model.decode(tgt, memory, src_mask, tgt_mask)  # (N, t, V): todas las posiciones


def _sources(n: int, vocab: int, max_len: int, test: Path | None, seed: int) -> list[list[int]]:
    """``n`` frases de origen (listas de índices), ordenadas por longitud como en ``Translator.translate``.

    Con ``test`` (la carpeta de tatoeba-test), las longitudes en piezas BPE de sus primeras ``n``
    frases inglesas, con un tokenizador de ``vocab`` piezas entrenado con la propia prueba; sin
    ella, longitudes aleatorias de 3 a 20. Como ``Translator``, se cortan en ``max_len`` piezas.
    Los índices son aleatorios: el modelo tampoco está entrenado.
    """
    g = torch.Generator().manual_seed(seed)
    if test is not None:
        from course_lib.data import load_tatoeba_test
        from course_lib.tokenizer import train_tokenizer

        pairs = load_tatoeba_test(test)
        tokenizer = train_tokenizer([en for en, _ in pairs] + [es for _, es in pairs], vocab)
        lengths = [len(ids) for ids in tokenizer.encode_batch([en for en, _ in pairs[:n]])]
    else:
        lengths = torch.randint(3, 21, (n,), generator=g).tolist()
    rows = [torch.randint(3, vocab, (min(max(length, 1), max_len),), generator=g).tolist() for length in lengths]
    return sorted(rows, key=len)


def _run(decode: Callable[[Tensor], Tensor], batches: list[Tensor]) -> tuple[float, list[Tensor]]:
    """Segundos que tarda ``decode`` en todos los lotes, y sus salidas."""
    started = time.perf_counter()
    outputs = [decode(src) for src in batches]
    return time.perf_counter() - started, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--perfil", choices=sorted(PROFILES), default="cpu", help="tamaño del modelo")
    parser.add_argument("--frases", type=int, default=128, help="frases de origen")
    parser.add_argument("--lote", type=int, default=128, help="frases por lote (como Translator.translate)")
    parser.add_argument("--haz", type=int, default=4, help="tamaño del haz")
    parser.add_argument("--max-len", type=int, default=None, help="tokens generados (por defecto, los del perfil)")
    parser.add_argument("--prueba", type=Path, default=None, help="carpeta de tatoeba-test: longitudes reales")
    parser.add_argument("--rondas", type=int, default=1, help="rondas alternas; se da la más rápida")
    parser.add_argument("--hilos", type=int, default=None, help="hilos de PyTorch (por defecto, los suyos)")
    parser.add_argument("--dispositivo", default="cpu")
    args = parser.parse_args()
    if args.hilos is not None:
        torch.set_num_threads(args.hilos)

    profile = PROFILES[args.perfil]
    max_len = args.max_len or profile.max_len
    device = torch.device(args.dispositivo)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "CPU"
    print(f"Commit {commit} · {device} ({name}) · {torch.get_num_threads()} hilos · torch {torch.__version__}")
    print(f"Carga media de la máquina (1, 5, 15 min) al empezar: {_load()}")

    torch.manual_seed(0)
    config = TransformerConfig(
        profile.vocab_size, profile.vocab_size, d_model=profile.d_model, n_heads=profile.n_heads,
        n_layers=profile.n_layers, d_ff=profile.d_ff, dropout=profile.dropout, norm_first=True,
        max_len=max_len + 2, pad_id=PAD, share_embeddings=True,
    )  # fmt: skip
    model = Transformer.from_config(config).to(device).eval()
    rows = _sources(args.frases, profile.vocab_size, max_len, args.prueba, seed=0)
    batches = [pad_sequences(rows[i : i + args.lote], PAD).to(device) for i in range(0, len(rows), args.lote)]
    lengths = [len(r) for r in rows]
    print(
        f"Modelo del perfil {args.perfil!r} con pesos aleatorios (d_model {profile.d_model}, "
        f"{profile.n_layers}+{profile.n_layers} capas, vocabulario {profile.vocab_size}); {len(rows)} frases de "
        f"{min(lengths)} a {max(lengths)} piezas en lotes de {args.lote}; max_len {max_len}"
    )
    plain = OnlyEncodeDecode(model)
    paths = {
        "antes": (plain, {}),
        "última posición": (model, {"use_cache": False}),
        "caché": (model, {"use_cache": True}),
    }
    searches = {
        "voraz": lambda m, kw: lambda src: greedy_decode(m, src, max_len, SOS, EOS, **kw),
        f"haz k={args.haz}": lambda m, kw: lambda src: beam_search(m, src, args.haz, max_len, SOS, EOS, **kw),
    }
    _run(searches["voraz"](model, {}), batches[:1])  # calentamiento
    best: dict[tuple[str, str], float] = {}  # (búsqueda, camino) → mejores segundos
    tokens: dict[tuple[str, str], list[Tensor]] = {}
    for _ in range(args.rondas):  # rondas alternas: la carga de la máquina afecta a todos los caminos por igual
        for search, make in searches.items():
            for path, (m, kw) in paths.items():
                seconds, outputs = _run(make(m, kw), batches)
                best[search, path] = min(seconds, best.get((search, path), float("inf")))
                tokens.setdefault((search, path), outputs)
    rounds = "1 ronda" if args.rondas == 1 else f"mejor de {args.rondas} rondas alternas"
    print(f"\n{'búsqueda':10s} {'camino':16s} {'segundos':>9s} {'frases/s':>9s} {'× antes':>8s}  tokens ({rounds})")
    for search in searches:
        before = best[search, "antes"]
        for path in paths:
            reference, outputs = tokens[search, "antes"], tokens[search, path]
            equal = all(torch.equal(a, b) for a, b in zip(reference, outputs, strict=True))
            same = "referencia" if path == "antes" else "iguales" if equal else "¡DISTINTOS!"
            seconds = best[search, path]
            print(f"{search:10s} {path:16s} {seconds:9.1f} {len(rows) / seconds:9.1f} {before / seconds:8.1f}  {same}")
    print(f"Carga media de la máquina (1, 5, 15 min) al acabar: {_load()}")


def _load() -> str:
    """La carga media del sistema, para saber si otros procesos compartían los núcleos."""
    try:
        return " · ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "desconocida"


if __name__ == "__main__":
    main()
