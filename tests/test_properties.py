"""Property-based tests: whatever users pass either works or is a clear ValueError/TypeError.

hypothesis draws arrays of any shape and dtype (bool, integers, floats of every width,
complex, strings, objects), NaN and infinity anywhere, empty arrays, huge values and
things that are not arrays at all, and feeds them to the transformers, the classifier's
``predict``, the image reader, the FER2013 loader and ``EmotionRecognizer.analyze``.
Each call must return a well-formed result or raise ValueError/TypeError with a
message; any other exception fails. Examples are few and small (60 per test,
derandomized; ``FER_HYPOTHESIS_EXAMPLES=1000`` searches harder): budget about 15 s.
"""

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fer_sklearn import EmotionClassifier, EmotionRecognizer, load_fer2013, make_faces
from fer_sklearn.io import read_image
from fer_sklearn.preprocessing import Grayscale, ImageResizer, PixelNormalizer

from .conftest import TINY_NET

# FER_HYPOTHESIS_EXAMPLES=1000 searches harder (a few minutes)
EXAMPLES = int(os.environ.get("FER_HYPOTHESIS_EXAMPLES", 60))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

DTYPES = st.sampled_from([np.bool_, np.uint8, np.int8, np.uint16, np.int32, np.int64, np.uint64,
                          np.float16, np.float32, np.float64, np.complex64])
ODD_FLOATS = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, 1e38, -1e38, 1e300,
                              255.0, 0.5])


def _with_odd_values(draw, array):
    if array.dtype.kind == "f" and array.size and draw(st.booleans()):
        index = draw(st.integers(0, array.size - 1))
        with np.errstate(over="ignore"):
            array.flat[index] = draw(ODD_FLOATS)
    return array


@st.composite
def images(draw, side=None, max_n=3):
    """Arrays laid out as images: ``(n, h, w)``, ``(n, h, w, 1|3|4)``, square rows ``(n, h*w)``."""
    n = draw(st.integers(0, max_n))
    h = side or draw(st.integers(1, 12))
    w = side or draw(st.integers(1, 12))
    shape = draw(st.sampled_from([(n, h, w), (n, h, w, draw(st.sampled_from([1, 3, 4]))),
                                  (n, h * h)]))
    return _with_odd_values(draw, draw(hnp.arrays(np.dtype(draw(DTYPES)), shape)))


@st.composite
def photos(draw):
    """One photo: ``(h, w)`` or ``(h, w, 1|3|4)``."""
    h, w = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    shape = draw(st.sampled_from([(h, w), (h, w, draw(st.sampled_from([1, 3, 4])))]))
    return _with_odd_values(draw, draw(hnp.arrays(np.dtype(draw(DTYPES)), shape)))


@st.composite
def arrays(draw, max_dims=5, max_side=7):
    """Numeric arrays of any shape (also empty), NaN, infinity and huge values placed anywhere."""
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side))
    return _with_odd_values(draw, draw(hnp.arrays(dtype, shape)))


NOT_ARRAYS = st.sampled_from([None, "face.png", b"\x89PNG", 3, 2.5, {"a": 1}, [[1, 2], [3]],
                              [], [[]], np.array(["a", "b"]), np.array([None, 1], dtype=object),
                              [[1, 2], [3, "x"]], object()])
ANYTHING = st.one_of(images(), arrays(), NOT_ARRAYS)


def works_or_clear_error(call, *args, **kwargs):
    """``call(...)``'s result, or None if it raised a ValueError/TypeError with a message."""
    try:
        result = call(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        event(f"{getattr(call, '__name__', call)}: {type(exc).__name__}")
        return None
    event(f"{getattr(call, '__name__', call)}: works")
    return result


def _finite_input(X):
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    return bool(np.isfinite(array).all()) and float(np.abs(array).max(initial=0)) < 1e30


@pytest.fixture(scope="module")
def classifier():
    X, y = make_faces(70, size=16, random_state=0)
    return EmotionClassifier(random_state=0, **dict(TINY_NET, max_epochs=1)).fit(X, y)


@pytest.fixture(scope="module")
def recognizer(classifier):
    from fer_sklearn import make_emotion_pipeline

    X, y = make_faces(70, size=24, random_state=0)
    model = make_emotion_pipeline(random_state=0, **dict(TINY_NET, max_epochs=1))
    return EmotionRecognizer(model.set_params(resize__size=24).fit(X, y), crop_size=24)


@pytest.mark.parametrize("transformer", [Grayscale(), ImageResizer(size=5), PixelNormalizer()],
                         ids=lambda t: type(t).__name__)
@SETTINGS
@given(X=ANYTHING, other=ANYTHING)
def test_transformers_work_or_refuse_clearly(transformer, X, other):
    fitted = works_or_clear_error(transformer.fit, X)
    if fitted is None:
        return
    for data in (X, other):
        out = works_or_clear_error(fitted.transform, data)
        if out is None:
            continue
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
        assert len(out) == len(np.asarray(data))
        if _finite_input(data) and _finite_input(X):
            assert np.isfinite(out).all(), "finite pixels gave NaN or infinity"


@SETTINGS
@given(X=st.one_of(images(side=16), images(), arrays(max_side=20), NOT_ARRAYS))
def test_classifier_predict_works_or_refuses_clearly(classifier, X):
    labels = works_or_clear_error(classifier.predict, X)
    if labels is not None:
        assert labels.shape == (len(X),) and set(labels) <= set(classifier.classes_)


@SETTINGS
@given(image=st.one_of(photos(), arrays(max_dims=4, max_side=40), NOT_ARRAYS),
       detect=st.booleans())
def test_recognizer_analyze_works_or_refuses_clearly(recognizer, image, detect):
    faces = works_or_clear_error(recognizer.analyze, image, detect=detect)
    if faces is not None:
        for face in faces:
            assert math.isclose(sum(face["scores"].values()), 1, rel_tol=1e-4)
            assert face["emotion"] in face["scores"]


@SETTINGS
@given(image=st.one_of(photos(), arrays(max_dims=4, max_side=9), NOT_ARRAYS))
def test_read_image_works_or_refuses_clearly(image):
    gray = works_or_clear_error(read_image, image)
    if gray is not None:
        assert gray.dtype == np.uint8 and gray.ndim == 2


# rows of a FER2013 CSV: some well-formed, some not
GOOD_PIXELS = st.lists(st.integers(0, 255), min_size=2304, max_size=2304).map(
    lambda v: " ".join(map(str, v)))
PIXELS = st.one_of(
    GOOD_PIXELS, GOOD_PIXELS,
    st.text(alphabet="0123456789 -.,e\t", max_size=40),
    st.lists(st.integers(-1000, 1000), min_size=0, max_size=10).map(
        lambda v: " ".join(map(str, v))),
    st.sampled_from(["", "nan " * 2304, "1e9 " * 2304, "0 " * 2303, "0 " * 2305]),
)
LABEL = st.one_of(st.integers(0, 6).map(str), st.integers(-3, 9).map(str),
                  st.sampled_from(["", "happy", "3.5", "nan"]))
USAGE = st.sampled_from(["Training", "PublicTest", "PrivateTest", "Training", "", "other"])


@settings(SETTINGS, max_examples=EXAMPLES // 2)
@given(rows=st.one_of(st.lists(st.tuples(st.integers(0, 6).map(str), GOOD_PIXELS, USAGE),
                               max_size=3),
                      st.lists(st.tuples(LABEL, PIXELS, USAGE), max_size=4)),
       header=st.sampled_from(["emotion,pixels,Usage", "emotion,pixels,Usage", "emotion,pixels",
                               "pixels,Usage", "a,b,c", ""]),
       usage=st.sampled_from([None, "Training", "PublicTest", "Nope"]))
def test_fer2013_loader_parses_or_refuses_clearly(rows, header, usage):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fer.csv"
        text = "\n".join([header] + [",".join(row[: len(header.split(","))]) for row in rows])
        path.write_text(text + "\n")
        data = works_or_clear_error(load_fer2013, path, usage=usage)
    if data is not None:
        assert data.data.dtype == np.uint8 and data.data.shape[1:] == (48, 48)
        assert data.target is None or len(data.target) == len(data.data)  # test.csv: no labels
        assert data.usage is None or len(data.usage) == len(data.data)
