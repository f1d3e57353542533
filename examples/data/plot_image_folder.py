"""
=================================
Training on your own image folder
=================================

Many face data sets come as one folder per emotion (the image edition of FER2013 is
``train/angry/*.jpg``, ``train/happy/*.jpg``, ...).
:func:`~fer_sklearn.load_image_folder` reads that layout: folder names are matched without
regard to case and with the usual aliases (``anger``, ``Happiness``, ``surprised``...),
images of any size and colour are read and resized to square grayscale faces, and a file
that cannot be read is skipped with a warning instead of stopping the load.

Here the folder is written first, from the drawn faces of
:func:`~fer_sklearn.make_faces`, as colour PNG and JPEG files of several sizes.
"""

# %%
# Write an image folder
# ---------------------
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fer_sklearn import EMOTIONS, make_faces

root = Path(tempfile.mkdtemp(prefix="fer-folder-"))
folder_names = {"angry": "Anger", "disgust": "disgust", "fear": "fearful", "happy": "Happiness",
                "sad": "sadness", "surprise": "surprised", "neutral": "neutral"}
faces, codes = make_faces(560, size=64, random_state=0)
for i, (face, code) in enumerate(zip(faces, codes)):
    folder = root / folder_names[EMOTIONS[code]]
    folder.mkdir(exist_ok=True)
    rgb = np.stack([face, face * 0.9, face * 0.8], axis=-1).astype(np.uint8)  # a tint
    image = Image.fromarray(rgb).resize((64 + 16 * (i % 3),) * 2)  # 64, 80 or 96 pixels
    image.save(folder / f"face_{i:03d}.{'png' if i % 2 else 'jpg'}")
(root / "sadness" / "broken.png").write_bytes(b"not a PNG")
for folder in sorted(root.iterdir()):
    print(f"{folder.name + '/':<12s} {len(list(folder.iterdir())):3d} files")

# %%
# Load it
# -------
# The images come back as one uint8 array of 48x48 faces and the labels as FER2013 codes;
# the broken file is reported (a warning) and listed in ``skipped``.
import warnings

from fer_sklearn import load_image_folder

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    data = load_image_folder(root, size=48)
for warning in caught:
    print("warning:", warning.message)
print("data:", data.data.shape, data.data.dtype)
print("images per emotion:", dict(zip(data.target_names, np.bincount(data.target).tolist())))
for path, _reason in data.skipped:
    print("skipped:", Path(path).relative_to(root))

# %%
# A few of the loaded faces
# -------------------------
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 7, figsize=(10, 1.9), layout="constrained")
for code, ax in enumerate(axes):
    ax.imshow(data.data[data.target == code][0], cmap="gray")
    ax.set_title(data.target_names[code], fontsize=9)
    ax.set_axis_off()
plt.show()

# %%
# Train and check on a held-out part
# ----------------------------------
# The loaded arrays go straight into the pipeline. ``fer-sklearn train --data <root>``
# does the same from the command line (a plain ``root/<emotion>/`` folder is split 90/10;
# ``train/`` and ``test/`` sub-folders are used as they are).
from sklearn.model_selection import train_test_split

from fer_sklearn import make_emotion_pipeline

X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, stratify=data.target, random_state=0)
model = make_emotion_pipeline(max_epochs=20, lr=3e-3, batch_size=32, module__width=8,
                              module__depth=3, module__hidden_units=64, random_state=0)
model.set_params(resize__size=32)
model.fit(X_train, y_train)
print(f"accuracy on {len(y_test)} held-out images: {model.score(X_test, y_test):.1%}")
