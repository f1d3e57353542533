"""
=========================================
A first prediction with the shipped model
=========================================

Three fitted pipelines ship inside the package, trained on FER2013 (the model card in
the user guide has their data, scores and limits). :func:`~fer_sklearn.load_pretrained`
loads one without any download; it takes face crops of any size, grayscale or colour,
and returns emotion names.

FER2013 itself cannot ship with the package, so this example feeds the model the drawn
faces of :func:`~fer_sklearn.make_faces`: cartoons, not photographs, which the model
never saw in training.
"""

# %%
# Load a model
# ------------
from fer_sklearn import EMOTIONS, available_models, load_pretrained, make_faces

print("shipped models:", available_models())
model = load_pretrained()  # "default"; "fast" and "accurate" are the others
print("steps:", [name for name, _ in model.steps])

# %%
# Predict
# -------
# ``predict`` gives one emotion name per image; ``predict_proba`` one probability per
# emotion, in the order of ``model.classes_``.
import matplotlib.pyplot as plt
import numpy as np

faces, codes = make_faces(7 * 2, size=48, random_state=0)
order = np.argsort(codes, kind="stable")  # two faces of each emotion, in EMOTIONS order
faces, codes = faces[order], codes[order]
predicted = model.predict(faces)
proba = model.predict_proba(faces)
print("classes:", model.classes_.tolist())
for truth, guess, row in zip(np.array(EMOTIONS)[codes], predicted, proba):
    print(f"drawn as {truth:>8s}  predicted {guess:>8s}  (p={row.max():.2f})")

# %%
# Show the faces with their probabilities
# ---------------------------------------
fig, axes = plt.subplots(2, 7, figsize=(12, 4.2), layout="constrained")
for ax, face, truth, row in zip(axes.T.flat, faces, np.array(EMOTIONS)[codes], proba):
    best = row.argmax()
    ax.imshow(face, cmap="gray")
    ax.set_title(f"drawn: {truth}\nmodel: {model.classes_[best]} {row[best]:.0%}", fontsize=9,
                 color="black" if model.classes_[best] == truth else "firebrick")
    ax.set_axis_off()
fig.suptitle("The shipped model on drawn faces (red: a different emotion)")
plt.show()
