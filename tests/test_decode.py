"""Pruebas de course_lib.decode: búsqueda voraz y en haz, con modelos de probabilidades conocidas,
y la decodificación incremental (con caché) frente a la directa."""

import pytest
import torch
from torch import Tensor, nn

from course_lib import Transformer
from course_lib.decode import beam_search, greedy_decode, strip_special

PAD, SOS, EOS, A, B = 0, 1, 2, 3, 4


class MarkovStub(nn.Module):
    """Modelo falso: la probabilidad del siguiente token solo depende del último (tabla ``P``)."""

    pad_id = PAD

    def __init__(self, table: list[list[float]]) -> None:
        super().__init__()
        P = torch.tensor(table, dtype=torch.float) + 1e-12
        self.register_buffer("log_P", (P / P.sum(-1, keepdim=True)).log())
        self.calls = 0

    def encode(self, src, src_mask):
        return torch.zeros(src.size(0), src.size(1), 2)

    def decode(self, tgt, memory, src_mask, tgt_mask):
        self.calls += 1
        return self.log_P[tgt]  # (B, T, V): logits = log-probabilidades


# Voraz: sos→A (0.5) y A→A/B empatados a 0.3 con EOS 0.4 → «A <eos>» (0.5·0.4 = 0.20).
# Mejor: sos→B (0.45) y B→EOS (0.9) → «B <eos>» (0.405).
TRAP = [
    [0, 0, 1, 0, 0],  # tras <pad>
    [0, 0, 0.05, 0.5, 0.45],  # tras <sos>
    [0, 0, 1, 0, 0],  # tras <eos>
    [0, 0, 0.4, 0.35, 0.25],  # tras A
    [0, 0, 0.9, 0.05, 0.05],  # tras B
]


def _src(batch=2):
    return torch.full((batch, 3), 7, dtype=torch.long)


def test_greedy_follows_the_most_likely_token_and_stops_at_eos():
    """La voraz elige A y luego <eos>; la fila empieza por <sos>."""
    out = greedy_decode(MarkovStub(TRAP), _src(), max_len=10, sos_id=SOS, eos_id=EOS)
    assert out.tolist() == [[SOS, A, EOS]] * 2


def test_beam_finds_the_more_probable_sentence():
    """Con k=2 la búsqueda en haz encuentra «B <eos>», más probable que la voraz «A <eos>»."""
    out = beam_search(MarkovStub(TRAP), _src(), beam_size=2, max_len=10, sos_id=SOS, eos_id=EOS, length_penalty=0.0)
    assert out.tolist() == [[SOS, B, EOS]] * 2


def test_rows_end_at_different_times_and_are_padded():
    """Cada fila para en su <eos> y se rellena después; max_len corta las que no acaban."""

    class TwoRows(MarkovStub):
        """Las frases cuyo origen empieza por 8 nunca acaban: siempre A."""

        def encode(self, src, src_mask):
            return src[:, :1, None].float()  # (B, 1, 1): el primer token de origen

        def decode(self, tgt, memory, src_mask, tgt_mask):
            logits = super().decode(tgt, memory, src_mask, tgt_mask).clone()
            forever = memory[:, 0, 0] == 8  # (B,)
            logits[forever] = torch.tensor([-30.0, -30.0, -30.0, 0.0, -30.0])
            return logits

    src = torch.tensor([[7, 7, 7], [8, 7, 7]])
    out = greedy_decode(TwoRows(TRAP), src, max_len=4, sos_id=SOS, eos_id=EOS)
    assert out.tolist() == [[SOS, A, EOS, PAD, PAD], [SOS, A, A, A, A]]
    beam = beam_search(TwoRows(TRAP), src, beam_size=3, max_len=4, sos_id=SOS, eos_id=EOS, length_penalty=0.0)
    assert beam.tolist() == [[SOS, B, EOS, PAD, PAD], [SOS, A, A, A, A]]


def test_greedy_stops_when_every_row_ended():
    """No sigue llamando al modelo cuando todas las frases han terminado."""
    model = MarkovStub(TRAP)
    greedy_decode(model, _src(), max_len=50, sos_id=SOS, eos_id=EOS)
    assert model.calls == 2


@pytest.mark.parametrize("seed", range(4))
def test_beam_of_size_one_is_greedy(seed):
    """k = 1 da exactamente la búsqueda voraz, con un Transformer aleatorio y relleno en el origen."""
    torch.manual_seed(seed)
    model = Transformer(30, 30, d_model=16, n_heads=2, n_layers=1, d_ff=32).eval()
    src = torch.randint(4, 30, (5, 6))
    src[0, 4:] = 0
    for eos in (2, 9):  # también con un <eos> que aparece pronto
        expected = greedy_decode(model, src, 12, SOS, eos)
        assert torch.equal(beam_search(model, src, 1, 12, SOS, eos), expected)


def test_length_penalty_changes_the_choice():
    """Sin penalización gana la frase más corta; con α grande, la más larga que cabe en max_len."""
    table = [
        [0, 0, 1, 0, 0],
        [0, 0, 0.6, 0.4, 0],  # <sos>: acabar ya (0.6) o A (0.4)
        [0, 0, 1, 0, 0],
        [0, 0, 0.9, 0.1, 0],  # A: acabar (0.9) o seguir con A (0.1)
        [0, 0, 1, 0, 0],
    ]
    # log P: «<eos>» −0.51, «A <eos>» −1.02, «A A <eos>» −3.32; penalización ((5 + n) / 6) ** α.
    for alpha, expected in [(0.0, [SOS, EOS]), (3.0, [SOS, EOS]), (20.0, [SOS, A, A, EOS])]:
        out = beam_search(MarkovStub(table), _src(1), 3, 3, SOS, EOS, length_penalty=alpha)
        assert out.tolist() == [expected], f"α = {alpha}"


def test_decoders_restore_training_mode():
    """Decodifican en modo evaluación y dejan el modelo como estaba."""
    model = Transformer(10, 10, d_model=8, n_heads=2, n_layers=1, d_ff=16).train()
    greedy_decode(model, torch.randint(3, 10, (2, 3)), 3, SOS, EOS)
    beam_search(model, torch.randint(3, 10, (2, 3)), 2, 3, SOS, EOS)
    assert model.training


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"src": torch.randn(2, 3)}, "src"),
        ({"max_len": 0}, "max_len"),
        ({"beam_size": 0}, "beam_size"),
        ({"length_penalty": -1.0}, "length_penalty"),
    ],
)
def test_beam_search_errors(kwargs, message):
    """Argumentos no válidos: error en español que nombra el argumento."""
    args = {"model": MarkovStub(TRAP), "src": _src(), "beam_size": 2, "max_len": 4, "sos_id": SOS, "eos_id": EOS}
    with pytest.raises((ValueError, TypeError), match=message):
        beam_search(**{**args, **kwargs})


def test_greedy_rejects_a_model_without_encode():
    """Un modelo sin encode/decode: error que lo dice."""
    with pytest.raises(TypeError, match="encode"):
        greedy_decode(nn.Linear(2, 2), _src(), 3, SOS, EOS)


def test_strip_special():
    """Quita <sos>, corta en el primer <eos> y quita el relleno."""
    ids = torch.tensor([[SOS, 5, 6, EOS, 7], [SOS, 8, PAD, PAD, PAD]])
    assert strip_special(ids, EOS, PAD, SOS) == [[5, 6], [8]]


# --- Decodificación incremental frente a la directa ------------------------------------------------


class OnlyEncodeDecode(nn.Module):
    """El Transformer visto solo por ``pad_id``, ``encode`` y ``decode``: decodifica por el camino
    directo (todo el prefijo en cada paso, todas las posiciones proyectadas), el de antes de la caché."""

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        self.model, self.pad_id = model, model.pad_id

    def encode(self, src, src_mask):
        return self.model.encode(src, src_mask)

    def decode(self, tgt, memory, src_mask, tgt_mask):
        return self.model.decode(tgt, memory, src_mask, tgt_mask)  # (N, t, V)


def random_translator(norm_first: bool, seed: int) -> Transformer:
    """Un Transformer pequeño con pesos aleatorios (normas y sesgos incluidos)."""
    torch.manual_seed(seed)
    model = Transformer(40, 30, d_model=16, n_heads=2, n_layers=2, d_ff=32, norm_first=norm_first).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


# (norm_first, semilla, eos_id): con ese <eos> unas frases acaban antes que otras y alguna no acaba.
CASES = [(False, 1, 25), (False, 2, 22), (True, 0, 14), (True, 2, 20)]


def random_source(seed: int) -> Tensor:
    """``(5, 7)`` con relleno al final de tres de las frases."""
    torch.manual_seed(100 + seed)
    src = torch.randint(4, 40, (5, 7))
    src[1, 3:], src[2, 5:], src[4, 1:] = PAD, PAD, PAD
    return src


def spy(target, name: str, log: list[Tensor], monkeypatch) -> None:
    """Sustituye ``target.name`` por una versión que guarda las log-probabilidades de la última posición."""
    original = getattr(target, name)

    def recorded(*args, **kwargs):
        logits = original(*args, **kwargs)
        last = logits if logits.dim() == 2 else logits[:, -1]  # decode_step da (N, V); decode, (N, t, V)
        log.append(torch.log_softmax(last.float(), dim=-1))
        return logits

    monkeypatch.setattr(target, name, recorded)


def decode_three_ways(model: Transformer, src: Tensor, beam: int | None, eos: int, monkeypatch):
    """Salidas y log-probabilidades de cada paso por los tres caminos: directo, solo la última
    posición (``use_cache=False``) y con caché."""
    max_len = 12

    def run(m, **kwargs):
        if beam is None:
            return greedy_decode(m, src, max_len, SOS, eos, **kwargs)
        return beam_search(m, src, beam, max_len, SOS, eos, **kwargs)

    direct, last, cached = [], [], []
    plain = OnlyEncodeDecode(model)
    spy(plain.model, "decode", direct, monkeypatch)
    outputs = {"directo": run(plain)}
    monkeypatch.undo()
    spy(model, "decode", last, monkeypatch)
    outputs["última posición"] = run(model, use_cache=False)
    monkeypatch.undo()
    spy(model, "decode_step", cached, monkeypatch)
    full_prefix: list[Tensor] = []
    spy(model, "decode", full_prefix, monkeypatch)
    outputs["caché"] = run(model)
    assert not full_prefix, "con caché no se debe volver a pasar el prefijo entero por decode"
    return outputs, {"directo": direct, "última posición": last, "caché": cached}


@pytest.mark.parametrize("beam", [None, 1, 4], ids=["voraz", "haz-1", "haz-4"])
@pytest.mark.parametrize(("norm_first", "seed", "eos"), CASES, ids=["post-LN-a", "post-LN-b", "pre-LN-a", "pre-LN-b"])
def test_cached_decoding_gives_the_same_tokens_and_scores(norm_first, seed, eos, beam, monkeypatch):
    """Con caché, solo con la última posición o por el camino directo: los mismos tokens, y en cada
    paso las mismas log-probabilidades (hasta 1e-5), con relleno en el origen y varias frases."""
    model = random_translator(norm_first, seed)
    outputs, steps = decode_three_ways(model, random_source(seed), beam, eos, monkeypatch)
    reference = outputs["directo"]
    ends = [row.index(eos) if eos in row else None for row in reference.tolist()]
    assert len(set(ends)) > 1, "la prueba necesita frases que acaben en momentos distintos"
    for name in ("última posición", "caché"):
        assert torch.equal(outputs[name], reference), f"{name}: tokens distintos de los del camino directo"
        assert len(steps[name]) == len(steps["directo"]), f"{name}: otro número de pasos"
        for t, (ours, expected) in enumerate(zip(steps[name], steps["directo"], strict=True)):
            torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0, msg=f"{name}, paso {t + 1}")


@pytest.mark.parametrize(("norm_first", "seed", "eos"), CASES[1:3], ids=["post-LN", "pre-LN"])
def test_cached_greedy_is_beam_of_size_one(norm_first, seed, eos):
    """Con la caché y sin ella, la búsqueda en haz con k = 1 sigue siendo la voraz."""
    model, src = random_translator(norm_first, seed), random_source(seed)
    for use_cache in (True, False):
        expected = greedy_decode(model, src, 12, SOS, eos, use_cache=use_cache)
        assert torch.equal(beam_search(model, src, 1, 12, SOS, eos, use_cache=use_cache), expected)


def test_a_model_that_does_not_declare_the_cache_decodes_directly(monkeypatch):
    """Una subclase que cambia `decode` no usa la caché (daría otra cosa): pasa el prefijo entero por su `decode`."""

    class Sharper(Transformer):
        def decode(self, tgt, memory, src_mask=None, tgt_mask=None, *, last_only=False):
            return 3 * super().decode(tgt, memory, src_mask, tgt_mask, last_only=last_only)

    model = random_translator(True, 0)
    sharper = Sharper(config=model.config).eval()
    sharper.load_state_dict(model.state_dict())
    steps: list[Tensor] = []
    spy(sharper, "decode_step", steps, monkeypatch)
    src = random_source(0)
    for beam in (None, 3):
        if beam is None:
            out, expected = (
                greedy_decode(sharper, src, 6, SOS, 14),
                greedy_decode(OnlyEncodeDecode(sharper), src, 6, SOS, 14),
            )
        else:
            out = beam_search(sharper, src, beam, 6, SOS, 14)
            expected = beam_search(OnlyEncodeDecode(sharper), src, beam, 6, SOS, 14)
        assert torch.equal(out, expected)
    assert not steps, "sin declararlo, decode_step no se usa"
