"""Un paso de optimización: precisión mixta, escalado de la pérdida y recorte del gradiente (06 y 07).

- :func:`amp_dtype`: el tipo de 16 bits de la precisión mixta que pide ``TrainConfig.precision``
  (en GPU, bf16 si la tarjeta lo admite, si no fp16; en CPU, bf16 solo si se pide y la CPU
  tiene instrucciones bf16, :func:`cpu_has_bf16`; si no, ``None``: todo en fp32).
- :func:`grad_scaler`: el ``GradScaler`` que necesita fp16 (y solo fp16) para que los gradientes
  pequeños no se queden en 0.
- :func:`train_step`: hacia delante, pérdida con suavizado, hacia atrás, recorte y paso del
  optimizador, para un lote.

Es el cuerpo del bucle de :func:`course_lib.train.fit`; la receta (AdamW, recorte, precisión
mixta) se explica en el cuaderno 07, sección «Entrenar: la receta completa».
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

from course_lib.losses import label_smoothing_loss


def cpu_has_bf16() -> bool:
    """Si la CPU calcula en bf16 con instrucciones propias (``avx512_bf16`` o AMX).

    Sin ellas, PyTorch emula bf16 con conversiones y la precisión mixta va *más lenta* que fp32.
    """
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Tipo de la precisión mixta, o ``None`` para fp32.

    - En CUDA: ``"auto"`` es bf16 si la tarjeta lo calcula de forma nativa (Ampere o posterior)
      y fp16 si no (p. ej. una T4); ``"bf16"`` y ``"fp16"``, lo pedido.
    - En CPU: ``"bf16"`` es bf16 si :func:`cpu_has_bf16` y fp32 si no (emulado sería más
      lento); ``"auto"`` y ``"fp16"`` son fp32 (fp16 en CPU no acelera).
    - En cualquier otro dispositivo, fp32.

    Args:
        precision: ``"auto"``, ``"bf16"``, ``"fp16"`` o ``"fp32"`` (véase ``TrainConfig``).
        device: dónde se entrena.
    """
    if precision == "fp32":
        return None
    if device.type == "cpu":
        return torch.bfloat16 if precision == "bf16" and cpu_has_bf16() else None
    if device.type != "cuda":
        return None
    if precision == "auto":
        native = torch.cuda.is_bf16_supported(including_emulation=False)
        return torch.bfloat16 if native else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


def grad_scaler(dtype: torch.dtype | None) -> torch.amp.GradScaler | None:
    """Un ``GradScaler`` de CUDA si ``dtype`` es fp16; ``None`` en otro caso.

    bf16 tiene el mismo rango que fp32 y no lo necesita.
    """
    return torch.amp.GradScaler("cuda") if dtype == torch.float16 else None


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    src: Tensor,
    tgt_in: Tensor,
    tgt_out: Tensor,
    *,
    smoothing: float,
    pad_id: int,
    clip_norm: float = 0.0,
    dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> Tensor:
    """Un paso de optimización sobre un lote; devuelve la pérdida, separada del grafo.

    1) hacia delante, con ``torch.autocast`` si hay ``dtype``; 2) :func:`label_smoothing_loss`
    en fp32; 3) hacia atrás (con la pérdida escalada si hay ``scaler``); 4) recorte de la norma
    del gradiente a ``clip_norm``; 5) paso del optimizador. No toca el planificador de la tasa.

    Args:
        model: ``forward(src, tgt_in) → logits (B, T, V)``; puede ser un envoltorio
            ``DistributedDataParallel`` (sus parámetros son los del modelo que envuelve).
        optimizer: el optimizador de los parámetros de ``model``.
        src: ``(B, T_src)``, ya en el dispositivo.
        tgt_in: ``(B, T)``, la frase de destino desplazada (empieza por ``<sos>``).
        tgt_out: ``(B, T)``, lo que hay que predecir; ``pad_id`` no cuenta.
        smoothing: ``ε`` del suavizado de etiquetas.
        pad_id: identificador del relleno.
        clip_norm: norma máxima de todo el gradiente (0 = sin recorte).
        dtype: tipo de la precisión mixta (:func:`amp_dtype`); ``None`` = fp32.
        scaler: el de :func:`grad_scaler` cuando ``dtype`` es fp16.

    Returns:
        Escalar: la pérdida del lote, sin gradiente y sin sincronizar con la GPU.
    """
    autocast = torch.autocast(device_type=src.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
    with autocast:
        logits = model(src, tgt_in)  # (B, T, V)
    loss = label_smoothing_loss(logits, tgt_out, smoothing, pad_id)
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # el recorte mide el gradiente de verdad, no el escalado
    else:
        loss.backward()
    if clip_norm > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    if scaler is not None:
        scaler.step(optimizer)  # se salta el paso si el gradiente tiene inf o NaN
        scaler.update()
    else:
        optimizer.step()
    return loss.detach()
