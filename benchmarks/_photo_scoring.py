"""Scoring ``bench_vs_fer.py``'s reports: faces found, their emotions, agreement, speed per round.

A face is *found* when a detected box matches the known one
(:func:`fer_sklearn.datasets._compose.box_matches`: centre inside, side 0.6-1.6x).
"""

import statistics

import numpy as np

from fer_sklearn.datasets._compose import box_matches


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def matched_faces(report, truth):
    """Per photo: the (largest) detected face matching the known one, or None."""
    by_file = {r["file"]: r["faces"] for r in report["results"]}
    matched, extra = [], 0
    for t in truth:
        faces = by_file[t["file"]]
        hits = [f for f in faces if box_matches(t["box"], f["box"])]
        extra += len(faces) - len(hits)
        hit = max(hits, key=lambda f: f["box"][2] * f["box"][3]) if hits else None
        matched.append(hit)
    return matched, extra


def summarize(report, truth):
    matched, extra = matched_faces(report, truth)
    emotions = [f["emotion"] if f else None for f in matched]
    found = [e is not None for e in emotions]
    correct = [e == t["label"] for e, t in zip(emotions, truth) if e is not None]
    seconds = np.asarray(report["seconds"])
    on_truth = report.get("emotion_on_true_box") or []
    return {
        "tool": report["tool"],
        "photos": len(truth),
        "photos_per_s": len(seconds) / seconds.sum(),
        "photos_per_s_batched": (len(seconds) / report["batched_seconds"]
                                 if "batched_seconds" in report else None),
        "ms_per_photo_median": 1000 * float(np.median(seconds)),
        "ms_per_photo_p90": 1000 * float(np.percentile(seconds, 90)),
        "cpu_ms_per_photo": 1000 * report["cpu_seconds"] / len(seconds),
        "found": int(sum(found)),
        "recall": float(np.mean(found)),
        "extra_boxes": int(extra),
        "box_iou_with_truth_mean": (float(np.mean([iou(f["box"], t["box"])
                                                   for f, t in zip(matched, truth) if f]))
                                    if any(found) else float("nan")),
        "correct": int(sum(correct)),
        "accuracy_on_found": float(np.mean(correct)) if correct else float("nan"),
        "accuracy_on_true_box": (float(np.mean([e == t["label"] for e, t in zip(on_truth, truth)]))
                                 if on_truth else float("nan")),
        "load_s": report["load_s"],
        "peak_rss_mib": report["peak_rss_mib"],
        "opencv_threads": report.get("opencv_threads"),
        "versions": report["versions"],
        **({"network_attempts": report["network_attempts"]}
           if "network_attempts" in report else {}),
    }, matched


def pairwise(ours, theirs, truth, ours_on_truth=(), theirs_on_truth=()):
    boxes = list(zip(ours_on_truth, theirs_on_truth))
    both_faces = [(a, b) for a, b in zip(ours, theirs) if a and b]
    both = [(a["emotion"], b["emotion"], t["label"]) for a, b, t in zip(ours, theirs, truth)
            if a and b]
    n = len(both)
    return {
        "both_found": n,
        "same_top_emotion": sum(a == b for a, b, _ in both),
        "agreement": sum(a == b for a, b, _ in both) / n if n else float("nan"),
        "accuracy_ours_on_both": sum(a == t for a, _, t in both) / n if n else float("nan"),
        "accuracy_fer_on_both": sum(b == t for _, b, t in both) / n if n else float("nan"),
        "box_iou_between_tools_mean": (sum(iou(a["box"], b["box"]) for a, b in both_faces) / n
                                       if n else float("nan")),
        "agreement_on_true_box": (sum(a == b for a, b in boxes) / len(boxes) if boxes
                                  else float("nan")),
    }


def speed_rounds(rounds):
    """Per tool: photos/s in each round, and fer-sklearn's per-round ratio against it."""
    def rate(report):  # one photo at a time: the photos over the sum of their times
        return len(report["seconds"]) / sum(report["seconds"])

    rows = []
    ours = [rate(r[0]) for r in rounds]
    batched = [len(r[0]["seconds"]) / r[0]["batched_seconds"] for r in rounds]
    for i, report in enumerate(rounds[0][1:], start=1):
        theirs = [rate(r[i]) for r in rounds if len(r) > i]
        rows.append({"fer": report["tool"], "fer_photos_per_s": theirs,
                     "ours_photos_per_s": ours, "ours_batched_photos_per_s": batched,
                     "ratio_one_at_a_time": statistics.median(a / b for a, b in zip(ours, theirs)),
                     "ratio_batched": statistics.median(a / b for a, b in zip(batched, theirs))})
    return rows
