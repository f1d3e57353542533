"""Saliency maps: which pixels of a face the model's prediction rests on.

:func:`explain` maps the relevance of each pixel of each face for the predicted class (or a
chosen one): LayerCAM or Grad-CAM from the gradients of the package's CNNs, or occlusion,
which needs only ``predict_proba``. :class:`SaliencyDisplay` draws faces with their maps,
:func:`overlay_saliency` blends one map over its image, and :func:`deletion_score` measures
how faithful maps are (deleting the relevant pixels against a random square).

The modules depend one way: ``_cam`` (gradients) and ``_occlusion`` <- ``_explain`` <-
``_faithfulness`` and ``_display`` (with ``_overlay``). The function is reached as
``fer_sklearn.explain``; the subpackage is named ``explanation`` so that the two names
do not collide.
"""

from ._display import SaliencyDisplay
from ._explain import METHODS, auto_method, explain
from ._faithfulness import deletion_score
from ._overlay import overlay_saliency

__all__ = ["METHODS", "SaliencyDisplay", "auto_method", "deletion_score", "explain",
           "overlay_saliency"]
