"""course_lib.storage: en Colab los puntos de control van a Google Drive por defecto, con aviso y forma de evitarlo."""

import sys
import types
from pathlib import Path

import pytest

from course_lib import storage


@pytest.fixture
def colab(monkeypatch):
    """Un ``google.colab.drive`` falso; devuelve la lista de carpetas que se pidió montar."""
    mounted = []
    drive = types.ModuleType("google.colab.drive")
    drive.mount = mounted.append
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    monkeypatch.setenv("CURSO_RAPIDO", "0")
    return mounted


def test_in_colab_checkpoints_go_to_drive_by_default(colab, capsys):
    folder = storage.checkpoint_folder("en-es-t4")
    assert colab == ["/content/drive"]
    assert folder == Path("/content/drive/MyDrive/atencion-transformers/en-es-t4")
    out = capsys.readouterr().out
    assert "Google Drive" in out and "USE_DRIVE = False" in out


def test_in_colab_the_student_can_opt_out(colab, capsys):
    folder = storage.checkpoint_folder("en-es-t4", use_drive=False)
    assert colab == [] and folder == Path("checkpoints/en-es-t4")
    assert "se pierden" in capsys.readouterr().out


def test_a_failed_mount_falls_back_to_the_session_disk_and_says_so(colab, capsys, monkeypatch):
    def refuse(path):
        raise ValueError("mount failed")

    monkeypatch.setattr(sys.modules["google.colab.drive"], "mount", refuse)
    folder = storage.checkpoint_folder("en-es-t4", local_root="/tmp/x")
    assert folder == Path("/tmp/x/en-es-t4")
    out = capsys.readouterr().out
    assert "No pude montar Google Drive" in out and "mount failed" in out


def test_outside_colab_a_local_folder_and_in_fast_mode_a_temporary_one(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("CURSO_RAPIDO", "0")
    assert storage.checkpoint_folder("en-es-cpu") == Path("checkpoints/en-es-cpu")
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("CURSO_RAPIDO", "1")
    temporary = storage.checkpoint_folder("en-es-cpu")
    assert temporary.name == "en-es-cpu" and temporary.parent.exists() and "checkpoints" not in temporary.parts


@pytest.mark.parametrize("name", ["", "a/b", None])
def test_bad_names_are_refused_in_spanish(name):
    with pytest.raises(ValueError, match="`name` debe ser un nombre de carpeta"):
        storage.checkpoint_folder(name)
