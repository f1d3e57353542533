"""Benchmark the saliency maps: faithfulness (deletion), sanity checks and speed on the CPU.

    python benchmarks/bench_saliency.py [--data ../shared/data/fer2013/fer2013.csv.gz]
                                        [--only faithfulness sanity speed] [--models ...]

Faithfulness: on the first ``--n`` (500) FER2013 PublicTest faces, each face's 20% most
relevant pixels (a 21x21 square's 441 of 2304) are replaced by the face's mean, and
separately a 21x21 square at a random place (seed 0); the ratio of the mean drops of the
predicted class's probability (:func:`fer_sklearn.explanation.deletion_score`). The tests
ask >= 2.0 of the default method with the ``default`` model
(``tests/explain/test_faithfulness.py``). ``layercam_all`` is LayerCAM with the last block
too, which the package leaves out (see ``fer_sklearn/explanation/_cam.py``).

Sanity (Adebayo et al., 2018), on the first 200 faces with each model in float32: the mean
Spearman rank correlation of each face's map with the map of the same network with
re-initialised weights (should be low), and of the maps for "happy" and for "angry".

Speed: ``explain`` on a batch of 256 faces against ``predict_proba`` with
``precision="32"`` (best of 5), and occlusion's cost per face. Writes
``benchmarks/results/saliency.json`` and prints Markdown tables.
"""

import argparse
import copy
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from scipy.stats import spearmanr

from fer_sklearn import explain, load_fer2013, load_pretrained
from fer_sklearn.explanation import deletion_score
from fer_sklearn.explanation._cam import cam_maps

RESULTS = Path(__file__).parent / "results" / "saliency.json"
METHODS = ("layercam", "gradcam", "occlusion", "layercam_all")


def maps_of(model, X, method, target=None):
    """``explain``'s maps, or for ``layercam_all`` the same computation with every block."""
    if method != "layercam_all":
        return explain(model, X, method=method, target=target)
    classes = list(model.classes_)
    targets = (model.predict_proba(X).argmax(axis=1) if target is None
               else np.array([classes.index(t) for t in np.broadcast_to(target, len(X))]))
    inputs = model[:-1].transform(X)[:, None].copy()
    maps = cam_maps(model[-1].module_, inputs, targets, method="layercam_all")
    return maps / np.maximum(maps.max(axis=(1, 2), keepdims=True), 1e-12)


def faithfulness(models, X):
    rows = []
    for name, model in models.items():
        for method in METHODS:
            start = time.perf_counter()
            result = deletion_score(model, X, maps_of(model, X, method), fraction=0.2,
                                    random_state=0)
            rows.append({"model": name, "method": method, "ratio": round(result.ratio, 3),
                         "relevant_drop": round(result.relevant_drop, 4),
                         "random_square_drop": round(result.random_drop, 4),
                         "seconds": round(time.perf_counter() - start, 1)})
            print(rows[-1], flush=True)
    return rows


def _rho(a, b):
    """Mean Spearman correlation over faces; a map of zeros (a face whose occlusion never
    lowers the probability) has none and is left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(np.nanmean([spearmanr(x.ravel(), y.ravel())[0] for x, y in zip(a, b)]))


def sanity(models, X):
    rows = []
    for name, model in models.items():
        model = copy.deepcopy(model).set_params(clf__precision="32")
        randomized = copy.deepcopy(model)
        torch.manual_seed(0)
        for layer in randomized[-1].module_.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
            if hasattr(layer, "reset_running_stats"):
                layer.reset_running_stats()
        target = model.predict(X)
        for method in METHODS:
            trained = maps_of(model, X, method, target)
            rows.append({"model": name, "method": method,
                         "rho_random_weights": round(_rho(trained, maps_of(randomized, X, method,
                                                                           target)), 3),
                         "rho_happy_vs_angry": round(_rho(maps_of(model, X, method, "happy"),
                                                          maps_of(model, X, method, "angry")), 3)})
            print(rows[-1], flush=True)
    return rows


def _best(fn, repeats=5):
    fn()  # warm-up: the folded copies are built once
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed(models, X):
    rows = []
    batch = X[:256]
    for name, model in models.items():
        model = copy.deepcopy(model)
        auto = model[-1].inference_precision()
        float32 = copy.deepcopy(model).set_params(clf__precision="32")
        predict = _best(lambda float32=float32: float32.predict_proba(batch))
        row = {"model": name, "auto_precision": auto,
               "predict_proba_32_ms": round(1000 * predict, 1)}
        for method in ("layercam", "gradcam"):
            for label, which in (("32", float32), ("auto", model)):
                seconds = _best(lambda which=which, method=method: explain(which, batch,
                                                                           method=method))
                row[f"{method}_{label}_ms"] = round(1000 * seconds, 1)
                row[f"{method}_{label}_x_predict"] = round(seconds / predict, 2)
        faces = X[:32]
        seconds = _best(lambda model=model, faces=faces: explain(model, faces,
                                                                 method="occlusion"), repeats=2)
        row["occlusion_ms_per_face"] = round(1000 * seconds / len(faces), 2)
        row["occlusion_x_predict_per_face"] = round(seconds / len(faces) / (predict / 256), 1)
        rows.append(row)
        print(row, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/fer2013/fer2013.csv.gz")
    parser.add_argument("--only", nargs="+", choices=("faithfulness", "sanity", "speed"),
                        default=["faithfulness", "sanity", "speed"])
    parser.add_argument("--models", nargs="+", default=["default", "fast", "accurate"])
    parser.add_argument("--n", type=int, default=500, help="faces for faithfulness")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    machine = machine_info()
    machine["torch_threads"] = torch.get_num_threads()
    X, _ = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    models = {name: load_pretrained(name) for name in args.models}
    result, tables = {}, []
    if "faithfulness" in args.only:
        result["faithfulness"] = faithfulness(models, X[:args.n])
        tables.append(markdown_table(result["faithfulness"]))
    if "sanity" in args.only:
        result["sanity"] = sanity(models, X[:200])
        tables.append(markdown_table(result["sanity"]))
    if "speed" in args.only:
        result["speed"] = speed(models, X)
        tables.append(markdown_table(result["speed"]))
    write_results(args.out, result, "\n\n".join(tables),
                  f"FER2013 PublicTest, first {args.n} faces (faithfulness) and 200 (sanity); "
                  "speed on a batch of 256 faces", machine)


if __name__ == "__main__":
    main()
