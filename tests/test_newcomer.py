"""What a newcomer trips on in the first hour: readable reprs, errors that say the fix,
files others can read.

Budget: about 10 s on 2 CPU cores (the shipped ``fast`` model, no training).
"""

import os
import stat

import joblib
import numpy as np
import pytest

from fer_sklearn import (
    EmotionRecognizer,
    load_model,
    load_pretrained,
    make_emotion_pipeline,
    save_model,
)
from fer_sklearn.cli import main


@pytest.fixture(scope="module")
def fast():
    return load_pretrained("fast", device="cpu")


def test_reprs_are_short_and_name_what_was_changed(fast):
    assert repr(make_emotion_pipeline(lr=0.01)).endswith("('clf', EmotionClassifier(lr=0.01))])")
    text = repr(fast)
    assert "Conv2d" not in text and "iterator_train" not in text and len(text) < 1000
    assert "module=EmotionCNN(width=16" in text and "M parameters" in text
    assert "lr=0.002" in text and "AdamW" in text  # how it was trained, as its file records
    assert "Conv2d" in str(fast[-1].module_)  # print(network) keeps PyTorch's tree
    assert repr(EmotionRecognizer()) == "EmotionRecognizer()"
    assert repr(EmotionRecognizer(min_score=0.7)) == "EmotionRecognizer(min_score=0.7)"


def test_one_image_is_told_to_be_a_batch(fast):
    with pytest.raises(ValueError, match=r"one 48x48 image, pass X\[None\]"):
        fast.predict(np.zeros((48, 48), np.uint8))
    assert fast.predict(np.zeros((48, 48), np.uint8)[None]).shape == (1,)


def test_load_model_names_a_joblib_file_and_how_to_open_it(fast, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(make_emotion_pipeline(), path)
    with pytest.raises(ValueError, match=r"joblib or pickle file.*joblib.load\(path\).*trust"):
        load_model(path)
    compressed = tmp_path / "model.z"
    joblib.dump(make_emotion_pipeline(), compressed, compress=3)
    with pytest.raises(ValueError, match="joblib or pickle file"):
        load_model(compressed)


def test_saved_models_respect_the_umask(fast, tmp_path):
    previous = os.umask(0o022)
    try:
        path = save_model(fast, tmp_path / "fast.safetensors")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["fast.safetensors"]  # no partial file left


def test_a_verbs_usage_error_points_to_its_own_help(capsys):
    assert main(["train", "--epochs", "x"]) == 2
    assert "(see 'fer-sklearn train --help')" in capsys.readouterr().err


def test_the_cli_refuses_a_csv_of_one_huge_line_with_exit_2(tmp_path, capsys):
    import gzip

    path = tmp_path / "huge.csv.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"emotion,pixels,Usage\n0," + b"7" * 200_000)
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "huge.csv.gz, line 2: longer than 65,536 characters" in capsys.readouterr().err
