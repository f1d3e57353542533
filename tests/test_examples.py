"""The gallery's examples (examples/<section>/plot_*.py): their layout.

The documentation build (``make docs``, which CI runs after the tests) runs each of them
through sphinx-gallery and fails on an example that raises; running them here as well cost
four minutes of every test run. Budget: well under 1 s.
"""

import re
from pathlib import Path

import pytest

import fer_sklearn

ROOT = Path(fer_sklearn.__file__).resolve().parents[2]
GALLERY = ROOT / "examples"
EXAMPLES = sorted(GALLERY.glob("*/plot_*.py"))
SECTIONS = ["basics", "data", "photos", "training", "evaluation"]


@pytest.fixture(scope="module")
def gallery():
    if not GALLERY.is_dir():
        pytest.skip("not running from a source checkout")
    return GALLERY


def test_examples_exist(gallery):
    names = {path.name for path in EXAMPLES}
    assert {
        "plot_quick_start.py", "plot_pretrained.py", "plot_image_folder.py",
        "plot_photo_workflow.py", "plot_grid_search.py", "plot_class_weights.py",
        "plot_persistence.py", "plot_evaluation_report.py", "plot_confusion_matrix.py",
        "plot_tta.py",
    } <= names
    assert not list(gallery.glob("plot_*.py")), "examples live in a section folder"


def test_each_section_has_a_header_in_the_gallery_order(gallery):
    assert (gallery / "GALLERY_HEADER.rst").is_file()
    folders = sorted(path.name for path in gallery.iterdir() if path.is_dir()
                     and not path.name.startswith(("_", ".")))
    assert folders == sorted(SECTIONS)
    for section in SECTIONS:
        assert (gallery / section / "GALLERY_HEADER.rst").is_file(), section
    conf = (ROOT / "docs" / "conf.py").read_text()
    order = re.search(r'"subsection_order": \[([^\]]*)\]', conf).group(1)
    assert re.findall(r"examples/(\w+)", order) == SECTIONS


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_has_a_gallery_title_and_cells(script):
    text = script.read_text()
    lines = text.splitlines()
    # sphinx-gallery reads the docstring's reST title: over- and underline as long as it
    assert lines[0] == '"""', script.name
    over, title, under = lines[1:4]
    assert set(over) == {"="} and over == under and len(over) == len(title), script.name
    assert "# %%" in text, script.name
