"""La receta de un entrenamiento (:class:`TrainConfig`) y lo que pasó en él (:class:`History`) (06 y 07).

Las usa :func:`course_lib.train.fit`, que las reexporta: ``from course_lib.train import TrainConfig``.
Los puntos de control guardan las dos como diccionarios (``dataclasses.asdict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.schedule import _positive


@dataclass
class TrainConfig:
    """Receta de entrenamiento.

    La duración se da de una de dos maneras (véase la cabecera del módulo):

    - ``steps``: pasos en total. Manda si se da: ``budget_seconds`` se ignora y el entrenamiento
      es reproducible (el mismo en cualquier máquina).
    - ``budget_seconds`` sin ``steps``: :func:`fit` calibra y fija ``steps`` él mismo.

    Attributes:
        steps: pasos de optimización en total (``None`` = los decide el presupuesto).
        budget_seconds: presupuesto en segundos de entrenamiento (el reloj de ``History.seconds``:
            la validación no cuenta). Decide cuántos pasos se dan y, con ellos, dónde empieza el
            enfriamiento.
        warmup: pasos de calentamiento de :func:`noam_lr`. Se fija antes de empezar, también con
            presupuesto: la tasa de los primeros pasos no depende del total.
        lr_scale: factor que multiplica a :func:`noam_lr` (1 = el artículo).
        cooldown: en los últimos ``cooldown`` pasos la tasa baja en línea recta hasta 0 (0 = sin
            enfriamiento, como el artículo). Con pocos pasos, acabar con la tasa a 0 mejora el modelo
            final; véase :func:`learning_rate`.
        cooldown_fraction: el enfriamiento como fracción del total, ``round(cooldown_fraction · steps)``
            pasos; es la forma de pedirlo cuando el total lo decide el presupuesto. Se da ``cooldown``
            o ``cooldown_fraction``, no los dos.
        label_smoothing: ``ε`` de :func:`label_smoothing_loss` (0.1 en el artículo).
        clip_norm: norma máxima del gradiente (0 = sin recorte).
        betas, eps, weight_decay: de AdamW (el artículo: 0.9, 0.98, 1e-9, sin decaimiento).
        precision: ``"auto"`` (en GPU, bf16 si la tarjeta lo calcula de forma nativa, si no fp16;
            fp32 en CPU), ``"bf16"`` (también en CPU, si tiene instrucciones bf16), ``"fp16"`` o
            ``"fp32"``; véase :func:`course_lib.step.amp_dtype`.
        checkpoint_dir: carpeta de los puntos de control (``None`` = no se guardan).
        checkpoint_every: guardar cada tantos pasos (0 = solo al final).
        eval_every: validar cada tantos pasos (0 = solo al final).
        log_every: pasos entre anotaciones de la pérdida de entrenamiento.
        seed: semilla (dropout y orden de los lotes).
        max_seconds: tope de seguridad, aparte del presupuesto: al superarlo (se mira cada
            ``log_every`` pasos) el entrenamiento para aunque no haya llegado a ``steps``, a mitad
            de la tasa planificada (``None`` = sin tope). Para que el enfriamiento quepa en un
            tiempo dado, usa ``budget_seconds``.
    """

    steps: int | None = None
    budget_seconds: float | None = None
    warmup: int = 4000
    lr_scale: float = 1.0
    cooldown: int = 0
    cooldown_fraction: float = 0.0
    label_smoothing: float = 0.1
    clip_norm: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-9
    weight_decay: float = 0.0
    precision: str = "auto"
    checkpoint_dir: str | Path | None = None
    checkpoint_every: int = 0
    eval_every: int = 0
    log_every: int = 10
    seed: int = 0
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "warmup"):
            value = getattr(self, name)
            if name == "steps" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` debe ser un entero ≥ 1; recibí {value!r}.")
        if self.budget_seconds is not None and not _positive(self.budget_seconds):
            raise ValueError(
                f"`budget_seconds` debe ser un número de segundos > 0 (o None); recibí {self.budget_seconds!r}."
            )
        if self.steps is None and self.budget_seconds is None:
            raise ValueError("Falta la duración: da `steps` (pasos) o `budget_seconds` (segundos).")
        for name in ("cooldown", "checkpoint_every", "eval_every", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"`{name}` debe ser un entero ≥ 0; recibí {value!r}.")
        fraction = self.cooldown_fraction
        if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 <= fraction < 1:
            raise ValueError(f"`cooldown_fraction` debe ser una fracción en [0, 1); recibí {fraction!r}.")
        if self.cooldown and fraction:
            raise ValueError("Da `cooldown` (pasos) o `cooldown_fraction` (fracción del total), no los dos.")
        if self.cooldown and self.steps is None:
            raise ValueError(
                "Con `budget_seconds` el total aún no se sabe: pide el enfriamiento con `cooldown_fraction`."
            )
        if self.steps is not None and self.cooldown > self.steps:
            raise ValueError(f"`cooldown` ({self.cooldown}) no puede superar `steps` ({self.steps}).")
        if self.max_seconds is not None and not (_positive(self.max_seconds) or self.max_seconds == 0):
            raise ValueError(f"`max_seconds` debe ser un número de segundos ≥ 0 (o None); recibí {self.max_seconds!r}.")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError(f"`precision` debe ser 'auto', 'bf16', 'fp16' o 'fp32'; recibí {self.precision!r}.")

    @property
    def cooldown_steps(self) -> int:
        """Pasos de enfriamiento: ``cooldown`` o ``round(cooldown_fraction · steps)``; 0 sin ``steps``."""
        if self.steps is None:
            return 0
        return self.cooldown or round(self.cooldown_fraction * self.steps)


@dataclass
class History:
    """Lo que pasó durante el entrenamiento (se guarda en los puntos de control).

    ``total_steps`` es el total planificado: ``TrainConfig.steps`` o, en un entrenamiento por
    tiempo, el que fijó la calibración (``None`` mientras calibra). ``steps``, ``train_loss`` y
    ``lr`` son las anotaciones de cada ``log_every`` pasos.
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    total_steps: int | None = None

    @property
    def tokens_per_second(self) -> float:
        """Tokens de destino (sin relleno) procesados por segundo de entrenamiento."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def log_train(self, step: int, loss: float, lr: float, tokens: int, seconds: float) -> None:
        """Anota la pérdida media de entrenamiento y la tasa en ``step``; suma ``tokens`` y pone el tiempo total."""
        self.steps.append(step)
        self.train_loss.append(loss)
        self.lr.append(lr)
        self.tokens += tokens
        self.seconds = seconds

    def log_valid(self, step: int, loss: float) -> None:
        """Anota la pérdida de validación en ``step``."""
        self.valid_steps.append(step)
        self.valid_loss.append(loss)

    def plot(self, ax: Any = None, title: str = "Curva de aprendizaje") -> Any:
        """Pérdida de entrenamiento (y de validación, si la hay) frente al paso."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        ax.plot(self.steps, self.train_loss, label="entrenamiento (con suavizado)")
        if self.valid_steps:
            ax.plot(self.valid_steps, self.valid_loss, "o-", label="validación (sin suavizado)")
        ax.set_xlabel("paso")
        ax.set_ylabel("pérdida (entropía cruzada por token)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        return ax
