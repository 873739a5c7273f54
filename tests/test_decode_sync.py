"""Pruebas de que course_lib.decode no hace esperar a la GPU en cada paso, y de que da los mismos
tokens que antes de quitar esas esperas.

Sin GPU, las esperas se cuentan en la CPU: cada lectura de un tensor desde Python (``bool(t)``,
``int(t)``, ``float(t)``, ``t.item()``, ``t.tolist()``, ``t.__index__()``, un ``if`` sobre un
tensor) sería en una GPU una espera a que acabe todo lo pendiente. Las operaciones que esperan
dentro de PyTorch sin pasar por Python (``torch.nonzero``, indexar con una máscara booleana,
``.to("cuda")`` desde la CPU) no se cuentan: el módulo no las usa dentro de los bucles.

``old_greedy_decode`` y ``old_beam_search`` son copias de los bucles de antes (una lectura por
paso en la voraz; varias por paso y por frase en la de haz): son la referencia de los tokens y
muestran que el recuento detecta una lectura por paso.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from course_lib import Transformer, decode
from course_lib.decode import SYNC_EVERY, _NextToken, beam_search, greedy_decode
from course_lib.masks import padding_mask
from tests.lecturas import device_reads
from tests.test_decode import CASES, EOS, SOS, TRAP, MarkovStub, random_source, random_translator

# --- Los bucles de antes, copiados tal cual (la referencia) ----------------------------------------


@torch.no_grad()
def old_greedy_decode(
    model: nn.Module, src: Tensor, max_len: int, sos_id: int, eos_id: int, *, use_cache: bool = True
) -> Tensor:
    """La voraz de antes: mira en cada paso si todas las frases han terminado."""
    pad_id = getattr(model, "pad_id", 0)
    src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
    memory = model.encode(src, src_mask)  # (B, T_src, D)
    next_log_probs = _NextToken(model, memory, src_mask, 1, use_cache, max_len)
    ys = torch.full((src.size(0), 1), sos_id, dtype=torch.long, device=src.device)  # (B, 1)
    finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)  # (B,)
    for _ in range(max_len):
        next_token = next_log_probs(ys).argmax(dim=-1)  # (B,)
        next_token = next_token.masked_fill(finished, pad_id)  # las frases acabadas solo rellenan
        ys = torch.cat([ys, next_token[:, None]], dim=1)  # (B, t + 1)
        finished |= next_token == eos_id
        if bool(finished.all()):
            break
    return ys


def _old_length_penalty(length: Tensor, alpha: float) -> Tensor:
    """Penalización de longitud de GNMT, en un tensor (como antes)."""
    return ((5.0 + length.float()) / 6.0) ** alpha


@torch.no_grad()
def old_beam_search(
    model: nn.Module,
    src: Tensor,
    k: int,
    max_len: int,
    sos_id: int,
    eos_id: int,
    alpha: float = 0.6,
    *,
    use_cache: bool = True,
) -> Tensor:
    """La búsqueda en haz de antes: las hipótesis terminadas en listas de Python."""
    pad_id = getattr(model, "pad_id", 0)
    B, device = src.size(0), src.device
    src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
    memory = model.encode(src, src_mask)  # (B, T_src, D)
    next_log_probs = _NextToken(model, memory, src_mask, k, use_cache, max_len)
    ys = torch.full((B * k, 1), sos_id, dtype=torch.long, device=device)  # (B·k, 1)
    scores = torch.full((B, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # (B, k)
    finished: list[list[tuple[float, Tensor]]] = [[] for _ in range(B)]  # (puntuación final, tokens), mejor 1.º
    done = [False] * B

    for step in range(1, max_len + 1):
        log_probs = next_log_probs(ys)  # (B·k, V)
        V = log_probs.size(-1)
        candidates = (scores.reshape(B * k, 1) + log_probs).reshape(B, k * V)  # (B, k·V)
        top_scores, top_index = candidates.topk(min(2 * k, k * V), dim=-1)  # (B, 2k)
        origin, token = top_index // V, top_index % V
        ends = token == eos_id  # (B, 2k)
        penalty = _old_length_penalty(torch.tensor(step), alpha).item()
        for b, j in torch.nonzero(ends[:, :k]).tolist():
            if not done[b] and top_scores[b, j] > float("-inf"):
                prefix = ys[b * k + int(origin[b, j])]
                finished[b].append((float(top_scores[b, j]) / penalty, torch.cat([prefix, token[b, j].reshape(1)])))
                finished[b] = sorted(finished[b], key=lambda option: -option[0])[:k]
        keep_scores, keep = top_scores.masked_fill(ends, float("-inf")).topk(k, dim=-1)  # (B, k)
        rows = (torch.arange(B, device=device)[:, None] * k + origin.gather(1, keep)).reshape(-1)  # (B·k,)
        ys = torch.cat([ys[rows], token.gather(1, keep).reshape(-1, 1)], dim=1)  # (B·k, step + 1)
        next_log_probs.reorder(rows)
        scores = keep_scores
        best_open = (scores.max(dim=-1).values / penalty).tolist()
        for b in range(B):
            done[b] = done[b] or (len(finished[b]) >= k and best_open[b] <= finished[b][-1][0])
        if all(done):
            break

    best = []
    for b in range(B):
        options = list(finished[b])
        if not done[b]:
            n = ys.size(1) - 1
            penalty = _old_length_penalty(torch.tensor(n), alpha).item()
            options += [
                (float(scores[b, i]) / penalty, ys[b * k + i]) for i in range(k) if scores[b, i] > float("-inf")
            ]
        best.append(max(options, key=lambda option: option[0])[1])
    out = torch.full((B, max(len(t) for t in best)), pad_id, dtype=torch.long, device=device)
    for b, tokens in enumerate(best):
        out[b, : len(tokens)] = tokens
    return out


# --- Contar las lecturas del dispositivo ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Modelos diminutos: con un hilo (la fixture ``one_thread`` de conftest)."""


@pytest.fixture
def gpu_schedule(monkeypatch) -> None:
    """Comprobar la parada cada ``SYNC_EVERY`` pasos, como en una GPU, aunque se corra en la CPU."""
    monkeypatch.setattr(decode, "_check_every", lambda device: SYNC_EVERY)


def never_ending_translator(seed: int = 0) -> Transformer:
    """Un Transformer pequeño con pesos aleatorios que nunca genera ``<eos>``: llega siempre a ``max_len``."""
    torch.manual_seed(seed)
    model = Transformer(30, 30, d_model=16, n_heads=2, n_layers=2, d_ff=32).eval()
    with torch.no_grad():
        model.generator.bias[EOS] = -1e9
    return model


def run_search(search: str, model: nn.Module, src: Tensor, steps: int, *, use_cache: bool = True, old: bool = False):
    """La voraz o la búsqueda en haz (k = 3), nuevas o de antes, durante ``steps`` pasos."""
    if search == "voraz":
        return (old_greedy_decode if old else greedy_decode)(model, src, steps, SOS, EOS, use_cache=use_cache)
    return (old_beam_search if old else beam_search)(model, src, 3, steps, SOS, EOS, 0.6, use_cache=use_cache)


@pytest.mark.parametrize("use_cache", [True, False], ids=["caché", "sin caché"])
@pytest.mark.parametrize("search", ["voraz", "haz"])
def test_decoding_reads_the_device_only_every_sync_every_steps(search, use_cache, reads, gpu_schedule):
    """Con el calendario de la GPU, las lecturas no crecen con los pasos: una cada ``SYNC_EVERY`` y una al final."""
    model, src = never_ending_translator(), torch.randint(4, 30, (3, 5))
    for steps in (24, 48):
        reads.clear()
        out = run_search(search, model, src, steps, use_cache=use_cache)
        assert out.shape == (3, steps + 1), "la prueba necesita frases que no acaben"
        assert device_reads(reads) <= steps // SYNC_EVERY + 1, f"{steps} pasos: {dict(reads)}"


@pytest.mark.parametrize("search", ["voraz", "haz"])
def test_the_old_loops_read_the_device_every_step(search, reads):
    """El recuento sí detecta una lectura por paso: los bucles de antes pasan del límite, y más con más pasos."""
    model, src = never_ending_translator(), torch.randint(4, 30, (3, 5))
    counts = {}
    for steps in (24, 48):
        reads.clear()
        run_search(search, model, src, steps, old=True)
        counts[steps] = device_reads(reads)
        assert counts[steps] > steps // SYNC_EVERY + 1
    assert counts[48] - counts[24] >= 24, counts


@pytest.mark.parametrize("search", ["voraz", "haz"])
def test_on_the_cpu_the_stop_is_checked_every_step(search, reads):
    """En la CPU (leer es gratis) se mira en cada paso si se puede parar, y se para en cuanto se puede."""
    model, src = never_ending_translator(), torch.randint(4, 30, (3, 5))
    run_search(search, model, src, 24)
    assert device_reads(reads) == 24 + 1, dict(reads)
    stub, old_stub = MarkovStub(TRAP), MarkovStub(TRAP)
    run_search(search, stub, torch.full((2, 3), 7), 50)
    run_search(search, old_stub, torch.full((2, 3), 7), 50, old=True)
    assert stub.calls == old_stub.calls < SYNC_EVERY, "en la CPU se llama al modelo tantas veces como antes"


# --- Los mismos tokens que antes ------------------------------------------------------------------


# (lote, haz, penalización de longitud, caché)
SEARCHES = [(batch, k, alpha, True) for batch in (1, 5) for k in (2, 4, 5) for alpha in (0.0, 0.6, 2.0)]
SEARCHES += [(5, 4, 0.6, False), (3, 3, 1.0, False)]


@pytest.mark.parametrize("schedule", ["cpu", "gpu"])
@pytest.mark.parametrize(("norm_first", "seed", "eos"), CASES, ids=["post-LN-a", "post-LN-b", "pre-LN-a", "pre-LN-b"])
def test_same_tokens_as_the_old_loops(norm_first, seed, eos, schedule, monkeypatch):
    """Transformers aleatorios, varios tamaños de lote y de haz, varias penalizaciones de longitud, con
    caché y sin ella, comprobando la parada en cada paso o cada ``SYNC_EVERY``: los tokens de antes."""
    if schedule == "gpu":
        monkeypatch.setattr(decode, "_check_every", lambda device: SYNC_EVERY)
    model, src = random_translator(norm_first, seed), random_source(seed)
    for use_cache in (True, False):
        old = old_greedy_decode(model, src, 12, SOS, eos, use_cache=use_cache)
        assert torch.equal(greedy_decode(model, src, 12, SOS, eos, use_cache=use_cache), old), f"voraz, {use_cache=}"
    ends = {row.index(eos) if eos in row else None for row in old.tolist()}
    assert len(ends) > 1, "la prueba necesita frases que acaben en pasos distintos (o que no acaben)"
    for batch, k, alpha, use_cache in SEARCHES:
        new = beam_search(model, src[:batch], k, 12, SOS, eos, alpha, use_cache=use_cache)
        old = old_beam_search(model, src[:batch], k, 12, SOS, eos, alpha, use_cache=use_cache)
        assert torch.equal(new, old), f"haz: B={batch}, k={k}, α={alpha}, caché={use_cache}"


@pytest.mark.parametrize("seed", range(3))
def test_same_tokens_as_the_old_loops_on_markov_models(seed, gpu_schedule):
    """Modelos de Markov aleatorios con <eos> probable: muchas frases acaban pronto y en pasos distintos,
    y las puntuaciones empatan a menudo (tablas con valores repetidos)."""
    torch.manual_seed(seed)
    table = torch.randint(1, 4, (7, 7)).float()  # pocos valores distintos: empates
    table[:, 0] = 0  # nunca <pad>
    table[EOS] = torch.tensor([0, 0, 1, 0, 0, 0, 0])

    class PerSource(MarkovStub):
        """El primer token del origen cambia las probabilidades, para que cada frase sea distinta."""

        def encode(self, src, src_mask):
            return src[:, :1, None].float()  # (B, 1, 1)

        def decode(self, tgt, memory, src_mask, tgt_mask):
            return super().decode(tgt, memory, src_mask, tgt_mask) * (1 + memory[:, :1, :] / 4)

    model, src = PerSource(table.tolist()), torch.arange(6)[:, None].repeat(1, 2)
    assert torch.equal(greedy_decode(model, src, 20, SOS, EOS), old_greedy_decode(model, src, 20, SOS, EOS))
    for k in (1, 2, 3, 6):
        for alpha in (0.0, 0.6, 1.0):
            new = beam_search(model, src, k, 20, SOS, EOS, alpha)
            assert torch.equal(new, old_beam_search(model, src, k, 20, SOS, EOS, alpha)), f"k={k}, α={alpha}"


def test_the_gpu_schedule_trims_the_extra_steps(gpu_schedule):
    """Con comprobaciones cada ``SYNC_EVERY`` pasos se decodifica de más, pero la salida es la de antes."""
    model = MarkovStub(TRAP)
    out = greedy_decode(model, torch.full((2, 3), 7), 50, SOS, EOS)
    assert out.tolist() == [[SOS, 3, EOS]] * 2
    assert model.calls == SYNC_EVERY, "se para en la primera comprobación tras acabar todas"
    assert beam_search(MarkovStub(TRAP), torch.full((2, 3), 7), 2, 50, SOS, EOS, 0.0).tolist() == [[SOS, 4, EOS]] * 2
