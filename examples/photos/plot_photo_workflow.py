"""
============================================
Emotions of every face in a folder of photos
============================================

The whole photo workflow in Python: find the faces (with BlazeFace, which ships with the
package), classify each with the shipped model, write one row per face to a CSV file, and
save annotated copies.
The command line does the same in one line::

    fer-sklearn predict photos/ --output rows.csv --annotate annotated/

The photos here are generated: :func:`~fer_sklearn.datasets.compose_photo` pastes the drawn
faces of :func:`~fer_sklearn.make_faces` onto colour backgrounds, so the example needs no
download and we know where each face is and what it shows.
"""

# %%
# Write a folder of photos
# ------------------------
# Four 640x480 JPEG files with one to three faces each, and one file that is not an
# image, to see what happens to it.
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fer_sklearn import EMOTIONS, make_faces
from fer_sklearn.datasets import compose_photo

folder = Path(tempfile.mkdtemp(prefix="fer-photos-"))
faces, codes = make_faces(8, size=48, random_state=3)
truth = {}
start = 0
for i, n_faces in enumerate([1, 2, 3, 2]):
    photo, boxes = compose_photo(faces[start:start + n_faces], random_state=i)
    path = folder / f"photo_{i}.jpg"
    Image.fromarray(photo).save(path, quality=92)
    truth[path.name] = [(box, EMOTIONS[c]) for box, c in zip(boxes, codes[start:start + n_faces])]
    start += n_faces
(folder / "notes.jpg").write_text("not an image")
print(f"photos in {folder}:", sorted(p.name for p in folder.iterdir()))

# %%
# One photo
# ---------
# :meth:`EmotionRecognizer.analyze <fer_sklearn.EmotionRecognizer.analyze>` returns the
# faces of one photo, largest first: each face's box ``(x, y, w, h)``, its most probable
# emotion and the probability of all seven.
from fer_sklearn import EmotionRecognizer

recognizer = EmotionRecognizer()  # the shipped model, loaded at first use
for face in recognizer.analyze(folder / "photo_2.jpg"):
    top3 = sorted(face["scores"].items(), key=lambda item: -item[1])[:3]
    print(face["box"], face["emotion"], " ".join(f"{e}={p:.2f}" for e, p in top3))
print("drawn as:", truth["photo_2.jpg"])

# %%
# The faces drawn on the photo
# ----------------------------
# :func:`~fer_sklearn.faces.annotate` draws each box with its emotion and probability,
# colour-coded by emotion.
import matplotlib.pyplot as plt

from fer_sklearn.faces import annotate

annotated = annotate(folder / "photo_2.jpg", recognizer.analyze(folder / "photo_2.jpg"))
fig, ax = plt.subplots(figsize=(8, 6), layout="constrained")
ax.imshow(annotated)
ax.set_axis_off()
plt.show()

# %%
# A whole folder, as rows
# -----------------------
# :meth:`~fer_sklearn.EmotionRecognizer.analyze_many` streams one record per file, in
# batches, so any number of photos runs in bounded memory;
# :func:`~fer_sklearn.faces.face_rows` flattens the records into one row per face (a file
# without a face, or unreadable, still gets a row, with its ``status``) and
# :func:`~fer_sklearn.faces.write_face_rows` writes them as CSV or JSON.
import pandas as pd

from fer_sklearn.datasets import iter_image_paths
from fer_sklearn.faces import face_rows, save_annotated, write_face_rows

paths = list(iter_image_paths([folder]))
out = folder / "annotated"
records = save_annotated(recognizer.analyze_many(paths, batch_size=2), out)
rows = list(face_rows(records))
table = pd.DataFrame(rows).convert_dtypes()  # integer columns with <NA> for no face
table["file"] = table["file"].map(lambda f: Path(f).name)
print(table[["file", "face", "x", "y", "w", "h", "emotion", "happy", "status"]].to_string(index=False))
print("\nnotes.jpg:", table.loc[table["file"] == "notes.jpg", "error"].item())

csv = folder / "rows.csv"
print(f"\n{write_face_rows(rows, csv)} rows written to {csv}")
print(f"annotated copies in {out}:", sorted(p.name for p in out.iterdir()))

# %%
# How many faces were found and recognised
# ----------------------------------------
# We know where each face was pasted, so we can check the detector and the model. The
# model was trained on photographs, not drawings: expect mistakes on these faces.
found = correct = total = 0
for row in rows:
    if row["status"] != "ok":
        continue
    for (x, y, w, h), emotion in truth[Path(row["file"]).name]:
        cx, cy = row["x"] + row["w"] / 2, row["y"] + row["h"] / 2
        if x <= cx <= x + w and y <= cy <= y + h:
            found += 1
            correct += row["emotion"] == emotion
total = sum(len(faces) for faces in truth.values())
print(f"{found} of {total} faces found, {correct} of them with the drawn emotion")

# %%
# The annotated copies
# --------------------
fig, axes = plt.subplots(2, 2, figsize=(10, 7.6), layout="constrained")
for ax, path in zip(axes.flat, sorted(out.iterdir())):
    ax.imshow(Image.open(path))
    ax.set_title(path.name, fontsize=10)
    ax.set_axis_off()
plt.show()
