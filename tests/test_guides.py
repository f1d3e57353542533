"""The code of the README and the guides runs, page by page, at a reduced size.

Each page's Python blocks run in order in one namespace, in a folder that holds the files
they name (a FER2013-format ``fer2013.csv.gz`` of drawn faces, photos from
``tests/data/photos`` and matplotlib, a face folder), with every ``max_epochs`` and
``epochs`` cut to 1. Names a page takes from the reader's own work (``faces``, ``X``,
``paths``, ``pipe``, ...) are given to it; the library's names it must import itself, so a
missing import fails here. ``>>>`` sessions run as doctests, their output compared, and the
accuracy the pages state is measured on PublicTest. The
blocks that need something a test cannot have (a server, a cluster, GPUs) are listed in
``NOT_RUN`` with why; an entry that no longer matches a block fails too.

Budget: about 2 minutes on 2 CPU cores (marked slow); the pages' figures at full size are
the guides' own, with their commands.
"""

import doctest
import gzip
import re
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from fer_sklearn import EMOTIONS, load_fer2013, load_pretrained, make_emotion_pipeline, make_faces

from ._photos import PHOTOS, group_photo

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md")),
         *sorted((ROOT / "docs").glob("*.md"))]

# (page, a string of the block): why it does not run here
NOT_RUN = {
    ("serve.md", "httpx.post"): "needs `fer-sklearn serve` running (tests/serve test the "
                                "endpoint through FastAPI's TestClient)",
    ("scale_out.md", 'backend="dask"'): "needs a Dask client that outlives the block, which "
                                        "the page's first block closes",
    ("scale_out.md", "write_predictions(load_pretrained()"): "needs a Dask scheduler at a "
                                                             "named address",
    ("scale_out.md", "accelerate launch"): "needs GPUs and Accelerate's launcher",
}


def _blocks(page):
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def _not_run(page, block):
    return next((why for (name, key), why in NOT_RUN.items()
                 if name == page.name and key in block), None)


def _reduced(block):
    """The block at test size: one epoch wherever it trains."""
    block = re.sub(r"\bmax_epochs=\d+", "max_epochs=1", block)
    return re.sub(r"\bclf__epochs=\d+", "clf__epochs=1", block)


def _write_fer2013_csv(path, n_training=280, n_public=140):
    """Drawn faces in FER2013's CSV format (emotion, pixels, Usage), gzipped."""
    X, y = make_faces(n_training + n_public, random_state=0)
    usage = ["Training"] * n_training + ["PublicTest"] * n_public
    with gzip.open(path, "wt") as out:
        out.write("emotion,pixels,Usage\n")
        for face, label, split in zip(X, y, usage):
            out.write(f"{label},{' '.join(map(str, face.ravel()))},{split}\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with the files the pages name."""
    import cv2
    from PIL import Image

    folder = tmp_path_factory.mktemp("guides")
    _write_fer2013_csv(folder / "fer2013.csv.gz")
    cv2.imwrite(str(folder / "party.jpg"), group_photo()[:, :, ::-1])
    shutil.copy(folder / "party.jpg", folder / "photo.jpg")
    shutil.copy(PHOTOS / "astronaut.jpg", folder / "portrait1.jpg")
    shutil.copy(PHOTOS / "astronaut.jpg", folder / "astronaut.jpg")
    shutil.copy(PHOTOS / "cameraman.jpg", folder / "portrait2.jpg")
    faces, labels = make_faces(21, random_state=1)
    Image.fromarray(faces[0]).save(folder / "face.png")
    for k, (face, label) in enumerate(zip(faces, labels)):
        (folder / "faces" / "train" / EMOTIONS[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(face).save(folder / "faces" / "train" / EMOTIONS[label] / f"{k}.png")
    return folder


@pytest.fixture(scope="module")
def given(workdir):
    """What a page takes from the reader's own work: faces, data, photos, a fitted pipeline."""
    X, y = load_fer2013(workdir / "fer2013.csv.gz", usage="Training", return_X_y=True)
    X_valid, y_valid = load_fer2013(workdir / "fer2013.csv.gz", usage="PublicTest",
                                    return_X_y=True)
    faces, _ = make_faces(5, random_state=2)
    pipe = make_emotion_pipeline(max_epochs=1, random_state=0).fit(X, y)
    return {"X": X, "y": y, "X_valid": X_valid, "y_valid": y_valid, "faces": faces,
            "X_mine": X_valid[:40], "y_mine": np.array(EMOTIONS)[y_valid[:40]],
            "paths": ["party.jpg", "portrait1.jpg", "portrait2.jpg"], "pipe": pipe}


@pytest.mark.fer2013
def test_the_accuracy_the_pages_state_is_the_shipped_models(fer2013_csv):
    """The README's and getting started's "0.664 in float32", on all of PublicTest."""
    stated = {page.name: re.findall(r"# (0\.\d+) in float32", page.read_text())
              for page in (ROOT / "README.md", ROOT / "docs" / "guide" / "getting_started.md")}
    assert all(stated.values()), stated
    X, y = load_fer2013(fer2013_csv, usage="PublicTest", return_X_y=True, as_names=True)
    model = load_pretrained(device="cpu").set_params(clf__precision="32")
    measured = f"{model.score(X, y):.3f}"
    assert all(figure == [measured] for figure in stated.values()), (stated, measured)


def test_not_run_lists_only_blocks_that_exist():
    blocks = {(page.name, block) for page in PAGES for block in _blocks(page)}
    for name, key in NOT_RUN:
        assert any(page == name and key in block for page, block in blocks), (name, key)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_the_pages_code_runs(page, workdir, given, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(workdir)
    namespace = {"__name__": "__guide__", **given}
    ran, not_run = 0, []
    for number, block in enumerate(_blocks(page)):
        if why := _not_run(page, block):
            not_run.append(why)
            continue
        if block.lstrip().startswith(">>>"):  # a session: its output is checked
            test = doctest.DocTestParser().get_doctest(block, namespace, page.name, None, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            assert runner.failures == 0, f"{page.name}, block {number + 1}: output differs"
        else:
            code = compile(_reduced(block), f"{page.name}, block {number + 1}", "exec")
            exec(code, namespace)
        ran += 1
    if not ran:
        pytest.skip("; ".join(not_run))
    import matplotlib.pyplot as plt

    plt.close("all")
