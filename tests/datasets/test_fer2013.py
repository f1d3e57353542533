import gzip

import numpy as np
import pytest

from fer_sklearn import EMOTIONS, load_fer2013
from fer_sklearn.datasets import select_usage


def _pixels(value, n=2304):
    return " ".join([str(value)] * n)


def _write(path, text):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def challenge_csv(tmp_path):
    rows = ["emotion,pixels,Usage"]
    rows += [f"{i % 7},{_pixels(i)},{usage}" for i, usage in
             enumerate(["Training"] * 4 + ["PublicTest"] * 2 + ["PrivateTest"])]
    return _write(tmp_path / "fer2013.csv", "\n".join(rows) + "\n")


def test_challenge_csv_loads_into_a_bunch(challenge_csv):
    bunch = load_fer2013(challenge_csv)
    assert bunch.data.shape == (7, 48, 48) and bunch.data.dtype == np.uint8
    np.testing.assert_array_equal(bunch.target, np.arange(7))
    assert bunch.target_names == EMOTIONS
    assert list(bunch.usage) == ["Training"] * 4 + ["PublicTest"] * 2 + ["PrivateTest"]
    assert np.all(bunch.data[3] == 3)
    assert "FER2013" in bunch.DESCR


def test_gzip_and_return_X_y(tmp_path, challenge_csv):
    gz = _write(tmp_path / "fer2013.csv.gz", challenge_csv.read_text())
    X, y = load_fer2013(gz, usage="PublicTest", return_X_y=True)
    assert X.shape == (2, 48, 48)
    np.testing.assert_array_equal(y, [4, 5])


def test_usage_takes_a_list(challenge_csv):
    bunch = load_fer2013(challenge_csv, usage=["PublicTest", "PrivateTest"])
    assert list(bunch.usage) == ["PublicTest", "PublicTest", "PrivateTest"]


def test_unknown_usage_lists_the_valid_ones(challenge_csv):
    with pytest.raises(ValueError,
                       match=r"unknown usage 'Test'.*'Training', 'PublicTest', 'PrivateTest'"):
        load_fer2013(challenge_csv, usage="Test")
    with pytest.raises(ValueError, match="'usage' parameter of load_fer2013"):
        load_fer2013(challenge_csv, usage=3)


def test_select_usage_splits_a_loaded_file(challenge_csv):
    bunch = load_fer2013(challenge_csv)
    test = select_usage(bunch, ["PublicTest", "PrivateTest"])
    assert test.data.shape == (3, 48, 48) and test.target.tolist() == [4, 5, 6]
    assert list(test.usage) == ["PublicTest", "PublicTest", "PrivateTest"]
    assert test.DESCR == bunch.DESCR and len(bunch.data) == 7  # the original is left whole
    np.testing.assert_array_equal(select_usage(bunch, "Training").data, bunch.data[:4])
    with pytest.raises(ValueError,
                       match=r"unknown usage 'Test'; the file's usages are \['Training'"):
        select_usage(bunch, "Test")


def test_pixels_separated_by_any_whitespace(tmp_path):
    spaced = "  ".join(["7"] * 2304) + " "
    bunch = load_fer2013(_write(tmp_path / "spaced.csv",
                                f"emotion,pixels\n1,{spaced}\n2,{_pixels(3)}\n"))
    assert bunch.data[0].min() == bunch.data[0].max() == 7 and bunch.data[1, 0, 0] == 3


def test_kaggle_icml_variant_with_spaced_column_names(tmp_path):
    text = ("emotion, Usage, pixels\n" + f"3, Training, {_pixels(9)}\n"
            + f"6, PublicTest, {_pixels(1)}\n")
    bunch = load_fer2013(_write(tmp_path / "icml_face_data.csv", text), usage="Training")
    assert bunch.data.shape == (1, 48, 48) and bunch.target.tolist() == [3]


def test_train_and_unlabelled_test_csv_pair(tmp_path):
    train = _write(tmp_path / "train.csv", f"emotion,pixels\n2,{_pixels(5)}\n")
    test = _write(tmp_path / "test.csv", f"pixels\n{_pixels(7)}\n{_pixels(8)}\n")
    bunch = load_fer2013(train)
    assert bunch.target.tolist() == [2] and list(bunch.usage) == ["Unknown"]
    unlabelled = load_fer2013(test)
    assert unlabelled.target is None and unlabelled.data.shape == (2, 48, 48)
    X, y = load_fer2013(test, return_X_y=True)
    assert y is None and X[1, 0, 0] == 8
    with pytest.raises(ValueError, match="no Usage column"):
        load_fer2013(test, usage="Training")


@pytest.mark.parametrize("row, message", [
    (f"3,{_pixels(1, 2303)},Training", r"line 3: expected 2304 pixels \(48x48\), found 2303"),
    (f"9,{_pixels(1)},Training", r"line 3: emotion label '9' is not a code 0-6"),
    (f"x,{_pixels(1)},Training", r"line 3: emotion label 'x'"),
    (f",{_pixels(1)},Training", r"line 3: emotion label"),
    (f"3,{_pixels(256)},Training", r"line 3: pixel value 256 is outside 0-255"),
    (f"3,{_pixels(-1)},Training", r"line 3: pixel value -1 is outside 0-255"),
    (f"3,{_pixels(1, 2303)} abc,Training", r"line 3: pixel value 'abc' is not an integer"),
    ("3,,Training", r"line 3: the pixels field is empty"),
])
def test_bad_rows_name_their_line(tmp_path, row, message):
    text = f"emotion,pixels,Usage\n0,{_pixels(0)},Training\n{row}\n2,{_pixels(2)},Training\n"
    with pytest.raises(ValueError, match=message):
        load_fer2013(_write(tmp_path / "bad.csv", text))


def test_missing_pixels_column(tmp_path):
    with pytest.raises(ValueError, match="missing column 'pixels'"):
        load_fer2013(_write(tmp_path / "bad.csv", "emotion,Usage\n0,Training\n"))


def test_missing_file_and_not_a_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="no FER2013 CSV"):
        load_fer2013(tmp_path / "absent.csv")
    binary = tmp_path / "bad.csv.gz"
    binary.write_bytes(b"\x00\x01 definitely not gzip")
    with pytest.raises(ValueError, match="not a readable CSV"):
        load_fer2013(binary)


@pytest.mark.fer2013
def test_real_fer2013_splits(fer2013_csv):
    bunch = load_fer2013(fer2013_csv)
    assert bunch.data.shape == (32298, 48, 48)
    usage, counts = np.unique(bunch.usage, return_counts=True)
    assert dict(zip(usage, counts)) == {"Training": 28709, "PublicTest": 3589}
    train = bunch.target[bunch.usage == "Training"]
    np.testing.assert_array_equal(np.bincount(train), [3995, 436, 4097, 7215, 4830, 3171, 4965])


def test_an_empty_file_is_named(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        load_fer2013(path)


def test_a_gzip_that_expands_to_one_huge_row_is_refused_unread(tmp_path):
    """2 GiB of one line in about 2 MB on disk: refused with its line, in bounded memory."""
    import gzip
    import resource

    path = tmp_path / "bomb.csv.gz"
    chunk = b"7" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"emotion,pixels,Usage\n0,")
        for _ in range(2048):
            out.write(chunk)
    assert path.stat().st_size < 4 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"bomb.csv.gz, line 2: longer than 65,536 characters"):
        load_fer2013(path)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 * 1024  # reading all of it would take over 2 GiB


def test_the_loader_gives_emotion_names_when_asked(tmp_path):
    text = f"emotion,pixels,Usage\n3,{_pixels(0)},Training\n0,{_pixels(1)},PublicTest\n"
    path = _write(tmp_path / "two.csv", text)
    X, y = load_fer2013(path, return_X_y=True, as_names=True)
    assert y.tolist() == ["happy", "angry"]
    assert load_fer2013(path, usage="PublicTest", as_names=True).target.tolist() == ["angry"]
    assert load_fer2013(path).target.tolist() == [3, 0]


def test_csv_variants_and_blank_lines(tmp_path):
    import bz2

    text = f"emotion,pixels,Usage\n\n3,{_pixels(0)},Training\n0,\"{_pixels(1)}\",PublicTest\n"
    plain = load_fer2013(_write(tmp_path / "a.csv", text))
    path = tmp_path / "a.csv.bz2"
    path.write_bytes(bz2.compress(text.encode()))
    packed = load_fer2013(path)
    np.testing.assert_array_equal(packed.data, plain.data)
    assert plain.target.tolist() == [3, 0] and plain.usage.tolist() == ["Training", "PublicTest"]
    with pytest.raises(ValueError,
                       match="b.csv, line 2: expected 3 fields as in the header, found 4"):
        load_fer2013(_write(tmp_path / "b.csv",
                            f"emotion,pixels,Usage\n3,{_pixels(0)},Training,x\n"))
