"""The page of ``fer-sklearn serve`` in a real headless Chromium: upload a photo, see it
annotated and a bar chart per face; a bad file shows the server's message.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them where apt
can) and Selenium (the test extra); skips with the reason where one is missing. The
server runs under uvicorn on 127.0.0.1. Budget: about 10 s on 2 CPU cores.
"""

import shutil

import numpy as np
import pytest

from fer_sklearn import EMOTIONS, load_pretrained

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'fer-sklearn[serve]'")
pytest.importorskip("uvicorn", reason="needs the serve extra")
httpx = pytest.importorskip("httpx", reason="needs httpx (the test extra)")
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
from selenium.webdriver.common.by import By  # noqa: E402 - after the skips above
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from fer_sklearn.serve import create_app  # noqa: E402

from .._serving import PHOTO, photo_file, serving  # noqa: E402


@pytest.fixture(scope="module")
def live():
    with serving(create_app(load_pretrained("fast"), workers=1)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("Chromium or its driver is not installed "
                    "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=webdriver.ChromeService(driver), options=options)
    yield browser
    browser.quit()


def upload_on_page(browser, url, path):
    browser.get(f"{url}/")
    browser.find_element(By.ID, "photo").send_keys(str(path))
    WebDriverWait(browser, 60).until(
        lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-state")
        in ("done", "error"))
    return browser.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def test_page_annotates_a_dropped_photo_with_a_chart_per_face(browser, live):
    expected = httpx.post(f"{live}/v1/analyze", files=photo_file(), timeout=60).json()
    assert upload_on_page(browser, live, PHOTO) == "done"
    faces = browser.find_elements(By.CSS_SELECTOR, "#faces .face")
    assert len(faces) == len(expected["faces"]) >= 1
    canvas = browser.find_element(By.ID, "canvas")
    assert canvas.get_attribute("data-faces") == str(len(faces))
    assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("512", "512")
    for face, truth in zip(faces, expected["faces"]):
        title = face.find_element(By.TAG_NAME, "h2").text
        assert truth["emotion"] in title and f"detection score {truth['score']:.2f}" in title
        bars = face.find_elements(By.CSS_SELECTOR, "svg rect.bar")
        assert [b.get_attribute("data-emotion") for b in bars] == sorted(EMOTIONS)  # the model's
        widths = [float(b.get_attribute("width")) for b in bars]
        assert sorted(EMOTIONS)[int(np.argmax(widths))] == truth["emotion"]
    # the first box is drawn in the first colour (#e6194b) on the photo's pixels
    box = expected["faces"][0]["box"]
    pixel = browser.execute_script(
        "return Array.from(arguments[0].getContext('2d')"
        ".getImageData(arguments[1], arguments[2], 1, 1).data);",
        canvas, box["x"], box["y"] + box["h"] // 2)
    assert np.abs(np.array(pixel[:3]) - [0xE6, 0x19, 0x4B]).max() <= 12, pixel


def test_page_shows_the_servers_message_for_a_bad_file(browser, live, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a photo")
    assert upload_on_page(browser, live, path) == "error"
    message = browser.find_element(By.ID, "status").text
    assert message.startswith("415: ") and "not an image" in message
