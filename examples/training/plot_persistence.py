"""
==============================
Saving and loading with joblib
==============================

A fitted pipeline is an ordinary Python object: save it with :mod:`joblib`
and load it anywhere fer-sklearn is installed, on a machine with or without
a GPU. The ``fer-sklearn`` command line writes and reads the same files
(``fer-sklearn train`` saves ``model.joblib``; ``fer-sklearn predict
--model model.joblib faces/`` applies it).
"""

# %%
# Fit and save
# ------------
import tempfile
from pathlib import Path

import joblib
import numpy as np

from fer_sklearn import make_emotion_pipeline, make_faces

X, y = make_faces(700, size=32, random_state=0)
model = make_emotion_pipeline(max_epochs=10, lr=3e-3, batch_size=32, module__width=8,
                              module__depth=3, module__hidden_units=64, random_state=0)
model.set_params(resize__size=32)
model.fit(X, y)

path = Path(tempfile.mkdtemp(prefix="fer-model-")) / "model.joblib"
joblib.dump(model, path)
print(f"saved {path.stat().st_size / 1024:.0f} KiB to {path}")

# %%
# Load and predict
# ----------------
# The loaded model gives the same probabilities, and keeps its training
# history. ``joblib.load`` runs pickle: load only files you trust.
from fer_sklearn import EMOTIONS

loaded = joblib.load(path)
X_new, y_new = make_faces(7, size=32, random_state=1)
np.testing.assert_allclose(loaded.predict_proba(X_new), model.predict_proba(X_new), rtol=1e-5)
print("drawn as:   ", [EMOTIONS[code] for code in y_new])
print("predictions:", [EMOTIONS[code] for code in loaded.predict(X_new)])
print("epochs trained:", len(loaded[-1].history_))

# %%
# Same probabilities, before and after
# ------------------------------------
# Each dot is one face and one emotion: its probability from the model in memory against
# the same probability from the model loaded from disk.
import matplotlib.pyplot as plt

X_check, _ = make_faces(70, size=32, random_state=2)
before, after = model.predict_proba(X_check), loaded.predict_proba(X_check)
fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
ax.scatter(before.ravel(), after.ravel(), s=8)
ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
ax.set(xlabel="probability, fitted model", ylabel="probability, loaded from model.joblib",
       title=f"largest difference: {abs(before - after).max():.1e}")
plt.show()
