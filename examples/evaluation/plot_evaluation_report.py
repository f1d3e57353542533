"""
================================
An evaluation report with charts
================================

:func:`~fer_sklearn.evaluation.evaluate` measures a fitted model on labelled
images: accuracy, balanced accuracy, macro and weighted F1, top-2 accuracy,
log loss, per-class precision/recall/F1, the confusion matrix and the
expected calibration error. The report saves itself as JSON, Markdown and a
self-contained HTML page, and each of its charts has its own function.
"""

# %%
# Train a small model, validating on a fixed set
# ----------------------------------------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from fer_sklearn import make_emotion_pipeline, make_faces
from fer_sklearn.evaluation import (
    evaluate,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_per_class_metrics,
    plot_reliability_diagram,
)

X_train, y_train = make_faces(1400, size=32, random_state=0)
X_valid, y_valid = make_faces(210, size=32, random_state=1)
model = make_emotion_pipeline(max_epochs=12, module__width=8, module__depth=3,
                              module__hidden_units=64, random_state=0)
model.set_params(resize__size=32)
model.fit(X_train, y_train, X_valid=X_valid, y_valid=y_valid)

# %%
# The report
# ----------
report = evaluate(model, X_valid, y_valid)
print(report)
for name, value in report.summary().items():
    print(f"{name:>18s}  {value:.3f}")

# %%
# Learning curves
# ---------------
# Loss and accuracy per epoch from skorch's history, the best epoch (the one
# early stopping restores) marked, and the learning rate on its own axis.
plot_learning_curves(model)

# %%
# Confusion matrix and per-class scores
# -------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
plot_confusion_matrix(report, ax=axes[0])
plot_per_class_metrics(report, ax=axes[1])

# %%
# Calibration and the most confident mistakes
# -------------------------------------------
plot_reliability_diagram(report)
plot_misclassified(report, n_images=12)

# %%
# Saving everything
# -----------------
# ``save`` writes metrics.json, report.md, report.html and the PNG charts.
out = Path(tempfile.mkdtemp()) / "report"
paths = report.save(out)
print(sorted(path.name for path in paths.values()))
