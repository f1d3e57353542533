"""Format 1, the shipped models' layout: a JSON config naming one fp16 safetensors file per network.

``{"format": 1, "classes": [...], "size": 48, "normalize": {"mean", "scale"},
"members": [{"module": EmotionCNN kwargs, "weights": "file.safetensors", "sha256": hex}, ...],
"version": "...", "metrics": {...}}``, written by :func:`~fer_sklearn.pretrained.export_pretrained`.
The config is turned into the description of format 2 (the standard pipeline
of those settings), so both formats are checked and built by the same code.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from ._estimators import check_count, check_finite, check_positive
from ._source import FORMAT, SafetensorsSource
from ._values import ModelFileError, expect, expect_keys


def file_sha256(path):
    """The sha256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_config(path):
    """``(document, source)``: the format-2 description of a format-1 config, and its tensors."""
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path} is not a JSON model config ({exc})") from None
    expect(config, dict, str(path))
    version = config.get("format")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        raise ModelFileError(f"{path} is of model format {version}, from a newer fer-sklearn; "
                             f"this one reads formats 1 to {FORMAT}: upgrade fer-sklearn")
    if version != 1:
        raise ModelFileError(f"{path}: a JSON model config is of format 1, got {version!r} "
                             "(format 2 models are single .safetensors files)")
    expect_keys(config, ["format", "classes", "size", "normalize", "members"], str(path),
                optional=["metrics", "version"])
    classes = expect(config["classes"], list, f"{path}: classes")
    kinds = {type(c) for c in classes}
    if not classes or not (kinds <= {str} or kinds <= {int}):
        raise ModelFileError(f"{path}: classes must be a non-empty list of strings or integers")
    size = check_count(config["size"], f"{path}: size")
    normalize = expect_keys(config["normalize"], ["mean", "scale"], f"{path}: normalize")
    mean = check_finite(normalize["mean"], f"{path}: normalize.mean")
    scale = check_positive(normalize["scale"], f"{path}: normalize.scale")
    members = expect(config["members"], list, f"{path}: members")
    if not members:
        raise ModelFileError(f"{path}: members is empty")
    source, networks = SafetensorsSource(), []
    for i, member in enumerate(members):
        where = f"{path}: members[{i}]"
        expect_keys(member, ["module", "weights"], where, optional=["sha256"])
        weights = expect(member["weights"], str, f"{where}.weights")
        if Path(weights).name != weights or weights.startswith(".") or not weights:
            raise ModelFileError(f"{where}.weights must name a file beside the config, "
                                 f"got {weights!r}")
        if not (path.parent / weights).is_file():
            raise ModelFileError(f"{where}: missing weights file {weights}")
        if "sha256" in member and member["sha256"] != file_sha256(path.parent / weights):
            raise ModelFileError(f"{where}: {weights} is not the file the config names (its "
                                 "sha256 differs): a damaged or replaced weights file")
        prefix = "clf.module_." + (f"members.{i}." if len(members) > 1 else "")
        source.add(path.parent / weights, rename=lambda key, prefix=prefix: prefix + key)
        networks.append({"$module": "fer_sklearn.EmotionCNN",
                         "kwargs": expect(member["module"], dict, f"{where}.module")})
    network = networks[0] if len(networks) == 1 else {"$module": "fer_sklearn.EnsembleCNN",
                                                      "members": networks}
    pixels = size * size
    labels = {"$array": classes, "dtype": np.asarray(classes).dtype.str}
    steps = [
        ["grayscale", {"class": "fer_sklearn.preprocessing.Grayscale", "params": {},
                       "fitted": {"n_features_in_": pixels}}],
        ["resize", {"class": "fer_sklearn.preprocessing.ImageResizer", "params": {"size": size},
                    "fitted": {"n_features_in_": pixels}}],
        ["normalize", {"class": "fer_sklearn.preprocessing.PixelNormalizer",
                       "params": {"mean": mean, "std": scale, "pixel_range": "0-255"},
                       "fitted": {"mean_": mean, "scale_": scale, "pixel_range_": "0-255",
                                  "n_features_in_": pixels}}],
        ["clf", {"class": "fer_sklearn.EmotionClassifier",
                 "params": {"module": network, "classes": classes},
                 "fitted": {"classes_": labels, "image_shape_": [size, size],
                            "n_features_in_": pixels, "class_weight_": None, "history_": [],
                            "int8_calibration_": False}}],
    ]
    model = {"class": "fer_sklearn.EmotionPipeline", "params": {}, "steps": steps}
    return {"format": 1, "model": model}, source
