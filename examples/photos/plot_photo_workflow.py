"""
============================================
Emotions of every face in a folder of photos
============================================

The whole photo workflow in Python: find the faces (with BlazeFace, which ships with the
package), classify each with the shipped model, write one row per face to a CSV file, and
save annotated copies.
The command line does the same in one line::

    fer-sklearn predict photos/ --output rows.csv --annotate annotated/

The photos are real faces that ship with the repository and its dependencies, on which the
shipped model is right, so that the example shows what it does on faces like those it was
trained on: three FER2013 PublicTest faces pasted on a background
(``docs/images/example_photo.png``; FER2013 labels them surprise, happy and angry), the
smiling astronaut Eileen Collins (``tests/data/photos/astronaut.jpg``, from scikit-image) and
Grace Hopper (matplotlib's sample photo, without a label). The example runs from a clone of the
repository. On drawn or unusual faces the model is often wrong: it knows only FER2013's
photographs.
"""

# %%
# A folder of photos
# ------------------
# Three photos with one to three faces, and one file that is not an image, to see what
# happens to it. ``labels`` holds the emotion each face is labelled with, by the centre of
# its face.
import shutil
import tempfile
from pathlib import Path

from matplotlib import cbook
from PIL import Image

import fer_sklearn

repository = Path(fer_sklearn.__file__).resolve().parents[2]  # src/fer_sklearn/__init__.py
folder = Path(tempfile.mkdtemp(prefix="fer-photos-"))
shutil.copy(repository / "docs" / "images" / "example_photo.png", folder / "three_faces.png")
shutil.copy(repository / "tests" / "data" / "photos" / "astronaut.jpg", folder / "astronaut.jpg")
shutil.copy(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), folder / "hopper.jpg")
(folder / "notes.jpg").write_text("not an image")
labels = {"three_faces.png": [((181, 250), "surprise"), ((432, 124), "happy"),
                              ((395, 272), "angry")],
          "astronaut.jpg": [((227, 117), "happy")]}
print(f"photos in {folder}:", sorted(p.name for p in folder.iterdir()))

# %%
# One photo
# ---------
# :meth:`EmotionRecognizer.analyze <fer_sklearn.EmotionRecognizer.analyze>` returns the
# faces of one photo, largest first: each face's box ``(x, y, w, h)``, its most probable
# emotion and the probability of all seven.
from fer_sklearn import EmotionRecognizer

recognizer = EmotionRecognizer()  # the shipped model, loaded at first use
for face in recognizer.analyze(folder / "three_faces.png"):
    top3 = sorted(face["scores"].items(), key=lambda item: -item[1])[:3]
    print(face["box"], face["emotion"], " ".join(f"{e}={p:.2f}" for e, p in top3))
print("labelled:", [emotion for _, emotion in labels["three_faces.png"]])

# %%
# The faces drawn on the photo
# ----------------------------
# :func:`~fer_sklearn.faces.annotate` draws each box with its emotion and probability,
# colour-coded by emotion.
import matplotlib.pyplot as plt

from fer_sklearn.faces import annotate

annotated = annotate(folder / "three_faces.png", recognizer.analyze(folder / "three_faces.png"))
fig, ax = plt.subplots(figsize=(8, 6), layout="constrained")
ax.imshow(annotated)
ax.set_axis_off()
plt.show()

# %%
# A whole folder, as rows
# -----------------------
# :meth:`~fer_sklearn.EmotionRecognizer.analyze_many` streams one record per file, in
# batches, so any number of photos runs in bounded memory;
# :func:`~fer_sklearn.photos.face_rows` flattens the records into one row per face (a file
# without a face, or unreadable, still gets a row, with its ``status``) and
# :func:`~fer_sklearn.photos.write_face_rows` writes them as CSV or JSON.
import pandas as pd

from fer_sklearn.faces import save_annotated
from fer_sklearn.io import iter_image_paths
from fer_sklearn.photos import face_rows, write_face_rows

paths = list(iter_image_paths([folder]))
out = folder / "annotated"
records = save_annotated(recognizer.analyze_many(paths, batch_size=2), out)
rows = list(face_rows(records))
table = pd.DataFrame(rows).convert_dtypes()  # integer columns with <NA> for no face
table["file"] = table["file"].map(lambda f: Path(f).name)
print(table[["file", "face", "x", "y", "w", "h", "emotion", "happy",
             "status"]].to_string(index=False))
print("\nnotes.jpg:", table.loc[table["file"] == "notes.jpg", "error"].item())

csv = folder / "rows.csv"
print(f"\n{write_face_rows(rows, csv)} rows written to {csv}")
print(f"annotated copies in {out}:", sorted(p.name for p in out.iterdir()))

# %%
# How many labelled faces were found and recognised
# -------------------------------------------------
# A labelled face is found when a box contains its centre. These few faces were chosen to
# show the model at work, not to measure it: its accuracy on FER2013 is in the
# performance guide (66% for the default model on PublicTest).
found = correct = 0
for row in [row for row in rows if row["status"] == "ok"]:
    for (cx, cy), emotion in labels.get(Path(row["file"]).name, []):
        if row["x"] <= cx <= row["x"] + row["w"] and row["y"] <= cy <= row["y"] + row["h"]:
            found += 1
            correct += row["emotion"] == emotion
total = sum(len(faces) for faces in labels.values())
print(f"{found} of {total} labelled faces found, {correct} of them with their label")

# %%
# The annotated copies
# --------------------
fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")
for ax, path in zip(axes.flat, sorted(out.iterdir())):
    ax.imshow(Image.open(path))
    ax.set_title(path.name, fontsize=10)
    ax.set_axis_off()
plt.show()
