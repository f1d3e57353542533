"""``fer-sklearn serve`` with saliency maps: ``POST /v1/analyze?explain=true`` adds each face's
map (a grid over its box), the answer without it is unchanged, and the page has a toggle per
face that draws the map on the photo (in headless Chromium where it is installed)."""

import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from fer_sklearn import EmotionRecognizer

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'fer-sklearn[serve]'")
pytest.importorskip("uvicorn", reason="needs the serve extra")
pytest.importorskip("httpx", reason="needs httpx (the test extra)")
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`")
    from fastapi.testclient import TestClient  # noqa: E402

from fer_sklearn.serve import create_app  # noqa: E402

from .._serving import PHOTO, photo_file, serving  # noqa: E402


@pytest.fixture(scope="module")
def app(shipped):
    return create_app(shipped["fast"], workers=1)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


def test_maps_come_only_when_asked_for(client, shipped):
    plain = client.post("/v1/analyze", files=photo_file()).json()
    assert [set(face) for face in plain["faces"]] == [{"box", "score", "emotion",
                                                       "probabilities"}]
    answer = client.post("/v1/analyze?explain=true", files=photo_file())
    assert answer.status_code == 200, answer.text
    explained = answer.json()
    (face,) = explained["faces"]
    assert {k: v for k, v in face.items() if k != "saliency"} == plain["faces"][0]
    (truth,) = EmotionRecognizer(shipped["fast"], n_jobs=1).analyze(PHOTO, explain=True)
    box = face["saliency"]["box"]
    assert tuple(box[k] for k in "xywh") == truth["saliency_box"]
    grid = np.array(face["saliency"]["values"])
    assert grid.shape == (48, 48) and grid.min() >= 0 and grid.max() > 0.5
    # the grid is the recognizer's map, shrunk to the model's input size
    shrunk = np.asarray(Image.fromarray(truth["saliency"]).resize((48, 48), Image.BOX))
    np.testing.assert_allclose(grid, shrunk, atol=1e-3)


def test_the_schema_documents_the_query_and_the_maps(client):
    schema = client.get("/openapi.json").json()
    parameters = schema["paths"]["/v1/analyze"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["explain"]
    assert "Saliency" in schema["components"]["schemas"]


def test_page_has_a_toggle_per_face(shipped):
    browser_binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver")
    if browser_binary is None or driver is None:
        pytest.skip("Chromium or its driver is not installed "
                    "(apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = browser_binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=webdriver.ChromeService(driver), options=options)
    try:
        with serving(create_app(shipped["fast"], workers=1)) as url:
            browser.get(f"{url}/")
            browser.find_element(By.ID, "photo").send_keys(str(PHOTO))
            WebDriverWait(browser, 60).until(lambda b: b.find_element(
                By.TAG_NAME, "body").get_attribute("data-state") in ("done", "error"))
            canvas = browser.find_element(By.ID, "canvas")
            assert canvas.get_attribute("data-saliency") == "0"  # off until asked for
            (toggle,) = browser.find_elements(By.CSS_SELECTOR, "#faces input[type=checkbox]")
            before = _canvas_pixels(browser, canvas)
            toggle.click()
            assert canvas.get_attribute("data-saliency") == "1"
            after = _canvas_pixels(browser, canvas)
            (truth,) = EmotionRecognizer(shipped["fast"], n_jobs=1).analyze(PHOTO, explain=True)
            x, y, w, h = truth["saliency_box"]
            changed = (before != after).any(axis=2)
            assert changed[y:y + h, x:x + w].mean() > 0.2
            outside = changed.copy()
            outside[y:y + h, x:x + w] = False
            assert not outside.any()
            toggle.click()
            np.testing.assert_array_equal(_canvas_pixels(browser, canvas), before)
    finally:
        browser.quit()


def _canvas_pixels(browser, canvas):
    data = browser.execute_script(
        "const c = arguments[0]; return Array.from(c.getContext('2d')"
        ".getImageData(0, 0, c.width, c.height).data);", canvas)
    return np.array(data, dtype=np.uint8).reshape(512, 512, 4)
