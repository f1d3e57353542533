"""
===============================
Why this emotion? Saliency maps
===============================

:func:`fer_sklearn.explain` maps, for each face, how much each pixel weighs in the
model's prediction: where its evidence for the emotion lies. This example explains the
shipped models on real faces that ship with the repository: three FER2013 PublicTest faces
pasted on a background (``docs/images/example_photo.png``; FER2013 labels them surprise,
happy and angry) and the astronaut Eileen Collins (``tests/data/photos/astronaut.jpg``).
The command line draws the same maps on photos::

    fer-sklearn predict photos/ --explain maps/

The user guide's page on explanations says how faithful the maps are, measured on FER2013,
and what they cannot tell.
"""

# %%
# The maps of a photo's faces
# ---------------------------
# ``analyze(..., explain=True)`` adds each face's map, in the photo's pixels, and
# :func:`~fer_sklearn.faces.annotate` blends it over the photo: the brighter, the more the
# pixel counts for the emotion shown.
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fer_sklearn
from fer_sklearn import EmotionRecognizer, load_pretrained
from fer_sklearn.faces import annotate, crop_face
from fer_sklearn.io import read_image

repository = Path(fer_sklearn.__file__).resolve().parents[2]  # src/fer_sklearn/__init__.py
photo = repository / "docs" / "images" / "example_photo.png"
model = load_pretrained("default")
faces = EmotionRecognizer(model).analyze(photo, explain=True)
for face in faces:
    print(face["box"], face["emotion"], f"{face['scores'][face['emotion']]:.0%}",
          "map over", face["saliency_box"])

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.imshow(annotate(photo, faces, saliency=True))
ax.set_axis_off()

# %%
# Two methods side by side
# ------------------------
# The default for the package's networks is ``"layercam"``: the activations of the
# network's early blocks, weighed at every location by the gradient of the emotion's
# log-probability. ``"occlusion"`` hides a
# square of the face at a time and watches the probability drop: it needs only
# ``predict_proba``, so it explains any classifier (an ONNX export too), at about 30
# predictions' cost per face. :class:`~fer_sklearn.SaliencyDisplay` draws the faces with
# their maps and labels.
from fer_sklearn import SaliencyDisplay

gray = read_image(photo)
crops = np.stack([crop_face(gray, face["box"]) for face in faces])
# FER2013's label of each face, by the centre of the face
centres = {(181, 250): "surprise", (432, 124): "happy", (395, 272): "angry"}


def label_of(box):
    x, y, w, h = box
    return min(centres.items(), key=lambda c: np.hypot(c[0][0] - x - w / 2,
                                                       c[0][1] - y - h / 2))[1]


truth = [label_of(face["box"]) for face in faces]

fig, axes = plt.subplots(2, 1, figsize=(5, 4.6), layout="constrained")
for ax, method in zip(axes, ("layercam", "occlusion")):
    SaliencyDisplay.from_estimator(model, crops, truth, method=method, ax=ax, n_cols=3)
    ax.set_title(method, fontsize=10)

# %%
# The evidence for another emotion
# --------------------------------
# ``target`` explains a class of your choice: here where the model sees "happy" and where
# it sees "sad" on the smiling astronaut. The ensemble ``accurate`` combines its three
# members' maps.
from fer_sklearn import explain

astronaut = repository / "tests" / "data" / "photos" / "astronaut.jpg"
(face,) = EmotionRecognizer(model).analyze(astronaut)
crop = crop_face(read_image(astronaut), face["box"])[None]
accurate = load_pretrained("accurate")
fig, axes = plt.subplots(1, 3, figsize=(6, 2.3), layout="constrained")
for ax, (name, which, target) in zip(axes, [("default", model, "happy"),
                                            ("default", model, "sad"),
                                            ("accurate", accurate, "happy")]):
    saliency = explain(which, crop, target=target)[0]
    ax.imshow(fer_sklearn.explanation.overlay_saliency(crop[0], saliency))
    ax.set_title(f"{name}: {target}", fontsize=9)
    ax.set_axis_off()
plt.show()
