"""Chart the PublicTest accuracy per epoch of every network of a ``train_device.py`` run.

    python benchmarks/plot_device_run.py benchmarks/results/device-run-1/results.json \\
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
            epochs = [e["epoch"] for e in record["epochs"]]
            ax.plot(epochs, [e["valid_accuracy"] for e in record["epochs"]], label=name, lw=1.2)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if results.get("ensemble"):
        axes[0].axhline(results["ensemble"]["public_test_accuracy"], color="k", ls="--", lw=0.8,
                        label="ensemble")
        axes[0].legend()
    axes[0].set_ylabel("PublicTest accuracy")
    fig.suptitle(f"train_device.py on {results['machine']['card']}, {results['machine']['date']}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
