"""Entradas malas al traductor, como las encontraría alguien que empieza (issue 14, punto 7).

Un punto de control que falta o está dañado, unos datos que no están, una carpeta de salida de
otro entrenamiento, una frase vacía o demasiado larga: la biblioteca da un error o un aviso en
español, y la línea de órdenes lo resume en una línea y termina con el código 2, sin traza.
"""

import io
import json
import os
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from course_lib import translator as translator_module
from course_lib.cli import to_spanish
from course_lib.data import DataError, load_spa_eng, load_tatoeba_test
from course_lib.translate import PROFILES, Translator, prepare_data, train_translator
from course_lib.translate_cli import USAGE_ERROR, main
from course_lib.translator import MissingTranslatorError, TranslatorError

ROOT = Path(__file__).resolve().parents[1]
ENGLISH_NOISE = ("Traceback", "PytorchStreamReader", "invalid load key", "Ran out of input", "Error(s) in loading")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Una carpeta con un entrenamiento «diminuto» corto (en-es): ultimo.pt, traductor.pt y entrenamiento.json."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("entrenado")
    train_translator(prepare_data("en-es", "diminuto"), "diminuto", folder, device="cpu", steps=30, progress=False)
    return folder


@pytest.fixture(scope="module")
def translator(folder) -> Translator:
    return Translator.load(folder / "traductor.pt", device="cpu")


@pytest.fixture(scope="module")
def broken(folder, tmp_path_factory) -> dict[str, Path]:
    """Archivos que no son un traductor utilizable, por nombre de caso."""
    root = tmp_path_factory.mktemp("rotos")
    whole = (folder / "traductor.pt").read_bytes()
    truncated = root / "cortado.pt"
    truncated.write_bytes(whole[: len(whole) // 2])
    text = root / "texto.pt"
    text.write_text("Esto es un archivo de texto, no un modelo.\n", encoding="utf-8")
    empty = root / "vacio.pt"
    empty.write_bytes(b"")
    tensor = root / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    return {"cortado": truncated, "texto": text, "vacio": empty, "tensor": tensor, "carpeta": folder}


def _error_line(capsys) -> str:
    """La única línea de la salida de errores, que empieza por «error: »."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert not any(noise in err for noise in ENGLISH_NOISE), err
    return lines[0]


# --- 1. Archivos y rutas que no sirven -------------------------------------------------------


@pytest.mark.parametrize("case", ["cortado", "texto", "vacio", "tensor", "carpeta"])
def test_translator_load_explains_a_broken_file_in_spanish(broken, case):
    """Un archivo cortado, un texto renombrado a .pt, uno vacío, otro objeto o una carpeta: TranslatorError."""
    with pytest.raises(TranslatorError, match="traductor|No puedo leer|carpeta") as info:
        Translator.load(broken[case], device="cpu")
    assert str(broken[case]) in str(info.value)


def test_missing_translator_is_also_a_file_not_found_error(tmp_path):
    """Un traductor que no existe: MissingTranslatorError, que también es FileNotFoundError, y dice qué hacer."""
    with pytest.raises(FileNotFoundError, match="course_lib.translate train") as info:
        Translator.load(tmp_path / "no-existe.pt")
    assert isinstance(info.value, MissingTranslatorError)


@pytest.mark.parametrize("case", ["falta", "cortado", "texto", "carpeta"])
@pytest.mark.parametrize("command", ["translate", "evaluate"])
def test_cli_with_a_bad_model_prints_one_spanish_line_and_exits_2(broken, tmp_path, capsys, case, command):
    """translate y evaluate con un --modelo que falta o está dañado: una línea «error: …» y código 2."""
    path = tmp_path / "no-existe.pt" if case == "falta" else broken[case]
    argv = [command, "--modelo", str(path)] + (["Hello."] if command == "translate" else [])
    assert main(argv) == USAGE_ERROR
    line = _error_line(capsys)
    assert str(path) in line
    assert ("No existe" if case == "falta" else "carpeta" if case == "carpeta" else "dañado") in line


def test_cli_train_with_a_data_path_that_does_not_exist(tmp_path, capsys):
    """train --datos con una ruta que no existe: lo dice, y qué hacer, antes de entrenar nada."""
    argv = ["train", "--perfil", "cpu", "--salida", str(tmp_path / "salida"), "--datos", str(tmp_path / "spa.zip")]
    assert main(argv) == USAGE_ERROR
    line = _error_line(capsys)
    assert "no existe" in line and "comprueba la ruta" in line
    assert not (tmp_path / "salida").exists()


def test_cli_test_folder_without_its_files(translator, tmp_path, capsys):
    """--prueba con una carpeta vacía, al entrenar y al evaluar: dice qué archivos faltan."""
    pairs = tmp_path / "spa.txt"
    pairs.write_text("Go.\tVe.\nHello.\tHola.\n", encoding="utf-8")
    empty = tmp_path / "prueba"
    empty.mkdir()
    argv = ["train", "--perfil", "cpu", "--salida", str(tmp_path / "salida"), "--datos", str(pairs)]
    assert main([*argv, "--prueba", str(empty)]) == USAGE_ERROR
    assert "tatoeba-test-v2020-07-28.eng-spa.eng" in _error_line(capsys)
    real = Translator(translator.model, translator.tokenizer, "en-es", translator.max_len, synthetic=False)
    model = real.save(tmp_path / "real.pt")
    assert main(["evaluate", "--modelo", str(model), "--prueba", str(empty)]) == USAGE_ERROR
    assert "Copia ahí los dos archivos" in _error_line(capsys)


@pytest.mark.parametrize("content", [b"esto no es un zip", b"\xff\xfe\x00 no es utf-8\tni esto"])
def test_bad_data_files_give_a_data_error(tmp_path, content):
    """Un .zip que no lo es o un spa.txt que no es UTF-8: DataError en español, no BadZipFile ni UnicodeDecodeError."""
    path = tmp_path / ("spa-eng.zip" if content.startswith(b"esto") else "spa.txt")
    path.write_bytes(content)
    with pytest.raises(DataError, match="no es un"):
        load_spa_eng(path)
    folder = tmp_path / "prueba"
    folder.mkdir()
    for lang in ("eng", "spa"):
        (folder / f"tatoeba-test-v2020-07-28.{lang}").write_bytes(content)
    if content.startswith(b"\xff"):
        with pytest.raises(DataError, match="UTF-8"):
            load_tatoeba_test(folder)


def test_cli_errors_in_a_subprocess_have_no_traceback(broken, tmp_path):
    """python -m course_lib.translate con un modelo cortado o sin datos: código 2, una línea, sin traza."""
    env = {**os.environ, "CURSO_RAPIDO": "1", "OMP_NUM_THREADS": "1"}
    cases = [
        (["translate", "--modelo", str(broken["cortado"]), "Hello."], "dañado"),
        (["train", "--perfil", "cpu", "--salida", str(tmp_path), "--datos", str(tmp_path / "no.zip")], "no existe"),
    ]
    for argv, expected in cases:
        command = [sys.executable, "-m", "course_lib.translate", *argv]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "Traceback" not in result.stderr and result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr


def test_cli_rejects_a_beam_of_zero(folder, capsys):
    """--haz 0 lo rechaza argparse, en español, con el código 2."""
    with pytest.raises(SystemExit) as info:
        main(["translate", "--modelo", str(folder / "traductor.pt"), "--haz", "0", "Hello."])
    assert info.value.code == 2
    assert "mayor que 0" in capsys.readouterr().err


def test_argparse_errors_are_spanish_in_one_line(capsys):
    """Pasos y minutos a la vez, una opción con un valor que no existe o sin orden: en español, código 2."""
    cases = [
        (["train", "--salida", "x", "--pasos", "3", "--minutos", "2"], "no se puede usar junto con --pasos"),
        (["train", "--salida", "x", "--minutos", "0"], "número de minutos mayor que 0"),
        (["train", "--salida", "x", "--perfil", "enorme"], "elige entre"),
        ([], "faltan argumentos"),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as info:
            main(argv)
        err = capsys.readouterr().err
        assert info.value.code == USAGE_ERROR, argv
        assert expected in err and "usage" not in err and "error: argument" not in err, err
        assert err.startswith("uso: "), err


def test_to_spanish_leaves_unknown_messages_alone():
    assert to_spanish("argument --haz: expected one argument") == "a la opción --haz le falta su valor"
    assert to_spanish("algo que argparse no dice") == "algo que argparse no dice"


def test_minutos_reaches_train_translator(tmp_path, monkeypatch):
    """--minutos 2.5 llega a train_translator como minutes=2.5; sin él, el presupuesto es el del perfil."""
    seen = []

    def fake_train(data, profile, salida, device, steps, verbose, seed, *, minutes=None):
        seen.append((steps, minutes))
        raise TranslatorError("parada de la prueba")

    monkeypatch.setattr("course_lib.translate_cli.prepare_data", lambda *a, **k: _FakeData())
    monkeypatch.setattr("course_lib.translate_cli.train_translator", fake_train)
    for extra, expected in ((["--minutos", "2.5"], (None, 2.5)), (["--pasos", "7"], (7, None)), ([], (None, None))):
        assert main(["train", "--perfil", "diminuto", "--salida", str(tmp_path), *extra]) == USAGE_ERROR
        assert seen[-1] == expected


class _FakeData:
    train, valid, dropped_overlap, tokenizer = [], [], 0, []


# --- 2. Reanudar en la carpeta de otro entrenamiento --------------------------------------------


@pytest.fixture()
def copy_of(folder, tmp_path) -> Path:
    """Una copia de la carpeta entrenada, para estropearla sin tocar la del módulo."""
    target = tmp_path / "copia"
    target.mkdir()
    for path in folder.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def _no_training(*args, **kwargs):
    raise AssertionError("no debía empezar a entrenar")


def test_the_folder_records_direction_and_profile(folder):
    """entrenamiento.json dice la dirección, el perfil y la configuración del modelo."""
    info = json.loads((folder / "entrenamiento.json").read_text(encoding="utf-8"))
    assert info["direction"] == "en-es" and info["profile"] == "diminuto"
    assert info["config"]["d_model"] == PROFILES["diminuto"].d_model


@pytest.mark.parametrize("without_json", [False, True], ids=["con-json", "carpeta-antigua"])
def test_resuming_with_another_direction_is_refused_before_training(copy_of, monkeypatch, without_json):
    """es-en en una carpeta de en-es: TranslatorError antes de entrenar; ultimo.pt queda intacto."""
    if without_json:  # una carpeta de antes de entrenamiento.json: se mira dentro de ultimo.pt
        (copy_of / "entrenamiento.json").unlink()
    before = (copy_of / "ultimo.pt").read_bytes()
    monkeypatch.setattr("course_lib.translate.fit", _no_training)
    with pytest.raises(TranslatorError, match=r"dirección en-es \(pediste es-en\)") as info:
        train_translator(prepare_data("es-en", "diminuto"), "diminuto", copy_of, device="cpu", progress=False)
    assert "borra" in str(info.value) and "otra carpeta" in str(info.value)
    assert (copy_of / "ultimo.pt").read_bytes() == before


def test_resuming_with_another_profile_is_refused(copy_of, monkeypatch):
    """Otro perfil (aunque la arquitectura coincida) o, en una carpeta antigua, otra arquitectura: se niega."""
    monkeypatch.setattr("course_lib.translate.fit", _no_training)
    data = prepare_data("en-es", "diminuto")
    renamed = replace(PROFILES["diminuto"], name="otro")
    with pytest.raises(TranslatorError, match="perfil «diminuto» \\(pediste «otro»\\)"):
        train_translator(data, renamed, copy_of, device="cpu", progress=False)
    (copy_of / "entrenamiento.json").unlink()
    narrower = replace(PROFILES["diminuto"], d_model=16)
    with pytest.raises(TranslatorError, match=r"d_model 32 \(ahora 16\)"):
        train_translator(data, narrower, copy_of, device="cpu", progress=False)


def test_resuming_the_same_training_is_allowed(copy_of, monkeypatch):
    """Misma dirección y perfil (aunque cambien los pasos): se llega a entrenar."""
    called = []
    monkeypatch.setattr("course_lib.translate.fit", lambda *a, **k: called.append(True) or None)
    train_translator(prepare_data("en-es", "diminuto"), "diminuto", copy_of, device="cpu", steps=50, progress=False)
    assert called


def test_a_damaged_checkpoint_or_an_output_file_is_refused(copy_of, tmp_path, monkeypatch):
    """Un ultimo.pt cortado, o una «carpeta» de salida que es un archivo: error en español antes de entrenar."""
    monkeypatch.setattr("course_lib.translate.fit", _no_training)
    data = prepare_data("en-es", "diminuto")
    whole = (copy_of / "ultimo.pt").read_bytes()
    (copy_of / "ultimo.pt").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(TranslatorError, match="dañado"):
        train_translator(data, "diminuto", copy_of, device="cpu", progress=False)
    afile = tmp_path / "archivo"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(TranslatorError, match="es un archivo"):
        train_translator(data, "diminuto", afile, device="cpu", progress=False)


def test_cli_refuses_to_resume_another_direction(copy_of, capsys):
    """La línea de órdenes: train --sentido es-en en la carpeta de en-es da una línea «error: …» y el código 2."""
    argv = ["train", "--perfil", "diminuto", "--sentido", "es-en", "--salida", str(copy_of)]
    assert main(argv) == USAGE_ERROR
    assert "dirección en-es (pediste es-en)" in _error_line(capsys)


# --- 3. Frases vacías ---------------------------------------------------------------------------


@pytest.mark.parametrize("beam_size", [1, 3])
def test_empty_sentences_translate_to_empty_strings_in_order(translator, beam_size):
    """Frases vacías o solo con espacios dan "" en su sitio; las demás, lo mismo que solas."""
    data = prepare_data("en-es", "diminuto")
    first, second = data.test[0][0], data.test[1][0]
    out = translator.translate(["", first, "   ", second, "\t\n"], beam_size=beam_size)
    assert out[0] == out[2] == out[4] == ""
    assert out[1] == translator.translate(first, beam_size=beam_size)[0] != ""
    assert out[3] == translator.translate(second, beam_size=beam_size)[0]


def test_empty_sentences_do_not_run_the_model(translator, monkeypatch):
    """Solo frases vacías: ni la búsqueda voraz ni la de haz llegan a ejecutarse."""
    monkeypatch.setattr(translator_module, "greedy_decode", _no_training)
    monkeypatch.setattr(translator_module, "beam_search", _no_training)
    assert translator.translate(["", " "]) == ["", ""]
    assert translator.translate("  ", beam_size=4) == [""]
    assert translator.translate([]) == []
    with pytest.raises(TranslatorError, match="vacía"):
        translator.attention("  ")


def test_cli_keeps_blank_lines_of_standard_input(folder, translator, capsys, monkeypatch):
    """Por la entrada estándar, una línea vacía da una línea vacía: la salida sigue alineada con la entrada."""
    first = prepare_data("en-es", "diminuto").test[0][0]
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{first}\n\n{first}\n"))
    assert main(["translate", "--modelo", str(folder / "traductor.pt")]) == 0
    expected = translator.translate(first)[0]
    assert capsys.readouterr().out == f"{expected}\n\n{expected}\n"


# --- 4. Frases más largas que el máximo del modelo -----------------------------------------------


def _recording(monkeypatch) -> list[torch.Size]:
    """Sustituye greedy_decode y beam_search por versiones que apuntan la forma de ``src``."""
    shapes: list[torch.Size] = []
    greedy, beam = translator_module.greedy_decode, translator_module.beam_search

    def record_greedy(model, src, *args, **kwargs):
        shapes.append(src.shape)
        return greedy(model, src, *args, **kwargs)

    def record_beam(model, src, *args, **kwargs):
        shapes.append(src.shape)
        return beam(model, src, *args, **kwargs)

    monkeypatch.setattr(translator_module, "greedy_decode", record_greedy)
    monkeypatch.setattr(translator_module, "beam_search", record_beam)
    return shapes


@pytest.mark.parametrize("beam_size", [1, 2])
def test_a_long_text_is_split_at_sentence_ends(translator, monkeypatch, beam_size):
    """Varias frases que juntas no caben: se traduce cada una por separado y se unen, sin aviso."""
    sentences = [s for s, _ in prepare_data("en-es", "diminuto").test[:3]]
    lengths = [len(translator.tokenizer.encode(s)) for s in sentences]
    short = Translator(translator.model, translator.tokenizer, "en-es", max_len=max(lengths), synthetic=True)
    text = "  ".join(sentences)
    assert len(short.tokenizer.encode(text)) > short.max_len
    alone = [short.translate(s, beam_size=beam_size)[0] for s in sentences]
    shapes = _recording(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = short.translate(["", text, sentences[0]], beam_size=beam_size, batch_size=2)
    assert out == ["", " ".join(alone), alone[0]]
    assert sum(shape[0] for shape in shapes) == 4  # tres trozos del texto largo y la frase corta
    assert all(shape[1] <= short.max_len for shape in shapes)


def test_a_piece_that_still_does_not_fit_is_cut_with_a_spanish_warning(translator, monkeypatch, capsys, tmp_path):
    """Un trozo sin puntos más largo que el máximo: se recorta a max_len piezas y se avisa en español."""
    sentence = prepare_data("en-es", "diminuto").test[0][0].rstrip(".")
    endless = " and ".join([sentence] * 6) + "."
    assert len(translator.tokenizer.encode(endless)) > translator.max_len
    shapes = _recording(monkeypatch)
    with pytest.warns(UserWarning, match=f"recortado a {translator.max_len} piezas"):
        out = translator.translate([endless, sentence])
    assert len(out) == 2 and shapes and all(shape[1] <= translator.max_len for shape in shapes)
    with pytest.warns(UserWarning, match="recortado"):
        translator.attention(endless)
    model = Translator(translator.model, translator.tokenizer, "en-es", translator.max_len, True).save(
        tmp_path / "t.pt"
    )
    monkeypatch.undo()
    assert main(["translate", "--modelo", str(model), endless]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("aviso: ") and "recortado" in err[0], err
