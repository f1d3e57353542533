import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

from fer_sklearn.preprocessing import Grayscale, ImageResizer, PixelNormalizer

ALL = [Grayscale(), ImageResizer(size=8), PixelNormalizer()]


@pytest.mark.parametrize("shape", [(3, 8, 8), (3, 8, 8, 1), (3, 64), (3, 8, 8, 3), (3, 8, 8, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float64, np.float32])
def test_transformers_accept_what_users_have(shape, dtype):
    X = np.random.RandomState(0).randint(0, 255, size=shape).astype(dtype)
    gray_shape = (3, 64) if len(shape) == 2 else (3, 8, 8)  # rows stay rows
    for transformer, expected in [(Grayscale(), gray_shape), (ImageResizer(size=8), (3, 8, 8)),
                                  (PixelNormalizer(), gray_shape)]:
        out = transformer.fit_transform(X)
        assert out.shape == expected
        assert out.dtype == np.float32


def test_rows_of_any_length_keep_their_shape():
    X = np.arange(30, dtype=np.uint8).reshape(3, 10)
    np.testing.assert_array_equal(Grayscale().fit_transform(X), X)
    normalizer = PixelNormalizer().fit(X)
    assert normalizer.n_features_in_ == 10
    np.testing.assert_allclose(normalizer.transform(X), (X - X.mean()) / X.std(), rtol=1e-5)
    with pytest.raises(ValueError, match="X has 5 features, but PixelNormalizer is expecting 10"):
        normalizer.transform(X[:, :5])


def test_resizer_reads_rows_as_images_of_image_shape():
    X = np.zeros((2, 4, 6))
    X[:, :, :3] = 90  # left half bright
    rows = X.reshape(2, -1)
    for image_shape in [(4, 6), (4, -1), [-1, 6]]:
        out = ImageResizer(size=4, image_shape=image_shape).fit_transform(rows)
        np.testing.assert_allclose(out, ImageResizer(size=4).fit_transform(X))
    with pytest.raises(ValueError,
                       match=r"rows of 24 pixels, which are not images of image_shape=\(5, -1\)"):
        ImageResizer(image_shape=(5, -1)).fit_transform(rows)
    with pytest.raises(ValueError, match="rows of 24 pixels, which is not a square image"):
        ImageResizer().fit_transform(rows)


@pytest.mark.parametrize("image_shape", [(4,), (0, 6), (-1, -1), (2.5, 4), "4x6"])
def test_resizer_rejects_bad_image_shape(image_shape):
    with pytest.raises(ValueError, match="image_shape"):
        ImageResizer(image_shape=image_shape).fit_transform(np.zeros((1, 4, 4)))


def test_grayscale_uses_bt601_luma_and_drops_alpha():
    X = np.zeros((1, 2, 2, 4), dtype=np.uint8)
    X[..., 0], X[..., 1], X[..., 2], X[..., 3] = 100, 200, 50, 7
    expected = 0.299 * 100 + 0.587 * 200 + 0.114 * 50
    np.testing.assert_allclose(Grayscale().fit_transform(X), expected, rtol=1e-5)


def test_resizer_changes_size_and_keeps_constant_images_constant():
    X = np.full((2, 96, 64), 77.0)
    out = ImageResizer(size=48).fit_transform(X)
    assert out.shape == (2, 48, 48)
    np.testing.assert_allclose(out, 77.0, rtol=1e-5)


def test_resizer_downscale_averages():
    X = np.zeros((1, 4, 4))
    X[0, :, :2] = 100  # left half bright
    out = ImageResizer(size=2).fit_transform(X)
    assert np.all(out[0, :, 0] > 80) and np.all(out[0, :, 1] < 20)


@pytest.mark.parametrize("size, error", [(0, ValueError), (2.5, TypeError), ("48", TypeError)])
def test_resizer_rejects_bad_size(size, error):
    with pytest.raises(error, match="size"):
        ImageResizer(size=size).fit_transform(np.zeros((1, 4, 4)))


def test_normalizer_learns_training_statistics():
    X = np.random.RandomState(0).uniform(0, 255, size=(20, 6, 6))
    normalizer = PixelNormalizer().fit(X)
    assert normalizer.mean_ == pytest.approx(X.mean(), rel=1e-6)
    assert normalizer.scale_ == pytest.approx(X.std(), rel=1e-6)
    out = normalizer.transform(X)
    assert abs(out.mean()) < 1e-4 and out.std() == pytest.approx(1, rel=1e-4)
    # statistics are the training ones, not those of new data
    assert normalizer.transform(X + 10).mean() == pytest.approx(10 / X.std(), rel=1e-4)
    np.testing.assert_allclose(normalizer.inverse_transform(out), X, rtol=1e-4)


def test_normalizer_uses_the_mean_and_std_it_is_given():
    X = np.random.RandomState(0).uniform(0, 255, size=(20, 6, 6))
    normalizer = PixelNormalizer(mean=100, std=50).fit(X)
    assert (normalizer.mean_, normalizer.scale_) == (100.0, 50.0)
    np.testing.assert_allclose(normalizer.transform(X), (X - 100) / 50, atol=1e-5)
    half = PixelNormalizer(std=50).fit(X)  # the mean is still learned
    assert half.mean_ == pytest.approx(X.mean(), rel=1e-6) and half.scale_ == 50.0
    assert PixelNormalizer(mean=3).fit(X).scale_ == pytest.approx(X.std(), rel=1e-6)


@pytest.mark.parametrize("params", [dict(std=0), dict(std=-1.0), dict(std="1"), dict(mean=np.nan)])
def test_normalizer_rejects_bad_parameters(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        PixelNormalizer(**params).fit(np.zeros((1, 4, 4)))


def test_normalizer_constant_images_do_not_divide_by_zero():
    out = PixelNormalizer().fit_transform(np.full((2, 3, 3), 5.0))
    assert np.all(out == 0)


def test_normalizer_not_fitted():
    with pytest.raises(NotFittedError):
        PixelNormalizer().transform(np.zeros((1, 4, 4)))


@pytest.mark.parametrize("transformer", ALL, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("X, error, message", [
    (np.full((2, 4, 4), np.nan), ValueError, "NaN or infinite"),
    (np.full((2, 4, 4), np.inf), ValueError, "NaN or infinite"),
    (np.zeros((0, 4, 4)), ValueError, "0 images"),
    (np.zeros((2, 4, 0)), ValueError, "empty images"),
    (np.zeros(16), ValueError, "got 1 dimension"),
    (np.zeros((1, 2, 4, 4, 1)), ValueError, "got 5 dimension"),
    (np.zeros((2, 4, 4, 2)), ValueError, "2 channels"),
    (np.array([["a", "b", "c", "d"]]), TypeError, "numeric pixel values"),
    ("image.png", TypeError, "array of images"),
    (np.zeros((2, 4, 4), dtype=complex), ValueError, "Complex data not supported"),
    (np.array([[1, {"a": 1}]], dtype=object), TypeError, "numeric pixel values"),
    ([[1, 2], [3]], ValueError, "could not be read as an array"),
    (sparse.csr_matrix(np.eye(4)), TypeError, "sparse input is not supported"),
])
def test_bad_images_are_rejected_clearly(transformer, X, error, message):
    with pytest.raises(error, match=message):
        transformer.fit_transform(X)


def test_numeric_strings_and_lists_are_accepted():
    out = Grayscale().fit_transform([[["1", "2"], ["3", "4"]]])
    np.testing.assert_array_equal(out, [[[1, 2], [3, 4]]])


def test_pixels_on_another_scale_are_refused_not_misread():
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(6, 8, 8)).astype(np.uint8)
    normalizer = PixelNormalizer().fit(images)
    assert normalizer.pixel_range_ == "0-255"
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\].*fitted on 0-255 pixels"):
        normalizer.transform(images / 255.0)
    normalizer.transform(np.zeros((1, 8, 8)))  # a black image fits either scale
    fractions = PixelNormalizer().fit(images / 255.0)
    assert fractions.pixel_range_ == "0-1"
    with pytest.raises(ValueError, match=r"up to 255.*divide them by 255"):
        fractions.transform(images)
    unchecked = PixelNormalizer(pixel_range=None).fit(images)
    assert unchecked.pixel_range_ is None
    unchecked.transform(images / 255.0)
    fixed = PixelNormalizer(pixel_range="0-255").fit(np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="fitted on 0-255"):
        fixed.transform(images / 255.0)


def test_the_shipped_model_refuses_pixels_divided_by_255():
    from fer_sklearn import load_pretrained

    faces = np.random.RandomState(1).randint(0, 256, size=(3, 48, 48)).astype(np.uint8)
    model = load_pretrained("fast", device="cpu")
    assert model.predict(faces).shape == (3,)
    with pytest.raises(ValueError, match="fitted on 0-255 pixels"):
        model.predict(faces / 255.0)
