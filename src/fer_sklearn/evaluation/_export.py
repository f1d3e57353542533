"""Writers of an evaluation report: JSON, Markdown and HTML (tables by pandas), and the folder of
all."""

import base64
import html
import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._metrics import SUMMARY_METRICS

PNG_NAMES = {
    "Learning curves": "learning_curves.png",
    "Confusion matrix": "confusion_matrix.png",
    "Saliency per class": "saliency_per_class.png",
    "Most confident mistakes, explained": "misclassified_saliency.png",
    "Per-class metrics": "per_class_metrics.png",
    "Reliability diagram": "reliability_diagram.png",
    "Most confident mistakes": "misclassified.png",
}
"""The file name of each chart of :meth:`EvaluationReport.figures`."""


def report_dict(report):
    """The report as JSON-ready Python types; see :meth:`EvaluationReport.to_dict`."""
    bins = report.reliability
    return {
        "model": report.model,
        "n_samples": int(report.n_samples),
        "classes": list(report.class_names),
        "metrics": {key: _finite(value) for key, value in report.summary().items()},
        "per_class": {name: ({k: _finite(v) for k, v in row.items()} if isinstance(row, dict)
                             else _finite(row))
                      for name, row in report.per_class.items()},
        "confusion_matrix": report.confusion_matrix.astype(int).tolist(),
        "confusion_matrix_normalized": np.round(report.confusion_matrix_normalized, 6).tolist(),
        "reliability": {
            "edges": bins["edges"].tolist(),
            "count": bins["count"].astype(int).tolist(),
            "confidence": [_finite(v) for v in bins["confidence"]],
            "accuracy": [_finite(v) for v in bins["accuracy"]],
        },
        "history": report.history,
        "provenance": report.provenance,
    }


def _finite(value):
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------- tables
def summary_table(report):
    """The summary metrics as a one-column DataFrame indexed by metric."""
    return pd.DataFrame({"Value": [float(getattr(report, key)) for key, _ in SUMMARY_METRICS]},
                        index=pd.Index([label for _, label in SUMMARY_METRICS], name="Metric"))


def per_class_table(report):
    """Precision, recall, F1 and support of each class and of the averages."""
    names = list(report.class_names) + [name for name in ("macro avg", "weighted avg")
                                        if name in report.per_class]
    table = pd.DataFrame.from_dict({name: report.per_class[name] for name in names}, orient="index")
    table = table.rename(columns={"precision": "Precision", "recall": "Recall",
                                  "f1-score": "F1", "support": "Support"})
    table["Support"] = table["Support"].astype(int)
    return table.rename_axis("Class")


def confusion_table(report):
    """The confusion matrix with the class names: rows true, columns predicted."""
    names = pd.Index(report.class_names)
    return pd.DataFrame(report.confusion_matrix.astype(int),
                        index=names.rename("true \\ predicted"), columns=names)


# ---------------------------------------------------------------------- documents
def _intro(report):
    return (f"{report.model or 'Model'} on {report.n_samples} images, "
            f"{len(report.class_names)} classes.")


def _markdown(table):
    # object cells keep integer columns integral, and None lets a missing value read n/a
    cells = table.astype(object).where(table.notna(), None)
    return cells.to_markdown(floatfmt=".4f", missingval="n/a")


def provenance_table(report):
    """Data, model, settings, date and versions as a one-column DataFrame."""
    record = report.provenance or {}
    rows = {"Data": record.get("data"), "Images": record.get("n_images")}
    rows.update({f"Model: {key}": value for key, value in (record.get("model") or {}).items()})
    rows["Date"] = record.get("date")
    rows.update({f"Machine: {key}": value for key, value in (record.get("machine") or {}).items()})
    rows.update({f"Version: {key}": value for key, value in (record.get("versions") or {}).items()})
    return pd.DataFrame({"Value": [", ".join(map(str, v)) if isinstance(v, list) else str(v)
                                   for v in rows.values()]},
                        index=pd.Index(list(rows), name="Provenance"))


def report_markdown(report, images=None):
    """The report as a Markdown document; see :meth:`EvaluationReport.to_markdown`."""
    parts = ["# Evaluation report", _intro(report),
             "## Provenance", _markdown(provenance_table(report)),
             "## Summary", _markdown(summary_table(report)),
             "## Per class", _markdown(per_class_table(report)),
             "## Confusion matrix", "Rows: true class; columns: predicted class.",
             _markdown(confusion_table(report))]
    for title, path in (images or {}).items():
        parts += [f"## {title}", f"![{title}]({path})"]
    return "\n\n".join(parts) + "\n"


def _html_table(table):
    # the index name goes into the header's corner cell rather than a row of its own
    table = table.rename_axis(index=None, columns=table.index.name)
    return table.to_html(float_format="{:.4f}".format, na_rep="n/a", border=0)


def report_html(report, figures):
    """The report as one self-contained HTML page; see :meth:`EvaluationReport.to_html`."""
    charts = "".join(
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{_png_base64(fig)}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>" for title, fig in figures.items())
    return _HTML.format(
        title="Evaluation report", intro=html.escape(_intro(report)),
        provenance=_html_table(provenance_table(report)),
        summary=_html_table(summary_table(report)), per_class=_html_table(per_class_table(report)),
        confusion=_html_table(confusion_table(report)), charts=charts)


def _png_base64(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def save_report(report, directory):
    """Write the report and its charts into ``directory``; see :meth:`EvaluationReport.save`."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{directory} exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    figures = report.figures()
    paths = {}
    try:
        for title, fig in figures.items():
            paths[PNG_NAMES[title]] = directory / PNG_NAMES[title]
            fig.savefig(paths[PNG_NAMES[title]], dpi=150, bbox_inches="tight")
        documents = {
            "metrics.json": json.dumps(report_dict(report), indent=2) + "\n",
            "report.md": report_markdown(report, {title: PNG_NAMES[title] for title in figures}),
            "report.html": report_html(report, figures),
        }
        for name, text in documents.items():
            paths[name] = directory / name
            paths[name].write_text(text, encoding="utf-8")
    finally:
        for fig in figures.values():
            plt.close(fig)
    return paths


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 980px;
       margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 0.3em 0.9em; border-bottom: 1px solid #ddd; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
th {{ text-align: left; font-weight: 600; }}
figure {{ margin: 2em 0; }}
figure img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<h2>Provenance</h2>
{provenance}
<h2>Summary</h2>
{summary}
<h2>Per class</h2>
{per_class}
<h2>Confusion matrix</h2>
<p>Rows: true class; columns: predicted class.</p>
{confusion}
<h2>Charts</h2>
{charts}
</body>
</html>
"""
