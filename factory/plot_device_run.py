"""Chart the PublicTest accuracy per epoch of every network of a GPU run.

Reads the ``results.json`` of ``train_flagship.py`` (each network's ``curve``) and that of
run 1 (2026-11-27, each epoch a record of its own).

    python factory/plot_device_run.py factory/runs/device-run-1/results.json \\
        docs/images/device_run_curves.png
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("out")
    args = parser.parse_args(argv)
    results = json.loads(open(args.results).read())
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, group, title in zip(axes, ("members", "students"),
                                ("ensemble members (cross-entropy)", "students (distilled)")):
        for name, record in results[group].items():
            curve = record.get("curve") or [e["valid_accuracy"] for e in record["epochs"]]
            ax.plot(range(1, len(curve) + 1), curve, label=name, lw=1.2)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    ensemble = results.get("ensemble") or {}
    score = ensemble.get("public_test_accuracy", ensemble.get("tta=False"))
    if score is not None:
        axes[0].axhline(score, color="k", ls="--", lw=0.8, label="ensemble")
        axes[0].legend()
    axes[0].set_ylabel("PublicTest accuracy")
    fig.suptitle(f"{results['machine']['card']}, {results['machine']['date']}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
