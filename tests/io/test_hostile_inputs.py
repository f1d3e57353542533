"""Photos from the wild: broken files, decompression bombs and odd formats in a batch job.

``fer-sklearn predict`` over a generated folder of 100 files, 20 of them broken (two of
each kind in ``tests/_hostile.py``): every file gets a row, every broken one exactly one
with status ``error`` and its reason, and nothing crashes; unusual valid images (16-bit,
CMYK, animated, alpha, a file name that is not UTF-8...) are read like any other. The
1,000-file run and its peak memory: ``benchmarks/bench_hostile.py``. Budget: about 15 s.
"""

import csv
import json
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image

from fer_sklearn.cli import main
from fer_sklearn.datasets import make_hostile_folder
from fer_sklearn.io import iter_image_paths, read_image

REASONS = {
    "empty.jpg": "empty file (0 bytes)",
    "truncated.jpg": "not a readable image",
    "text.jpg": "not a readable image (UnidentifiedImageError",
    "bomb.png": "refused without decoding as a possible decompression bomb",
    "nearbomb.png": "10000x10000 pixels is over Pillow's limit",
    "corrupt.png": "not a readable image",
    "folder.jpg": "is a folder, not an image file",
    "dangling.jpg": "broken symbolic link",
    "loop.jpg": "cannot be read (Too many levels of symbolic links)",
    "fifo.png": "not a regular file",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("wild") / "photos"
    bad, good = make_hostile_folder(root, 100, n_bad=2 * len(REASONS))
    return root, bad, good


def _printable(path):
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@pytest.mark.parametrize("output", ["rows.csv", "rows.json"])
def test_predict_gives_every_file_a_row_and_each_bad_one_its_reason(output, folder, tmp_path,
                                                                    capsys):
    root, bad, good = folder
    assert main(["predict", str(root), "--output", str(tmp_path / output)]) == 1  # some failed
    with open(tmp_path / output, encoding="utf-8") as file:
        rows = json.load(file) if output.endswith(".json") else list(csv.DictReader(file))
    by_file = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    assert set(by_file) == {_printable(p) for p in bad + good}  # no file lost, none invented
    for path in bad:
        (row,) = by_file[_printable(path)]  # exactly one row
        kind = path.name.split("-", 2)[2]
        assert row["status"] == "error" and REASONS[kind] in row["error"], (kind, row["error"])
    for path in good:
        assert {row["status"] for row in by_file[_printable(path)]} <= {"ok", "no_face"}, path
    assert sum(row["status"] == "ok" for row in rows) > 0.8 * len(good)
    assert f"{len(bad)} image(s) could not be read" in capsys.readouterr().err


def test_a_folder_named_like_an_image_is_reported_and_searched(tmp_path):
    (tmp_path / "album.jpg").mkdir()
    Image.new("L", (8, 8)).save(tmp_path / "album.jpg" / "inside.png")
    assert list(iter_image_paths([tmp_path])) == [tmp_path / "album.jpg",
                                                  tmp_path / "album.jpg" / "inside.png"]


def test_unusual_valid_images_read_as_their_plain_version(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    rgb = np.dstack([gray, np.roll(gray, 1), np.roll(gray, 2)])
    plain = read_image(rgb)
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), gray)  # not clipped white
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "alpha.png")
    np.testing.assert_array_equal(read_image(tmp_path / "alpha.png"), plain)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert np.abs(read_image(tmp_path / "cmyk.jpg").astype(int) - plain).mean() < 4
    frames = [Image.fromarray(gray), Image.fromarray(255 - gray)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    np.testing.assert_array_equal(read_image(tmp_path / "anim.gif"), gray)  # the first frame
    floats = Image.fromarray(gray.astype(np.float32) / 255)
    np.testing.assert_array_equal(read_image(floats), gray)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_decompression_bombs_are_refused_without_decoding(folder):
    """In a fresh process, so that its peak memory is the reader's alone."""
    root, bad, _ = folder
    bombs = [str(p) for p in bad if "bomb" in p.name]
    script = (
        "import re, sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from fer_sklearn.io import read_image\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        read_image(path)\n"
        "    except ValueError as exc:\n"
        "        print('refused', exc)\n"
        # the peak of this process image (ru_maxrss would keep the forking parent's)
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", script, *bombs], capture_output=True,
                          text=True, check=True)
    lines = done.stdout.splitlines()
    assert sum(line.startswith("refused") for line in lines) == len(bombs) == 4
    # decoding even the smaller bomb (10000x10000) would take over 100 MiB more
    assert int(lines[-1]) < 400, f"peak RSS {lines[-1]} MiB"
