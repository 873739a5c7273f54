"""Errores frecuentes al entrenar un traductor y al generar con él (cuaderno 07).

- :func:`label_smoothing_mistakes`: la pérdida con suavizado de etiquetas.
- :func:`noam_mistakes`: la tasa de aprendizaje con calentamiento del artículo.
- :func:`greedy_mistakes` y :func:`beam_mistakes`: la búsqueda voraz y la búsqueda en haz.

Cada función devuelve :class:`course_lib.mistakes.base.Mistakes` con ``{pista: lo que daría ese
error}``. Las salidas de la decodificación cambian de longitud según el error (una frase que no
se detiene en ``<eos>`` es más larga), así que para ellas se elige la pista con :func:`hint_for`,
que compara también la forma.

Las variantes erróneas de la decodificación se programan aquí mismo (:func:`_greedy_variant`,
:func:`_beam_variant`); siempre aplican algún error, pero por si acaso las pruebas calificadas
prohíben llamarlas (:data:`REFERENCE_PATHS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from course_lib.masks import causal_mask, padding_mask
from course_lib.mistakes.base import Mistakes

# Las pruebas calificadas prohíben llamar a estas funciones (véase course_lib.checks.forbid).
REFERENCE_PATHS = (
    "course_lib.mistakes.translator.label_smoothing_mistakes",
    "course_lib.mistakes.translator.noam_mistakes",
    "course_lib.mistakes.translator.greedy_mistakes",
    "course_lib.mistakes.translator.beam_mistakes",
    "course_lib.mistakes.translator._greedy_variant",
    "course_lib.mistakes.translator._beam_variant",
)

# --- Pérdida con suavizado de etiquetas -----------------------------------------------------------

LS_PADDING_COUNTED = (
    "parece que el relleno cuenta en la media: las posiciones con target == pad_id no son tokens "
    "de verdad. Promedia solo sobre los tokens reales: suma sus pérdidas y divide entre cuántos hay."
)
LS_NO_LOG_SOFTMAX = (
    "parece que usas los logits como si fueran log-probabilidades: aplica antes `torch.log_softmax(logits, dim=-1)`."
)
LS_NO_SMOOTHING = (
    "parece que no aplicas el suavizado: con `smoothing` = ε la pérdida es "
    "(1 - ε)·(−log p[y]) + ε·media(−log p), no solo −log p[y]."
)
LS_WEIGHTS_SWAPPED = (
    "parece que intercambiaste los pesos: la palabra correcta pesa (1 - ε) y el término uniforme pesa ε."
)
LS_OTHERS_ONLY = (
    "parece que repartes ε solo entre las V - 1 palabras incorrectas. Aquí (como en PyTorch) ε se "
    "reparte entre las V palabras, la correcta incluida: ε·media_v(−log p[v])."
)
LS_KL = (
    "parece que calculas la divergencia KL (como nn.KLDivLoss) en vez de la entropía cruzada: "
    "difieren en la entropía de la distribución suavizada, una constante. Calcula "
    "(1 - ε)·(−log p[y]) + ε·media(−log p)."
)
LS_SUM = (
    "parece que sumas las pérdidas de los tokens en vez de hacer su media: divide entre el número de tokens reales."
)
LS_UNIFORM_SUM = (
    "parece que el término uniforme suma −log p sobre las V palabras en vez de hacer su media: "
    "usa la media (o divide la suma entre V)."
)


def label_smoothing_mistakes(logits: Tensor, target: Tensor, smoothing: float, pad_id: int) -> Mistakes:
    """Errores típicos de ``label_smoothing_loss``; formas como en :func:`course_lib.train.label_smoothing_loss`."""
    V = logits.size(-1)
    logits = logits.detach().float().reshape(-1, V)  # (N, V)
    target = target.reshape(-1)  # (N,)
    real = target != pad_id  # (N,)
    n_real = real.sum().clamp(min=1)
    index = target.clamp(min=0)[:, None]  # (N, 1)
    log_probs = torch.log_softmax(logits, dim=-1)  # (N, V)
    nll = -log_probs.gather(1, index).squeeze(1)  # (N,)
    uniform = -log_probs.mean(dim=-1)  # (N,)
    eps = float(smoothing)

    def mean(per_token: Tensor) -> Tensor:
        return (per_token * real).sum() / n_real

    others = (-log_probs.sum(dim=-1) - nll) / max(V - 1, 1)  # (N,) media de −log p sobre las incorrectas
    q_correct, q_other = 1 - eps + eps / V, eps / V  # la distribución suavizada
    entropy = -(q_correct * math.log(q_correct) + (V - 1) * (q_other * math.log(q_other) if q_other > 0 else 0.0))
    outputs = {
        LS_PADDING_COUNTED: ((1 - eps) * nll + eps * uniform).mean(),
        LS_NO_LOG_SOFTMAX: mean((1 - eps) * -logits.gather(1, index).squeeze(1) + eps * -logits.mean(dim=-1)),
        LS_NO_SMOOTHING: mean(nll),
        LS_WEIGHTS_SWAPPED: mean(eps * nll + (1 - eps) * uniform),
        LS_OTHERS_ONLY: mean((1 - eps) * nll + eps * others),
        LS_KL: mean((1 - eps) * nll + eps * uniform) - entropy,
        LS_SUM: ((1 - eps) * nll + eps * uniform)[real].sum(),
        LS_UNIFORM_SUM: mean((1 - eps) * nll + eps * uniform * V),
    }
    if eps == 0:  # con ε = 0 varios errores dan lo mismo que la respuesta correcta
        outputs = {hint: outputs[hint] for hint in (LS_PADDING_COUNTED, LS_NO_LOG_SOFTMAX, LS_SUM)}
    return Mistakes.from_outputs(outputs)


# --- Tasa de aprendizaje con calentamiento --------------------------------------------------------

NOAM_NO_WARMUP = (
    "parece que falta el calentamiento: durante los `warmup` primeros pasos la tasa debe SUBIR en "
    "línea recta (step · warmup^-1.5) y solo después bajar como step^-0.5. Usa el mínimo de los dos."
)
NOAM_NO_DMODEL = (
    "parece que falta el factor d_model^-0.5 delante: `lr = d_model**-0.5 · min(step**-0.5, step · warmup**-1.5)`."
)
NOAM_DMODEL_SIGN = "parece que multiplicas por d_model**0.5: el exponente de d_model es −0,5 (d_model**-0.5)."
NOAM_WARMUP_EXPONENT = (
    "parece que el exponente de warmup no es −1,5: la rama de subida es step · warmup**-1.5, "
    "que vale lo mismo que step**-0.5 justo en step = warmup."
)
NOAM_MAX = "parece que usas el máximo de las dos ramas: es el MÍNIMO, min(step**-0.5, step · warmup**-1.5)."
NOAM_SQRT_DECAY = (
    "parece que la caída no es step**-0.5: después del calentamiento la tasa baja como 1/√step (exponente −0,5)."
)
NOAM_PEAK = (
    "el máximo de la tasa debe estar justo en step = warmup: sube en línea recta hasta ahí y luego baja como 1/√step."
)


def noam_mistakes(steps: Sequence[int], d_model: int, warmup: int) -> Mistakes:
    """Errores típicos de ``noam_lr``: lo que daría cada uno en los pasos ``steps`` (tensor ``(len(steps),)``)."""
    s = torch.tensor([float(step) for step in steps], dtype=torch.float64)
    rise, decay = s * warmup**-1.5, s**-0.5
    scale = d_model**-0.5
    return Mistakes.from_outputs(
        {
            NOAM_NO_WARMUP: scale * decay,
            NOAM_NO_DMODEL: torch.minimum(decay, rise),
            NOAM_DMODEL_SIGN: d_model**0.5 * torch.minimum(decay, rise),
            NOAM_WARMUP_EXPONENT: scale * torch.minimum(decay, s * warmup**-0.5),
            NOAM_MAX: scale * torch.maximum(decay, rise),
            NOAM_SQRT_DECAY: scale * torch.minimum(s**-1.0, s * warmup**-2.0),
        }
    )


# --- Decodificación -------------------------------------------------------------------------------

GREEDY_NO_STOP = (
    "parece que la generación no se detiene en <eos>: una frase que ya generó eos_id ha terminado; "
    "a partir de ahí solo recibe relleno (model.pad_id), y el bucle acaba cuando todas han terminado."
)
GREEDY_NOT_FED_BACK = (
    "parece que el decodificador no recibe lo que va generando: en cada paso hay que añadir el token "
    "elegido a la entrada (torch.cat) y tomar la predicción de la ÚLTIMA posición, logits[:, -1]."
)
GREEDY_NO_PADDING = (
    "parece que las frases que ya terminaron siguen generando tokens mientras esperan a las demás: "
    "después de su <eos> solo debe haber relleno (model.pad_id)."
)
GREEDY_PAD_ZERO = "parece que rellenas con 0: el relleno es model.pad_id, que no tiene por qué ser 0."
GREEDY_NO_SOS = "parece que falta <sos> al principio: cada fila de la salida empieza por sos_id."
GREEDY_NO_BREAK = (
    "parece que el bucle sigue hasta max_len aunque todas las frases hayan terminado: en cuanto todas "
    "han generado <eos>, sal del bucle (la salida mide lo que la frase más larga)."
)
GREEDY_MAX_LEN = "parece que generas un token de más: como mucho max_len tokens nuevos, además de <sos>."
BEAM_NO_PENALTY = (
    "parece que no aplicas la penalización por longitud: la puntuación final de una hipótesis "
    "terminada es su suma de log-probabilidades dividida entre ((5 + n) / 6) ** length_penalty."
)
BEAM_NO_STOP = (
    "parece que las hipótesis siguen creciendo después de <eos>: una candidata que termina en eos_id "
    "sale del haz y se guarda como terminada; no se le añaden más tokens."
)
BEAM_NO_LOG_SOFTMAX = (
    "parece que sumas logits sin normalizar: aplica `torch.log_softmax` a los logits de la última "
    "posición antes de sumarlos a la puntuación de cada hipótesis."
)
BEAM_NOT_CUMULATIVE = (
    "parece que ordenas las candidatas solo por la log-probabilidad del último token: la puntuación "
    "de una hipótesis es la SUMA de las log-probabilidades de todos sus tokens."
)
BEAM_GREEDY = (
    "parece que devuelves lo mismo que la búsqueda voraz: en cada paso hay que conservar las "
    "beam_size mejores hipótesis, no solo la mejor."
)
BEAM_WRONG_PENALTY = (
    "parece que la penalización por longitud no es la de GNMT: divide entre ((5 + n) / 6) ** length_penalty, "
    "con n los tokens generados, <eos> incluido (sin contar <sos>)."
)
BEAM_PAD_ZERO = GREEDY_PAD_ZERO
BEAM_NO_SOS = GREEDY_NO_SOS

_GREEDY = ("no_para", "no_realimenta", "sin_relleno", "relleno_cero", "sin_sos", "no_sale", "uno_de_mas")
_BEAM = ("sin_penalizacion", "no_para", "sin_log_softmax", "no_acumula", "voraz", "penalizacion_n", "relleno_cero")


def _prepare(model: nn.Module, src: Tensor) -> tuple[int, Tensor, Tensor]:
    pad_id = getattr(model, "pad_id", 0)
    src_mask = padding_mask(src, pad_id)  # (B, 1, 1, T_src)
    return pad_id, src_mask, model.encode(src, src_mask)


def _logits(model: nn.Module, ys: Tensor, memory: Tensor, src_mask: Tensor) -> Tensor:
    return model.decode(ys, memory, src_mask, causal_mask(ys.size(1)).to(ys.device))  # (N, t, V)


@torch.no_grad()
def _greedy_variant(model: nn.Module, src: Tensor, max_len: int, sos_id: int, eos_id: int, mistake: str) -> Tensor:
    """La búsqueda voraz con el error ``mistake`` (uno de ``_GREEDY``)."""
    if mistake not in _GREEDY:
        raise ValueError(f"Error desconocido {mistake!r}; elige uno de {_GREEDY}.")
    model.eval()
    pad_id, src_mask, memory = _prepare(model, src)
    fill = 0 if mistake == "relleno_cero" else pad_id
    ys = torch.full((src.size(0), 1), sos_id, dtype=torch.long, device=src.device)  # (B, 1)
    finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)  # (B,)
    for _ in range(max_len + (mistake == "uno_de_mas")):
        logits = _logits(model, ys, memory, src_mask)  # (B, t, V)
        next_token = logits[:, 0 if mistake == "no_realimenta" else -1].argmax(dim=-1)  # (B,)
        if mistake not in ("no_para", "sin_relleno"):
            next_token = next_token.masked_fill(finished, fill)
        ys = torch.cat([ys, next_token[:, None]], dim=1)  # (B, t + 1)
        finished = finished | (next_token == eos_id)
        if bool(finished.all()) and mistake not in ("no_para", "no_sale"):
            break
    return ys[:, 1:] if mistake == "sin_sos" else ys


@torch.no_grad()
def _beam_variant(
    model: nn.Module,
    src: Tensor,
    beam_size: int,
    max_len: int,
    sos_id: int,
    eos_id: int,
    length_penalty: float,
    mistake: str,
) -> Tensor:
    """La búsqueda en haz con el error ``mistake`` (uno de ``_BEAM``), frase a frase."""
    if mistake not in _BEAM:
        raise ValueError(f"Error desconocido {mistake!r}; elige uno de {_BEAM}.")
    if mistake == "voraz":
        beam_size = 1
    model.eval()
    pad_id, src_mask_all, memory_all = _prepare(model, src)
    alpha = 0.0 if mistake == "sin_penalizacion" else length_penalty

    def normalized(score: float, n: int) -> float:
        if mistake == "penalizacion_n":
            return score / max(n, 1) ** alpha
        return score / ((5 + n) / 6) ** alpha

    stop = mistake != "no_para"
    best = []
    for b in range(src.size(0)):
        src_mask, memory = src_mask_all[b : b + 1], memory_all[b : b + 1]
        beams: list[tuple[list[int], float]] = [([sos_id], 0.0)]
        finished: list[tuple[float, list[int]]] = []
        for step in range(1, max_len + 1):
            ys = torch.tensor([tokens for tokens, _ in beams], dtype=torch.long, device=src.device)  # (k, t)
            logits = _logits(model, ys, memory.expand(len(beams), *memory.shape[1:]), src_mask)[:, -1].float()
            log_probs = logits if mistake == "sin_log_softmax" else torch.log_softmax(logits, dim=-1)  # (k, V)
            candidates = []
            for (tokens, score), row in zip(beams, log_probs.tolist(), strict=True):
                base = 0.0 if mistake == "no_acumula" else score
                candidates += [(base + lp, tokens + [token]) for token, lp in enumerate(row)]
            candidates.sort(key=lambda c: c[0], reverse=True)
            candidates = candidates[: 2 * beam_size]
            if stop:
                for score, tokens in candidates[:beam_size]:
                    if tokens[-1] == eos_id:
                        finished.append((normalized(score, step), tokens))
                finished = sorted(finished, key=lambda f: f[0], reverse=True)[:beam_size]
                beams = [(tokens, score) for score, tokens in candidates if tokens[-1] != eos_id][:beam_size]
                if len(finished) == beam_size and normalized(beams[0][1], step) <= finished[-1][0]:
                    break
            else:
                beams = [(tokens, score) for score, tokens in candidates[:beam_size]]
        else:
            finished += [(normalized(score, len(tokens) - 1), tokens) for tokens, score in beams]
        best.append(max(finished, key=lambda f: f[0])[1])
    fill = 0 if mistake == "relleno_cero" else pad_id
    out = torch.full((src.size(0), max(len(t) for t in best)), fill, dtype=torch.long, device=src.device)
    for b, tokens in enumerate(best):
        out[b, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
    return out


def greedy_mistakes(model: nn.Module, src: Tensor, max_len: int, sos_id: int, eos_id: int) -> Mistakes:
    """Errores típicos de ``greedy_decode``; argumentos como en :func:`course_lib.decode.greedy_decode`."""
    hints = {
        "no_para": GREEDY_NO_STOP,
        "no_realimenta": GREEDY_NOT_FED_BACK,
        "sin_relleno": GREEDY_NO_PADDING,
        "relleno_cero": GREEDY_PAD_ZERO,
        "sin_sos": GREEDY_NO_SOS,
        "no_sale": GREEDY_NO_BREAK,
        "uno_de_mas": GREEDY_MAX_LEN,
    }
    return Mistakes.from_outputs(
        {hint: _greedy_variant(model, src, max_len, sos_id, eos_id, name) for name, hint in hints.items()}
    )


def beam_mistakes(
    model: nn.Module,
    src: Tensor,
    beam_size: int,
    max_len: int,
    sos_id: int,
    eos_id: int,
    length_penalty: float = 0.6,
) -> Mistakes:
    """Errores típicos de ``beam_search``; argumentos como en :func:`course_lib.decode.beam_search`."""
    hints = {
        "sin_penalizacion": BEAM_NO_PENALTY,
        "no_para": BEAM_NO_STOP,
        "sin_log_softmax": BEAM_NO_LOG_SOFTMAX,
        "no_acumula": BEAM_NOT_CUMULATIVE,
        "voraz": BEAM_GREEDY,
        "penalizacion_n": BEAM_WRONG_PENALTY,
        "relleno_cero": BEAM_PAD_ZERO,
    }
    return Mistakes.from_outputs(
        {
            hint: _beam_variant(model, src, beam_size, max_len, sos_id, eos_id, length_penalty, name)
            for name, hint in hints.items()
        }
    )


def hint_for(obtained: Any, expected: Tensor, found: Mistakes, default: str) -> str:
    """La pista del error conocido que explica ``obtained``; si ninguno, ``default``.

    Primero busca un error que dé exactamente ``obtained`` (misma forma y valores); si no lo hay
    y la forma de ``obtained`` no es la esperada, uno que dé al menos esa misma forma.
    """
    if not isinstance(obtained, Tensor):
        return default
    same_shape = [(hint, wrong) for hint, wrong in found.out.items() if tuple(wrong.shape) == tuple(obtained.shape)]
    for hint, wrong in same_shape:
        if torch.allclose(obtained.detach().double(), wrong.detach().double(), atol=1e-5, rtol=1e-4):
            return hint
    if tuple(obtained.shape) != tuple(expected.shape) and same_shape:
        return same_shape[0][0]
    return default
