"""
==================================
Rare emotions and ``class_weight``
==================================

FER2013 is imbalanced: *disgust* has 436 training faces against 7,215 for *happy*. A
network trained on such data can learn to never predict the rare class: it loses little
loss by ignoring it. ``class_weight="balanced"`` weights each class in the loss by the
inverse of its frequency, so that every class counts as much.

This example makes the imbalance worse than FER2013's on purpose, with drawn faces: 6
*disgust* and 20 *fear* faces among 150 of each other emotion, and compares the two
settings on a balanced test set.
"""

# %%
# An imbalanced training set
# --------------------------
import numpy as np

from fer_sklearn import EMOTIONS, make_faces

X, y = make_faces(1050, size=24, random_state=0)
rng = np.random.RandomState(0)
keep = np.ones(len(y), dtype=bool)
for emotion, n_kept in [("disgust", 6), ("fear", 20)]:
    rows = np.flatnonzero(y == EMOTIONS.index(emotion))
    keep[rng.choice(rows, len(rows) - n_kept, replace=False)] = False
X, y = X[keep], y[keep]
print("training faces per emotion:", dict(zip(EMOTIONS, np.bincount(y).tolist())))

X_test, y_test = make_faces(700, size=24, random_state=1)  # 100 of each emotion

# %%
# The same network, with and without class weights
# ------------------------------------------------
# Everything but ``class_weight`` is the same, including the seed. The fitted classifier
# keeps the weights it used in ``class_weight_``.
from fer_sklearn import make_emotion_pipeline
from fer_sklearn.evaluation import evaluate

reports = {}
for class_weight in [None, "balanced"]:
    model = make_emotion_pipeline(max_epochs=20, lr=3e-3, batch_size=32, module__width=8,
                                  module__depth=3, module__hidden_units=64,
                                  class_weight=class_weight, random_state=0)
    model.set_params(resize__size=24)
    model.fit(X, y)
    weights = model[-1].class_weight_
    print(f"class_weight={class_weight!r}: loss weights",
          "none" if weights is None else np.round(weights, 2).tolist())
    reports[class_weight] = evaluate(model, X_test, y_test)

# %%
# Recall per emotion
# ------------------
# Recall is the share of each emotion's test faces that the model finds. Accuracy alone
# hides a class the model never predicts; the balanced accuracy (the mean recall) and the
# macro F1 do not.
print(f"{'':>9s} {'unweighted':>10s} {'balanced':>9s}")
for name in EMOTIONS:
    recalls = [reports[cw].per_class[name]["recall"] for cw in reports]
    print(f"{name:>9s} {recalls[0]:10.0%} {recalls[1]:9.0%}")
for metric in ["accuracy", "balanced_accuracy", "f1_macro"]:
    values = [getattr(reports[cw], metric) for cw in reports]
    print(f"{metric:>17s}: {values[0]:.3f} unweighted, {values[1]:.3f} balanced")

# %%
# The confusion matrices
# ----------------------
# Without weights the rare faces land in the neighbouring classes; with them most are
# recognised.
import matplotlib.pyplot as plt

from fer_sklearn.evaluation import plot_confusion_matrix

fig, axes = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
for ax, (class_weight, report) in zip(axes, reports.items()):
    plot_confusion_matrix(report, ax=ax)
    ax.set_title(f"class_weight={class_weight!r}: balanced accuracy "
                 f"{report.balanced_accuracy:.1%}")
plt.show()
