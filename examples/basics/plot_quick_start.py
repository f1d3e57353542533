"""
==============================
Quick start on synthetic faces
==============================

Train the emotion pipeline on drawn faces and predict the expression of new
ones. :func:`~fer_sklearn.make_faces` draws faces whose eyebrows, eyes and
mouth encode the seven FER2013 emotions, so everything here runs in seconds
on a CPU; a model trained on them does not recognise real photographs (use
:func:`~fer_sklearn.load_fer2013` for that).
"""

# %%
# Data
# ----
# 1,400 synthetic 32x32 grayscale faces, balanced over the seven emotions.
import matplotlib.pyplot as plt

from fer_sklearn import EMOTIONS, make_emotion_pipeline, make_faces

X_train, y_train = make_faces(1400, size=32, random_state=0)
X_test, y_test = make_faces(140, size=32, random_state=1)

fig, axes = plt.subplots(1, 7, figsize=(10, 1.9), layout="constrained")
for code, ax in enumerate(axes):
    ax.imshow(X_train[y_train == code][0], cmap="gray")
    ax.set_title(EMOTIONS[code], fontsize=9)
    ax.set_axis_off()

# %%
# Model
# -----
# :func:`~fer_sklearn.make_emotion_pipeline` chains grayscale conversion,
# resizing, pixel normalisation and the CNN classifier. A narrow, shallow
# network at 32x32 is plenty for drawn faces.
model = make_emotion_pipeline(max_epochs=12, module__width=8, module__depth=3,
                              module__hidden_units=64, random_state=0)
model.set_params(resize__size=32)
model.fit(X_train, y_train)

# %%
# Predictions
# -----------
# ``predict`` returns emotion codes (the labels given to ``fit``) and
# ``predict_proba`` one probability per emotion.
print(f"test accuracy: {model.score(X_test, y_test):.1%}")
proba = model.predict_proba(X_test[:3])
for row in proba:
    best = row.argmax()
    print(f"{EMOTIONS[model.classes_[best]]:>8s}  p={row[best]:.2f}")
