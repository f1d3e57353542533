"""Export the networks of a ``train_flagship.py`` run into the package's shipped models.

The run's packed files (``RUN/accurate-<i>.safetensors``, ``RUN/students-1.safetensors``)
become the shipped format (:func:`fer_sklearn.pretrained.export_pretrained`: one
safetensors file of ``save_model`` per model, weights in fp16): ``accurate`` the
mean-logit ensemble of ``--accurate`` (default: all the run's members), ``default``
and ``fast`` the students named. Each file records how its networks were trained: the
classifier's parameters are those of the recipe (optimizer, rate, batch, epochs,
augmentation, label smoothing), and ``metrics["training"]`` says what parameters cannot
(the schedule set every batch, the teacher, the card, the command). Other model files in
the folder are removed, and the total must stay within the 50 MB cap. The classes are put in
sorted order (``np.unique``'s, as any fitted classifier has them), the output units with them.
The same run folder gives the same files, byte for byte; then ``calibrate_int8.py`` adds the
int8 ranges.

    python factory/export_run.py runs/flagship3
    python factory/export_run.py runs/flagship3 --accurate v64a v64d3 --weights /tmp/w

A model replaces the file of its name in ``--weights`` only where it is more accurate on
PublicTest (scored here, in float32 on the CPU) by ``--min-gain`` (half a point): less is
within what seeds do, and the shipped file stays.

``--record-run-1`` rewrites the shipped files of run 1 (2026-11-27, whose networks were
trained by a script since replaced by ``train_flagship.py``) with that record, from
``runs/device-run-1/results.json``: their weights, and so their sha256, stay as they are.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from _toolbox import read_packed
from train_flagship import MEMBERS, STUDENTS, load_faces, optimizer_settings

from fer_sklearn import load_model
from fer_sklearn.persistence import read_description
from fer_sklearn.pipeline import EmotionPipeline
from fer_sklearn.preprocessing import Grayscale, ImageResizer, PixelNormalizer
from fer_sklearn.pretrained import WEIGHTS_DIR, export_pretrained
from fer_sklearn.training import make_recipe

CAP_BYTES = 50e6
RUN_1 = Path(__file__).parent / "runs" / "device-run-1" / "results.json"
SCHEDULE = ("the rate warmed up over 3% of the training, then a cosine to 0, set every batch "
            "(WarmupCosine); the epoch of best PublicTest accuracy kept")
# the parameters a model file keeps of how its network was trained (not where it runs)
_NOT_RECORDED = ("module", "classes", "device", "callbacks", "verbose", "precision", "tta",
                 "tta_shift", "warm_start")


def recipe_params(recipe, n_epochs, *, teacher=None, **settings):
    """The classifier parameters of ``make_recipe(recipe)``, as a model file records them."""
    clf = make_recipe(recipe, max_epochs=max(1, int(n_epochs)), teacher=teacher, **settings)
    params = clf.to_classifier().get_params(deep=False)
    return {k: v for k, v in params.items()
            if k not in _NOT_RECORDED and not k.startswith("module__")}


def member_params(name, row, batch_size):
    """How a member of ``train_flagship.py`` was trained (its spec in ``MEMBERS``)."""
    spec = MEMBERS.get(name, {})
    settings = optimizer_settings(spec.get("optimizer", "adamw"), batch_size, lr=spec.get("lr"))
    return recipe_params("m40", row["n_epochs"], batch_size=batch_size,
                         mixup=spec.get("mixup", 0.0), cutmix=spec.get("cutmix", 0.0),
                         random_state=spec.get("seed"), **settings)


def pipelines(run):
    """Each network of the run as a fitted pipeline (the run's preprocessing, its classifier)."""
    results = json.loads((run / "results.json").read_text())
    norm = results["normalize"]
    networks = read_packed(sorted(run.glob("accurate-*.safetensors"))
                           + sorted(run.glob("students-*.safetensors")))
    steps = [("grayscale", Grayscale()), ("resize", ImageResizer(size=48)),
             ("normalize", PixelNormalizer(mean=norm["mean"], std=norm["std"]))]
    out = {}
    for name, (clf, entry) in networks.items():
        pipe = EmotionPipeline([(n, type(s)(**s.get_params())) for n, s in steps] + [("clf", clf)])
        pipe[:-1].fit(np.full((1, 48, 48), 255, dtype=np.uint8))  # mean and std are given
        out[name] = (pipe, entry)
    return out, results


def sort_classes(pipeline):
    """The pipeline with its classes in sorted order, as scikit-learn's classifiers give them.

    The network's output units are put in the same order, so each class's logit is computed
    as before; the int8 ranges (observed on the old order) go: ``calibrate_int8.py`` next.
    """
    clf = pipeline[-1]
    classes = np.asarray(clf.classes_)
    order = np.argsort(classes, kind="stable")
    if list(order) != list(range(len(order))):
        clf.module_.reorder_classes(order)
        clf.classes_inferred_ = classes[order]
        clf.classes = classes[order].tolist() if clf.classes is not None else None
        clf.__dict__.pop("int8_ranges_", None)
    return pipeline


def write_models(models, folder, version, training):
    """Write ``{name: (pipelines, params, scores)}`` into ``folder`` as shipped model files."""
    for name, (pipes, params, scores) in models.items():
        pipes = [sort_classes(pipe) for pipe in pipes]
        export_pretrained(pipes, name, directory=folder, version=version, params=params,
                          metrics={"members": scores, "training": training[name]})


def export(models, weights, version, training):
    """Write ``{name: (pipelines, params, scores)}`` into ``weights``; the files' total size."""
    write_models(models, weights, version, training)
    return tidy(weights, models)


def public_test_accuracy(path, faces):
    """The accuracy of the model file ``path`` on ``faces`` (X, y), in float32 on the CPU."""
    model = load_model(path, device="cpu").set_params(clf__precision="32")
    return float(model.score(*faces))


def replace_where_better(new, weights, names, read_faces, min_gain):
    """Copy each model ``name`` from ``new`` into ``weights`` where it beats the file there.

    A model replaces the one in ``weights`` only if it is more accurate on the faces
    ``read_faces()`` gives (PublicTest's ``X, y``, read at the first comparison) by at
    least ``min_gain``: less is within what seeds do. Where ``weights`` has no such
    file, it is copied.
    """
    faces = None
    for name in names:
        file = f"{name}.safetensors"
        if (weights / file).exists():
            faces = faces or read_faces()
            before, after = (public_test_accuracy(f / file, faces) for f in (weights, new))
            better = after >= before + min_gain
            verdict = "replaces" if better else "does not replace"
            print(f"{name}: {after:.2%} on PublicTest {verdict} the shipped {before:.2%} "
                  f"(at least {min_gain:.1%} more wanted)")
            if not better:
                continue
        shutil.copyfile(new / file, weights / file)


def tidy(weights, models):
    """Remove the model files in ``weights`` other than ``models``'; their total size."""
    keep = {f"{m}.safetensors" for m in models}
    total = 0
    for path in sorted(weights.iterdir()):
        if path.suffix in (".json", ".int8", ".safetensors") and path.name not in keep:
            path.unlink()
            continue
        total += path.stat().st_size
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB (cap {CAP_BYTES / 1e6:.0f} MB)")
    if total > CAP_BYTES:
        raise SystemExit("the exported weights pass the 50 MB cap")
    return total


def from_run(args):
    """The models of a ``train_flagship.py`` run folder."""
    networks, results = pipelines(args.run)
    members = args.accurate or list(results["members"])
    batch = results.get("batch_size", 1024)
    where = (f"{results['machine']['card']}, {results['machine']['date']}, "
             f"factory/train_flagship.py")
    rows = {**results["members"], **results["students"]}
    scores = {n: {k: rows[n].get(k) for k in ("public_test_accuracy", "n_epochs", "images_per_s",
                                              "tflops", "network")} for n in rows}
    student_batch = min(512, batch)
    models = {
        "accurate": ([networks[n][0] for n in members],
                     member_params(members[0], rows[members[0]], batch),
                     {n: scores[n] for n in members}),
        **{shipped: ([networks[shipped][0]],
                     recipe_params(STUDENTS[shipped], rows[shipped]["n_epochs"],
                                   teacher="accurate", batch_size=student_batch,
                                   lr=2e-3 * (student_batch / 128) ** 0.5),
                     {shipped: scores[shipped]}) for shipped in ("default", "fast")},
    }
    training = {
        "accurate": f"members {', '.join(members)} ({SCHEDULE}; label smoothing 0.1), "
                    f"combined by their mean logits; on {where}",
        **{shipped: f"{STUDENTS[shipped]} distilled from the run's ensemble (0.75 x KL at "
                    f"temperature 2 + 0.25 x cross-entropy; {SCHEDULE}), warm-started from the "
                    f"shipped {shipped}; on {where}" for shipped in ("default", "fast")},
    }
    version = (results["machine"].get("date") or "")[:10] or None
    with tempfile.TemporaryDirectory() as folder:
        write_models(models, Path(folder), version, training)
        replace_where_better(Path(folder), args.weights, models,
                             lambda: load_faces(args.data, None)[2:], args.min_gain)
    return tidy(args.weights, models)


def record_run_1(args):
    """The shipped files of run 1, rewritten with the record of how it trained them."""
    results = json.loads(RUN_1.read_text())
    train = results["train"]
    where = (f"{results['machine']['card']}, {results['machine']['date']}, run 1 "
             f"(factory/RUNS.md; its script since replaced by factory/train_flagship.py)")
    epochs = {name: len(row["epochs"]) for group in ("members", "students")
              for name, row in results[group].items()}
    common = dict(batch_size=train["batch_size"], lr=train["lr"],
                  optimizer__weight_decay=train["weight_decay"])
    networks = {"accurate": ("m40", results["ensemble"]["members"], None),
                "default": ("s24", ["s24"], "accurate"), "fast": ("s16", ["s16"], "accurate")}
    models, training = {}, {}
    for name, (recipe, trained, teacher) in networks.items():
        path = args.weights / f"{name}.safetensors"
        document = read_description(path)
        params = recipe_params(recipe, max(epochs[n] for n in trained), teacher=teacher, **common)
        models[name] = ([load_model(path)], params, document["metrics"].get("members", {}))
        training[name] = (
            f"members {', '.join(trained)} side by side, 270 s each ({SCHEDULE} over the "
            f"seconds; label smoothing {train['label_smoothing']}), combined by their mean "
            f"logits; on {where}" if teacher is None else
            f"{recipe} distilled from run 1's members, 110 s (0.75 x KL at temperature 2 + 0.25 "
            f"x cross-entropy; {SCHEDULE} over the seconds); on {where}")
    version = results["machine"]["date"]
    export(models, args.weights, version, training)  # the int8 ranges travel with the weights
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", help="OUT folder of train_flagship.py")
    parser.add_argument("--accurate", nargs="+", help="members of accurate (default: all)")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--min-gain", type=float, default=0.005,
                        help="PublicTest accuracy a model must gain over the file of its name "
                             "in --weights to replace it (default: 0.005, half a point)")
    parser.add_argument("--data", help="FER2013 as the run read it (default: the run's search)")
    parser.add_argument("--record-run-1", action="store_true",
                        help="rewrite run 1's shipped files with the record of their training")
    args = parser.parse_args(argv)
    if args.record_run_1:
        return record_run_1(args)
    if args.run is None:
        parser.error("give the run folder, or --record-run-1")
    return from_run(args)


if __name__ == "__main__":
    main()
