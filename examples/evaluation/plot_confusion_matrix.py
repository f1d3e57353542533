"""
==========================
Reading a confusion matrix
==========================

A confusion matrix counts, for each true emotion (a row), how often the model predicted
each emotion (a column). The diagonal holds the correct predictions; everything else is a
confusion, and *which* emotions get confused tells more than the accuracy does.

Here the shipped model meets faces unlike its training photographs, the drawn faces of
:func:`~fer_sklearn.make_faces`, so it makes plenty of mistakes to read. The matrix of the
same model on FER2013's PublicTest is in the model card; ``fer-sklearn evaluate --data
fer2013.csv.gz --usage PublicTest --out report/`` draws it.
"""

# %%
# Evaluate the model
# ------------------
# :func:`~fer_sklearn.evaluate` predicts the images and keeps the matrix twice: the counts
# (``confusion_matrix``) and each row divided by its total
# (``confusion_matrix_normalized``).
import numpy as np

from fer_sklearn import EMOTIONS, evaluate, load_pretrained, make_faces

faces, codes = make_faces(350, size=48, random_state=0)  # 50 faces of each emotion
report = evaluate(load_pretrained(), faces, np.array(EMOTIONS)[codes])
print(f"accuracy {report.accuracy:.1%} on {report.n_samples} faces")
print("rows: true emotion, columns: predicted emotion, in this order:", report.class_names)
print(report.confusion_matrix)

# %%
# The chart
# ---------
# :func:`~fer_sklearn.evaluation.plot_confusion_matrix` colours each cell by its share of
# the row and writes the share with the count below it. A row sums to 100%: it is where the
# faces of one true emotion went. The diagonal cell of a row is that emotion's **recall**.
import matplotlib.pyplot as plt

from fer_sklearn.evaluation import plot_confusion_matrix

plot_confusion_matrix(report)
plt.show()

# %%
# Rows: recall, and where the misses go
# -------------------------------------
counts = report.confusion_matrix
names = report.class_names
for i, name in enumerate(names):
    row = counts[i]
    misses = sorted(((row[j], names[j]) for j in range(len(names)) if j != i), reverse=True)
    worst = ", ".join(f"{n} as {other}" for n, other in misses[:2] if n)
    print(f"{name:>8s}: recall {row[i] / row.sum():4.0%}  missed: {worst or 'none'}")

# %%
# Columns: precision
# ------------------
# Read down a column to see what the model's answer is worth: of all the faces it called
# *sad*, the diagonal share was really sad. That is the **precision**; a column that
# collects the misses of other rows has a low one. The report has both per class, as
# scikit-learn's ``classification_report`` computes them.
for j, name in enumerate(names):
    column = counts[:, j]
    precision = column[j] / column.sum() if column.sum() else 0.0
    print(f"{name:>8s}: predicted {column.sum():3d} times, precision {precision:4.0%} "
          f"(report.per_class: {report.per_class[name]['precision']:.0%})")

# %%
# The largest confusions
# ----------------------
# Off the diagonal, the biggest cells are the pairs worth looking at: on FER2013 they are
# fear, sad and disgust against each other and against neutral and angry (the model card
# discusses them); on these drawings they are different, which is itself a warning about
# using a model on faces unlike its training data.
off = counts.copy()
np.fill_diagonal(off, 0)
for flat in np.argsort(off, axis=None)[::-1][:5]:
    i, j = np.unravel_index(flat, off.shape)
    print(f"{off[i, j]:3d} {names[i]} faces predicted as {names[j]}")

# %%
# Counts instead of shares
# ------------------------
# ``normalize=False`` colours by counts. On a balanced test set like this one the two
# pictures agree; on an imbalanced one (FER2013's PublicTest has 56 disgust faces and 895
# happy ones) the counts hide the rare classes' rows, which is why shares are the default.
fig, ax = plt.subplots(figsize=(8, 6.5), layout="constrained")
plot_confusion_matrix(report, normalize=False, ax=ax, cmap="Greens")
plt.show()
