"""The pipeline as a newcomer meets it: short reprs naming what was changed, one image told to be
a batch. Budget: about 3 s (the shipped ``fast`` model, no training)."""

import numpy as np
import pytest

from fer_sklearn import EmotionRecognizer, load_pretrained, make_emotion_pipeline


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
