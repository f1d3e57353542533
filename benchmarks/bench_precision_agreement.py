"""How far bf16 and int8 predictions are from float32's, on the shipped models and PublicTest.

    .venv/bin/python benchmarks/bench_precision_agreement.py [--models default fast accurate]
    ONEDNN_MAX_CPU_ISA=AVX512_CORE .venv/bin/python benchmarks/bench_precision_agreement.py \\
        --out benchmarks/results/precision_agreement_no_vnni.json

``precision="auto"`` predicts in bf16 on CPUs with AMX and in int8 on CPUs with VNNI, so
the same model gives slightly different probabilities on different CPUs. For each shipped
model this script predicts the 3,589 PublicTest faces with ``precision="32"``, ``"bf16"``
(autocast: runs on any x86 CPU, slowly without AMX) and ``"int8"`` (8-bit activations
with VNNI; 7-bit, the reduced range, where oneDNN is capped below VNNI as in the second
command), and reports for each precision the share of labels equal to float32's and the
largest and 99.9th-percentile absolute difference of a probability. The tests' tolerances
for ``auto`` rest on these figures (``docs/guide/performance.md``).
"""

import argparse

import numpy as np
from _results import machine_info, markdown_table, write_results

from fer_sklearn import load_fer2013, load_pretrained
from fer_sklearn.datasets import fer2013_file

PRECISIONS = ("bf16", "int8")


def agreement(reference, proba):
    """Labels kept and the probability differences of ``proba`` against ``reference``."""
    diff = np.abs(proba - reference)
    return {"labels_kept": float((proba.argmax(1) == reference.argmax(1)).mean()),
            "max_abs_diff": float(diff.max()),
            "p999_abs_diff": float(np.quantile(diff, 0.999))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast", "accurate"])
    parser.add_argument("--limit", type=int, default=None, help="the first N PublicTest faces")
    parser.add_argument("--out", default="benchmarks/results/precision_agreement.json")
    args = parser.parse_args(argv)
    machine = machine_info()
    X, y = load_fer2013(fer2013_file(), usage="PublicTest",
                        return_X_y=True)
    X = X[:args.limit]
    rows = []
    for name in args.models:
        model = load_pretrained(name, device="cpu")
        reference = model.set_params(clf__precision="32").predict_proba(X)
        for precision in PRECISIONS:
            proba = model.set_params(clf__precision=precision).predict_proba(X)
            rows.append({"model": name, "precision": precision, **agreement(reference, proba)})
            print(rows[-1], flush=True)
    table = markdown_table(
        [{"model": r["model"], "precision": r["precision"],
          "labels as float32": f"{r['labels_kept']:.2%}", "max |dp|": f"{r['max_abs_diff']:.4f}",
          "99.9th pct |dp|": f"{r['p999_abs_diff']:.4f}"} for r in rows])
    write_results(args.out, {"n_faces": len(X), "rows": rows}, table,
                  "dp: a probability's difference from float32's, over all faces and classes",
                  machine)


if __name__ == "__main__":
    main()
