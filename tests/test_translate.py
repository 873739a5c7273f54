"""Pruebas de course_lib.translate, course_lib.translator y course_lib.translate_cli: la tubería completa
con el perfil «diminuto», el formato de lo guardado y la línea de órdenes."""

import os
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from course_lib import translate
from course_lib.train import load_checkpoint, save_checkpoint
from course_lib.transformer import TransformerConfig
from course_lib.translate import (
    PROFILES,
    Translator,
    build_model,
    default_profile,
    evaluate_translator,
    get_profile,
    model_config,
    prepare_data,
    train_translator,
    training_config,
)
from course_lib.translate_cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Un traductor «diminuto» entrenado una vez para todas las pruebas del módulo."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("traductor")
    data = prepare_data("en-es", "diminuto")
    translator, history = train_translator(data, "diminuto", folder, device="cpu", steps=60, progress=False)
    return data, translator, history, folder


def test_prepare_data_orients_pairs_and_drops_test_overlap():
    """es-en invierte los pares de en-es; ninguna frase de la prueba queda en entrenamiento o validación."""
    en_es = prepare_data("en-es", "diminuto")
    es_en = prepare_data("es-en", "diminuto")
    assert es_en.train == [(t, s) for s, t in en_es.train]
    test_sides = {s for pair in en_es.test for s in pair}
    assert not any(s in test_sides or t in test_sides for s, t in en_es.train + en_es.valid)
    assert en_es.synthetic and len(en_es.test) == PROFILES["diminuto"].test_size
    batch = next(iter(en_es.train_batches(0)))
    assert batch.tgt_in[:, 0].eq(en_es.tokenizer.sos_id).all()


def test_training_learns_and_saves_a_loadable_translator(trained):
    """La pérdida baja; traductor.pt y ultimo.pt existen; el traductor cargado traduce igual."""
    data, translator, history, folder = trained
    assert history.train_loss[-1] < history.train_loss[0] - 1.0
    assert (folder / "traductor.pt").exists() and (folder / "ultimo.pt").exists()
    sources = [s for s, _ in data.test[:5]]
    loaded = Translator.load(folder / "traductor.pt", device="cpu")
    assert loaded.translate(sources) == translator.translate(sources)
    from_checkpoint = Translator.load(folder / "ultimo.pt", device="cpu")
    assert from_checkpoint.translate(sources) == translator.translate(sources)


def test_saved_translator_stores_the_model_config(trained):
    """Lo guardado lleva asdict(model.config): con él se reconstruye el mismo modelo, sin mirar dentro de las capas."""
    data, translator, _, folder = trained
    assert translator.model.config == model_config("diminuto", data.tokenizer)
    for name in ("traductor.pt", "ultimo.pt"):
        extra = load_checkpoint(folder / name)["extra"]
        assert extra["config"] == asdict(translator.model.config), name
        assert extra["max_len"] == PROFILES["diminuto"].max_len and extra["direction"] == "en-es"
    loaded = Translator.load(folder / "traductor.pt", device="cpu")
    assert loaded.model.config == translator.model.config and loaded.max_len == translator.max_len


def test_translator_in_the_previous_format_still_loads(trained, tmp_path):
    """Un traductor guardado con el formato anterior (extra["model"] sin TransformerConfig) se carga y traduce igual."""
    data, translator, _, folder = trained
    state = load_checkpoint(folder / "traductor.pt")
    profile = PROFILES["diminuto"]
    old_extra = {
        "tokenizer": state["extra"]["tokenizer"],
        "model": {
            "vocab": len(data.tokenizer),
            "d_model": profile.d_model,
            "n_heads": profile.n_heads,
            "n_layers": profile.n_layers,
            "d_ff": profile.d_ff,
            "max_len": profile.max_len,
        },
        "direction": "en-es",
        "synthetic": True,
    }
    old = save_checkpoint(tmp_path / "antiguo.pt", model=state["model"], extra=old_extra)
    loaded = Translator.load(old, device="cpu")
    sources = [s for s, _ in data.test[:5]]
    assert loaded.translate(sources) == translator.translate(sources)
    assert loaded.model.config == replace(translator.model.config, dropout=0.0)


@pytest.mark.parametrize(
    "broken",
    [
        {"model": {"vocab": 10}},  # formato anterior incompleto
        {"config": {"src_vocab": 10, "tgt_vocab": 10, "capas": 3}, "max_len": 5},  # otra versión
        "pesos",  # la configuración no encaja con los pesos
        {},  # ni configuración
    ],
)
def test_unreadable_translator_fails_in_spanish_saying_what_to_do(trained, tmp_path, broken):
    """Un archivo que no se puede reconstruir da un error en español que dice qué hacer, no un KeyError."""
    _, translator, _, folder = trained
    state = load_checkpoint(folder / "traductor.pt")
    extra = {"tokenizer": state["extra"]["tokenizer"], "direction": "en-es"}
    if broken == "pesos":
        extra |= {"config": asdict(replace(translator.model.config, d_ff=16)), "max_len": 5}
    else:
        extra |= broken
    path = save_checkpoint(tmp_path / "roto.pt", model=state["model"], extra=extra)
    with pytest.raises(ValueError, match=r"course_lib\.translate train") as info:
        Translator.load(path, device="cpu")
    assert str(path) in str(info.value), "el mensaje dice qué archivo no se puede cargar"


def test_translate_keeps_order_and_handles_one_sentence(trained):
    """Las traducciones vuelven en el orden de entrada, aunque internamente se ordenen por longitud."""
    data, translator, _, _ = trained
    sources = [s for s, _ in data.test[:6]]
    together = translator.translate(sources, batch_size=4)
    one_by_one = [translator.translate(s)[0] for s in sources]
    assert together == one_by_one
    assert all(isinstance(t, str) for t in together)
    with pytest.raises(TypeError, match="sentences"):
        translator.translate([1, 2])


def test_evaluation_reports_sacrebleu_signature(trained):
    """evaluate_translator da BLEU y chrF de sacreBLEU con su firma; haz 2 también funciona."""
    data, translator, _, _ = trained
    result = evaluate_translator(translator, data.test[:10], beam_size=2)
    assert 0 <= result.scores.bleu <= 100 and 0 <= result.scores.chrf <= 100
    assert "tok:13a" in result.scores.bleu_signature and "case:mixed" in result.scores.bleu_signature
    assert result.sentences == 10 and result.sentences_per_second > 0 and "frases/s" in str(result)
    with pytest.raises(ValueError, match="pairs"):
        evaluate_translator(translator, [])


def test_evaluation_passes_the_length_penalty_to_the_beam(trained, monkeypatch):
    """El ``α`` de evaluate_translator llega a la búsqueda en haz; sin darlo, el de GNMT (0,6)."""
    from course_lib import translator as translator_module

    data, translator, _, _ = trained
    seen = []
    real = translator_module.beam_search

    def spy(*args, **kwargs):
        seen.append(kwargs["length_penalty"])
        return real(*args, **kwargs)

    monkeypatch.setattr(translator_module, "beam_search", spy)
    evaluate_translator(translator, data.test[:3], beam_size=2, length_penalty=1.5)
    evaluate_translator(translator, data.test[:3], beam_size=2)
    assert seen == [1.5, 0.6]
    with pytest.raises(ValueError, match="length_penalty"):
        evaluate_translator(translator, data.test[:3], beam_size=2, length_penalty=-1)


def test_attention_over_a_sentence(trained):
    """Translator.attention: piezas de origen y destino y pesos (H, T_tgt, T_src) que suman 1 por fila."""
    data, translator, _, _ = trained
    src_tokens, tgt_tokens, weights = translator.attention(data.test[0][0])
    assert weights.shape == (PROFILES["diminuto"].n_heads, weights.shape[1], len(src_tokens))
    assert weights.shape[1] == len(tgt_tokens)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))


def test_resume_after_interruption_continues_from_the_checkpoint(tmp_path):
    """Volver a llamar a train_translator con la misma carpeta reanuda (no empieza de cero)."""
    torch.set_num_threads(1)
    data = prepare_data("en-es", "diminuto")
    _, first = train_translator(data, "diminuto", tmp_path, device="cpu", steps=20, progress=False)
    _, second = train_translator(data, "diminuto", tmp_path, device="cpu", steps=30, progress=False)
    assert first.steps[-1] == 20 and second.steps[-1] == 30
    assert second.steps[: len(first.steps)] == first.steps  # la historia anterior sigue ahí


def test_profiles_and_model():
    """Los perfiles existen, el modelo comparte embeddings y usa pre-LN; errores en español."""
    assert set(PROFILES) == {"gpu", "t4", "cpu", "diminuto"}
    assert default_profile() in PROFILES
    data = prepare_data("en-es", "diminuto")
    model = build_model("diminuto", data.tokenizer)
    assert model.generator.weight is model.src_embed.embedding.weight and model.norm_first
    config = model.config
    assert isinstance(config, TransformerConfig) and config.share_embeddings and config.pad_id == data.tokenizer.pad_id
    assert (config.d_model, config.max_len) == (PROFILES["diminuto"].d_model, PROFILES["diminuto"].max_len + 2)
    assert not hasattr(translate, "_model_config"), "la configuración ya no se lee de las capas"
    with pytest.raises(ValueError, match="profile"):
        get_profile("tpu")
    with pytest.raises(ValueError, match="direction"):
        prepare_data("en-fr", "diminuto")


def test_training_config_follows_the_profile():
    """La receta de fit sale del perfil: el cpu entrena por tiempo; con pasos fijos, el enfriamiento es su fracción."""
    cpu = get_profile("cpu")
    config = training_config(cpu)
    assert (config.steps, config.budget_seconds) == (None, cpu.minutes * 60)
    assert (config.warmup, config.lr_scale, config.cooldown_fraction) == (cpu.warmup, cpu.lr_scale, cpu.cooldown)
    shorter = training_config(replace(cpu, steps=100))
    assert shorter.cooldown == round(cpu.cooldown * 100) > 0  # cambiar los pasos no deja el enfriamiento fuera
    assert shorter.budget_seconds is None  # con pasos fijos, el presupuesto no cuenta: se reproduce igual
    assert training_config("diminuto").cooldown == 0 and training_config("diminuto").max_seconds is None


def test_cli_help_is_spanish():
    """--help de la orden y de cada una de sus órdenes, en español."""
    result = subprocess.run(
        [sys.executable, "-m", "course_lib.translate", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and "Entrena, evalúa y usa el traductor" in result.stdout
    assert "órdenes" in result.stdout and "opciones" in result.stdout
    with pytest.raises(SystemExit):
        main(["train", "--help"])


def test_cli_translate_and_evaluate_with_a_saved_model(trained, capsys):
    """translate y evaluate desde la línea de órdenes con el traductor guardado."""
    data, translator, _, folder = trained
    source = data.test[0][0]
    assert main(["translate", "--modelo", str(folder / "traductor.pt"), source]) == 0
    assert capsys.readouterr().out.strip() == translator.translate(source)[0]
    assert main(["evaluate", "--modelo", str(folder / "traductor.pt"), "--limite", "5"]) == 0
    out = capsys.readouterr().out
    assert "BLEU" in out and "chrF" in out and "5 frases" in out


def test_cli_train_in_a_subprocess(tmp_path):
    """python -m course_lib.translate train entrena y guarda traductor.pt."""
    env = {**os.environ, "CURSO_RAPIDO": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "course_lib.translate", "train", "--perfil", "diminuto", "--salida",
               str(tmp_path), "--pasos", "5"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Perfil diminuto, en-es" in result.stdout and (tmp_path / "traductor.pt").exists()
