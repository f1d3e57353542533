"""
=====================================
Tuning the pipeline with GridSearchCV
=====================================

The emotion pipeline is a scikit-learn estimator, so model selection tools
work on it directly. Parameters of the network are reached through the
``clf`` step and skorch's ``module__`` prefix, e.g. ``clf__module__width``.
"""

# %%
# A small search
# --------------
# Two network widths and two learning rates, with 2-fold cross-validation on
# synthetic faces. Each fit trains twelve epochs at most, to keep the example
# quick; the classifier's own 10% validation split drives early stopping.
import pandas as pd
from sklearn.model_selection import GridSearchCV

from fer_sklearn import make_emotion_pipeline, make_faces

X, y = make_faces(840, size=24, random_state=0)
pipeline = make_emotion_pipeline(max_epochs=12, batch_size=32, module__depth=3,
                                 module__hidden_units=64, random_state=0)
pipeline.set_params(resize__size=24)

search = GridSearchCV(
    pipeline,
    param_grid={"clf__module__width": [4, 8], "clf__lr": [1e-3, 3e-3]},
    cv=2,
    scoring="accuracy",
)
search.fit(X, y)

# %%
# Results
# -------
results = pd.DataFrame(search.cv_results_)
print(results[["param_clf__module__width", "param_clf__lr", "mean_test_score",
               "rank_test_score"]].to_string(index=False))
print("best parameters:", search.best_params_)

# %%
# The scores as a picture
# -----------------------
# The mean cross-validated accuracy of each combination, with the spread of the two
# folds as error bars.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
widths = sorted(results["param_clf__module__width"].unique())
for offset, lr in zip([-0.15, 0.15], sorted(results["param_clf__lr"].unique())):
    rows = results[results["param_clf__lr"] == lr].sort_values("param_clf__module__width")
    ax.bar(np.arange(len(widths)) + offset, rows["mean_test_score"], width=0.3,
           yerr=rows["std_test_score"], capsize=4, label=f"lr={lr:g}")
ax.set(xticks=np.arange(len(widths)), xticklabels=[f"width {w}" for w in widths],
       ylabel="mean CV accuracy", ylim=(0, 1), title="Grid search: 2-fold CV accuracy")
ax.legend()
plt.show()

# %%
# The refitted best pipeline predicts like any other model.
X_new, y_new = make_faces(140, size=24, random_state=1)
print(f"held-out accuracy of the best model: {search.score(X_new, y_new):.1%}")
