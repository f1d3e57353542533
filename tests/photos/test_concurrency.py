"""One fitted pipeline and one EmotionRecognizer shared by 4 threads give the serial results.

A web server or a thread pool calls one model from several threads at once; nothing in
``predict_proba`` or ``analyze`` may depend on another thread's call (the face detector's
network, the predictor cache, torch's thread setting). Each worker waits at a barrier so
that the calls overlap, and goes over the inputs several times. Budget: about 10 s.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fer_sklearn import EmotionRecognizer, make_faces
from fer_sklearn.datasets import compose_photo

N_THREADS, ROUNDS = 4, 3


# compares predicted numbers: .ci/run runs it again under forced bf16 and int8
pytestmark = pytest.mark.precision


def in_threads(work, items):
    """``work(item)`` for each item, from ``N_THREADS`` threads at once, ``ROUNDS`` times over."""
    barrier = threading.Barrier(N_THREADS)

    def worker(offset):
        barrier.wait()
        results = {}
        for _ in range(ROUNDS):
            for i in range(offset, offset + len(items)):  # each thread starts elsewhere
                i %= len(items)
                results.setdefault(i, []).append(work(items[i]))
        return results

    with ThreadPoolExecutor(N_THREADS) as pool:
        return list(pool.map(worker, range(0, len(items), max(1, len(items) // N_THREADS))))


def test_pipeline_predicts_the_same_from_4_threads(fitted_pipeline):
    X, _ = make_faces(96, size=24, random_state=5)
    batches = [X[i:i + 6] for i in range(0, len(X), 6)]  # predictions of 6 faces
    serial = [fitted_pipeline.predict_proba(batch) for batch in batches]
    labels = [fitted_pipeline.predict(batch) for batch in batches]
    for results in in_threads(lambda b: (fitted_pipeline.predict_proba(b),
                                         fitted_pipeline.predict(b)), batches):
        for i, calls in results.items():
            for proba, predicted in calls:
                np.testing.assert_allclose(proba, serial[i], rtol=1e-5, atol=1e-6)
                np.testing.assert_array_equal(predicted, labels[i])


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_recognizer_analyzes_the_same_from_4_threads(fitted_pipeline, detector):
    faces, _ = make_faces(24, random_state=6)
    photos = [compose_photo(faces[i:i + 2], size=(320, 240), face_sizes=(90, 110),
                            random_state=i)[0] for i in range(0, 24, 2)]
    recognizer = EmotionRecognizer(fitted_pipeline, crop_size=24, detector=detector)
    serial = [recognizer.analyze(photo) for photo in photos]
    assert sum(len(found) for found in serial) >= len(photos)  # faces were found
    for results in in_threads(recognizer.analyze, photos):
        for i, calls in results.items():
            for found in calls:
                assert [f["box"] for f in found] == [f["box"] for f in serial[i]], i
                for face, expected in zip(found, serial[i]):
                    assert face["emotion"] == expected["emotion"]
                    np.testing.assert_allclose(list(face["scores"].values()),
                                               list(expected["scores"].values()), atol=1e-6)


def test_the_opencv_pool_lends_each_running_thread_its_own_copy():
    from fer_sklearn.faces._opencv import InstancePool

    made = []
    pool = InstancePool(lambda: made.append(object()) or made[-1])
    barrier, held = threading.Barrier(3), []

    def borrow():
        with pool.borrowed() as item:
            held.append(item)
            barrier.wait(timeout=10)  # all three hold a copy at once

    workers = [threading.Thread(target=borrow) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({id(item) for item in held}) == 3 and len(made) == 3
    with pool.borrowed() as item:  # given back, reused: no fourth copy
        assert item in made
    assert len(made) == 3
