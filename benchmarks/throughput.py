"""Velocidad de entrenamiento: el Transformer de course_lib frente a ``torch.nn.Transformer`` del mismo tamaño.

Los dos modelos comparten todo salvo el núcleo (embeddings, codificación posicional y
proyección de salida iguales), se entrenan con los mismos lotes aleatorios en el mismo
dispositivo y en la misma ejecución, y se mide cuántos tokens de destino por segundo procesan
(paso completo: hacia delante, pérdida, hacia atrás y AdamW). Ejemplos::

    python benchmarks/throughput.py                       # CPU, modelo pequeño
    python benchmarks/throughput.py --dispositivo cuda --d-model 512 --capas 6 --lote 128

Imprime una tabla y la razón course_lib / PyTorch (objetivo: ≥ 1,0 en GPU y ≥ 0,9 en CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import subprocess
import time

import torch
from torch import Tensor, nn
from torch_baseline import TorchTransformer

from course_lib.train import label_smoothing_loss
from course_lib.transformer import Transformer


def _batches(n: int, batch: int, length: int, vocab: int, device: torch.device) -> list[tuple[Tensor, Tensor]]:
    """Lotes aleatorios con algo de relleno al final de cada frase (longitudes entre T/2 y T)."""
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        src = torch.randint(4, vocab, (batch, length), generator=g)
        tgt = torch.randint(4, vocab, (batch, length + 1), generator=g)
        lengths = torch.randint(length // 2, length + 1, (batch,), generator=g)
        positions = torch.arange(length + 1)
        src[positions[None, :length] >= lengths[:, None]] = 0
        tgt[positions[None, :] > lengths[:, None]] = 0
        out.append((src.to(device), tgt.to(device)))
    return out


def measure(model: nn.Module, batches, device: torch.device, amp: torch.dtype | None, warmup: int) -> float:
    """Tokens de destino (sin relleno) por segundo en pasos completos de entrenamiento."""
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    tokens, seconds = 0, 0.0
    for i, (src, tgt) in enumerate(batches):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        autocast = torch.autocast(device.type, dtype=amp) if amp else contextlib.nullcontext()
        with autocast:
            logits = model(src, tgt[:, :-1])
        loss = label_smoothing_loss(logits, tgt[:, 1:], 0.1, 0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= warmup:
            tokens += int((tgt[:, 1:] != 0).sum())
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return tokens / seconds


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dispositivo", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--cabezas", type=int, default=4)
    parser.add_argument("--capas", type=int, default=2)
    parser.add_argument("--d-ff", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--lote", type=int, default=64)
    parser.add_argument("--longitud", type=int, default=20)
    parser.add_argument("--pasos", type=int, default=30, help="pasos medidos (tras 5 de calentamiento)")
    parser.add_argument("--rondas", type=int, default=2, help="rondas alternando los dos modelos")
    args = parser.parse_args()
    device = torch.device(args.dispositivo)
    amp = None
    if device.type == "cuda":
        amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if amp == torch.float16:
            amp = None  # sin escalado de la pérdida, fp16 podría desbordarse: se mide en fp32
    size = (args.vocab, args.d_model, args.cabezas, args.capas, args.d_ff, 0.1)
    torch.manual_seed(0)
    ours = Transformer(args.vocab, args.vocab, *size[1:5], dropout=0.1, norm_first=True, share_embeddings=True)
    torch.manual_seed(0)
    theirs = TorchTransformer(*size)
    batches = _batches(args.pasos + 5, args.lote, args.longitud, args.vocab, device)
    results: dict[str, list[float]] = {"course_lib": [], "torch.nn.Transformer": []}
    for _ in range(args.rondas):  # alternar reparte por igual el ruido de la máquina
        results["course_lib"].append(measure(ours, batches, device, amp, 5))
        results["torch.nn.Transformer"].append(measure(theirs, batches, device, amp, 5))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    print(f"Dispositivo: {device} ({name}), hilos de PyTorch: {torch.get_num_threads()}, torch {torch.__version__}")
    print(f"Commit {_commit()} · precisión: {amp or torch.float32}")
    print(
        f"Modelo: d_model={args.d_model}, cabezas={args.cabezas}, capas={args.capas}+{args.capas}, "
        f"d_ff={args.d_ff}, vocab={args.vocab}, lote {args.lote}×{args.longitud}"
    )
    best = {k: max(v) for k, v in results.items()}
    for k, v in results.items():
        print(f"  {k:22s} {best[k]:>10,.0f} tokens/s (mejor de {len(v)}: {', '.join(f'{x:,.0f}' for x in v)})")
    print(f"Razón course_lib / torch.nn.Transformer: {best['course_lib'] / best['torch.nn.Transformer']:.2f}")


if __name__ == "__main__":
    main()
