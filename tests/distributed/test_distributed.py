"""Tests of fer_sklearn.distributed: searches and batch prediction on a local Dask cluster.

Time budget: about 40 s on 2 cores. One cluster of 2 worker processes (1 thread each) serves
the module; it starts in about 5 s and its workers import torch on their first task. The
fault test starts its own cluster and kills one of its workers (about 20 s, marked slow).
"""

import os
import signal
import threading
import time

import joblib
import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from fer_sklearn import load_fer2013, make_emotion_pipeline, make_faces
from fer_sklearn.cli import main
from fer_sklearn.distributed import (
    connect,
    count_fits,
    dask_client,
    fit_on_dask,
    iter_predictions,
    thread_share,
    write_predictions,
)
from fer_sklearn.io import read_image, resize_square

from ..cli.test_cli import _write_fer_csv
from ..conftest import TINY_NET

distributed = pytest.importorskip("distributed")  # the test extra installs it

GRID = {"clf__lr": [3e-3, 1e-3], "clf__module__dropout": [0.3, 0.5]}
N_FITS = 8  # 4 candidates x 2 folds


def _search(cls=GridSearchCV, **options):
    pipe = make_emotion_pipeline(random_state=0, **TINY_NET).set_params(resize__size=24)
    # log loss separates candidates that tiny networks leave at the same accuracy
    options = dict(cv=2, scoring="neg_log_loss", error_score="raise", **options)
    if cls is GridSearchCV:
        return GridSearchCV(pipe, GRID, **options)
    return RandomizedSearchCV(pipe, GRID, n_iter=3, random_state=0, **options)


def _assert_same_search(got, expected):
    np.testing.assert_array_equal(got.cv_results_["rank_test_score"],
                                  expected.cv_results_["rank_test_score"])
    assert got.best_params_ == expected.best_params_
    # same fits with the same torch thread count: the same scores, up to float noise
    np.testing.assert_allclose(got.cv_results_["mean_test_score"],
                               expected.cv_results_["mean_test_score"], rtol=1e-6)


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def serial_search(faces):
    torch.set_num_threads(1)  # the thread count of the fits on the cluster
    return _search().fit(*faces)


def test_search_on_dask_matches_serial(client, faces, serial_search):
    seen = []
    with distributed.get_task_stream(client) as stream:
        search = fit_on_dask(_search(), *faces, client=client, torch_threads=1,
                             progress=lambda done, total: seen.append((done, total)))
    _assert_same_search(search, serial_search)
    assert seen[-1] == (N_FITS, N_FITS)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    workers = {task["worker"] for task in stream.data if "fit_and_score" in task["key"]}
    assert len(workers) == 2


def test_plain_joblib_dask_backend_randomized_search(client, faces):
    torch.set_num_threads(1)
    expected = _search(RandomizedSearchCV).fit(*faces)
    with joblib.parallel_config(backend="dask"):  # scikit-learn's own way, the default client
        search = _search(RandomizedSearchCV).fit(*faces)
    _assert_same_search(search, expected)


def _thread_probe():
    class ThreadProbe(ClassifierMixin, BaseEstimator):
        """Scores the torch thread count its fit ran with."""

        def __init__(self, c=0):
            self.c = c

        def fit(self, X, y):
            self.threads_ = torch.get_num_threads()
            self.classes_ = np.unique(y)
            return self

        def score(self, X, y):
            return self.threads_

    return GridSearchCV(ThreadProbe(), {"c": [0, 1]}, cv=2)


def _threads_of(search):
    return set(search.cv_results_["mean_test_score"])


X_PROBE, Y_PROBE = np.zeros((8, 2)), np.arange(8) % 2


def test_each_fit_sets_its_torch_threads(client):
    search = fit_on_dask(_thread_probe(), X_PROBE, Y_PROBE, client=client, torch_threads=2)
    assert _threads_of(search) == {2}
    # the worker threads ran torch with 2 threads: each fit sets its own count again
    with joblib.parallel_config(backend="fer-dask", inner_max_num_threads=1):
        assert _threads_of(_thread_probe().fit(X_PROBE, Y_PROBE)) == {1}
    search = fit_on_dask(_thread_probe(), X_PROBE, Y_PROBE, client=client)
    assert _threads_of(search) == {thread_share(2)}  # two one-thread workers on this machine


@pytest.mark.slow  # joblib's loky processes import torch: 6 s
def test_n_jobs_processes_get_their_share_of_the_cores():
    search = _thread_probe().set_params(n_jobs=2).fit(X_PROBE, Y_PROBE)  # joblib's loky
    assert _threads_of(search) == {max(1, joblib.cpu_count() // 2)}


def test_fit_on_dask_rejects_a_process_count(client, faces):
    with pytest.raises(ValueError, match="search.n_jobs=2 would run the fits in this process"):
        fit_on_dask(_search(n_jobs=2), *faces, client=client)


def test_count_fits(faces):
    assert count_fits(_search(), *faces) == N_FITS
    assert count_fits(_search(RandomizedSearchCV), *faces) == 6


@pytest.mark.parametrize("address, error, message", [
    ("tcp://127.0.0.1:1", ConnectionError, "no Dask scheduler reachable at tcp://127.0.0.1:1"),
    ("foo://bar", ValueError, "'foo://bar' is not a Dask scheduler address"),
])
def test_bad_scheduler_fails_fast_and_clearly(address, error, message):
    start = time.perf_counter()
    with pytest.raises(error, match=message):
        connect(address, timeout=1)
    assert time.perf_counter() - start < 30  # a guard against a hang, not a speed claim


# --------------------------------------------------------------------------- prediction
@pytest.fixture(scope="module")
def proba(fitted_pipeline, faces):
    return fitted_pipeline.predict_proba(faces[0])


def _gathered(model, images, client, n, **options):
    out = np.full((n, len(model.classes_)), np.nan, np.float32)
    chunks = list(iter_predictions(model, images, client=client, **options))
    for keys, chunk_proba, errors in chunks:
        assert errors == []
        out[keys] = chunk_proba
    return out, len(chunks)


def test_predictions_of_arrays_dask_arrays_and_npy_files(client, fitted_pipeline, faces, proba,
                                                        tmp_path):
    import dask.array as da

    X = faces[0]
    np.save(tmp_path / "faces.npy", X)
    sources = [(X, 4), (da.from_array(X, chunks=(100, 24, 24)), 3),
               (tmp_path / "faces.npy", 4)]
    for images, n_chunks in sources:
        got, chunks = _gathered(fitted_pipeline, images, client, len(X), chunk_size=64,
                                max_in_flight=2)
        assert chunks == n_chunks
        np.testing.assert_allclose(got, proba, atol=1e-5)


def test_write_predictions_of_a_fer2013_csv(client, fitted_pipeline, tmp_path):
    import pandas as pd

    path = _write_fer_csv(tmp_path / "faces.csv.gz", 70)
    done = []
    n = write_predictions(fitted_pipeline, path, tmp_path / "rows.csv", client=client,
                          chunk_size=32, progress=done.append)
    rows = pd.read_csv(tmp_path / "rows.csv").sort_values("key")
    expected = fitted_pipeline.predict(load_fer2013(path).data)
    assert n == 70 and done[-1] == 70 and len(done) == 3
    assert rows["key"].tolist() == list(range(70))
    assert rows["emotion"].tolist() == expected.tolist()
    assert rows["error"].isna().all()


def test_write_predictions_of_a_folder_reports_unreadable_files(client, fitted_pipeline,
                                                                tmp_path):
    import pandas as pd

    X, _ = make_faces(5, size=30, random_state=3)
    for i, image in enumerate(X):
        Image.fromarray(image).save(tmp_path / f"face{i}.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    n = write_predictions(fitted_pipeline, tmp_path, tmp_path / "rows.csv", client=client,
                          chunk_size=4)
    rows = pd.read_csv(tmp_path / "rows.csv").set_index("key")
    assert n == 6
    broken = rows.loc[str(tmp_path / "broken.png")]
    assert pd.isna(broken["emotion"]) and "broken.png" in broken["error"]
    faces_only = rows.drop(str(tmp_path / "broken.png")).sort_index()
    # the workers read and resize files as training and prediction do
    expected = fitted_pipeline.predict(np.stack(
        [resize_square(read_image(tmp_path / f"face{i}.png"), 24) for i in range(5)]))
    assert faces_only["error"].isna().all()
    assert faces_only["emotion"].tolist() == expected.tolist()


# --------------------------------------------------------------------------- the command line
def test_cli_search_on_a_running_scheduler(client, tmp_path, capsys):
    import pandas as pd

    data = _write_fer_csv(tmp_path / "faces.csv", 140)
    out = tmp_path / "run"
    args = ["search", "--data", str(data), "--scheduler", client.scheduler.address,
            "--param", "clf__lr=3e-3,1e-3", "--param", "clf__module__width=4",
            "--param", "resize__size=24", "--epochs", "2", "--cv", "2", "--threads", "1",
            "--out", str(out)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "4 fits on tcp://" in captured.out
    assert "4/4 fits done" in captured.err
    results = pd.read_csv(out / "cv_results.csv")
    assert len(results) == 2 and results["mean_test_score"].notna().all()
    assert joblib.load(out / "model.joblib").get_params()["clf__lr"] in (3e-3, 1e-3)
    assert (out / "report.html").is_file()


# --------------------------------------------------------------------------- faults
def _kill_one_busy_worker(client, search_thread):
    """Kill a worker process while it runs a fit and the search is still going."""
    pids = client.run(os.getpid)
    while search_thread.is_alive():
        busy = [address for address, keys in client.processing().items() if keys]
        if len(busy) == 2:
            time.sleep(0.5)  # some fits are under way on both workers
            os.kill(pids[busy[0]], signal.SIGKILL)
            return pids[busy[0]]
        time.sleep(0.05)
    pytest.fail("the search ended before a worker could be killed")


@pytest.mark.slow
def test_search_survives_a_killed_worker(faces, serial_search):
    seen, box = [], {}
    with dask_client(n_workers=2) as client:
        def search():
            box["search"] = fit_on_dask(_search(), *faces, client=client, torch_threads=1,
                                        progress=lambda done, total: seen.append(done))

        thread = threading.Thread(target=search)
        thread.start()
        killed = _kill_one_busy_worker(client, thread)
        done_at_kill = seen[-1] if seen else 0
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert killed not in client.run(os.getpid).values()  # the nanny started a new one
    assert done_at_kill < N_FITS
    assert seen[-1] == N_FITS
    search = box["search"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    _assert_same_search(search, serial_search)
