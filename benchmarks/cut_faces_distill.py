"""Distilling the emotions of whole faces into a student that sees them cut by the frame.

The experiment after ``cut_training_set.py``'s fine-tuning: the teacher (``--teacher``,
default the shipped ``accurate``) labels every FER2013 **Training** face whole, once;
the student (``--student``, default the shipped ``default``, in float32) is fine-tuned on
the same faces with its own augmentation, and ``--p-cut`` of each batch then cut on a
random side by 10-40% of the face and filled as :func:`fer_sklearn.faces.crop_face` fills
what lies outside a photo (the edge repeated for a tenth of the frame, black beyond): the
student learns to give a cut face the teacher's answer for the whole one (a privileged
teacher). The loss is ``--alpha`` x KL to the teacher at temperature 2 + the rest
cross-entropy on the labels; AdamW at ``--lr`` with one cycle over ``--epochs``.

After each epoch it reports, on PublicTest, the whole faces' accuracy and that of the faces
cut by 30% on each side, as ``bench_cut_faces.py`` cuts and crops them (its functions),
and writes them to ``--out``::

    .venv/bin/python benchmarks/cut_faces_distill.py \\
        --out benchmarks/results/cut_faces_distilled.json

A plain PyTorch loop, not ``DistilledEmotionClassifier``: there the teacher labels the
faces as the student sees them, and here it must see them whole.
"""

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from bench_cut_faces import FER2013, SIDES, cut_photo, outside_pixels

from fer_sklearn import load_fer2013, load_pretrained
from fer_sklearn.faces import crop_face
from fer_sklearn.faces._crop import REPLICATED


def cut_batch(images, p_cut, black, rng, side_px=48):
    """A copy of normalised ``images`` ``(n, 1, s, s)``, ``p_cut`` of them cut by the frame.

    Each chosen face loses 10-40% of the face on a random side, filled as
    ``crop_face`` fills a box reaching past the photo (``bench_cut_faces.py``'s
    cut, pixel for pixel): the edge pixels repeated for ``REPLICATED`` of the
    frame, ``black`` (the normalised 0) beyond.
    """
    out = images.clone()
    repeat = int(round(REPLICATED * side_px))
    for i in np.flatnonzero(rng.rand(len(out)) < p_cut):
        n = outside_pixels(rng.uniform(0.1, 0.4), side_px)
        r, side = min(n, repeat), SIDES[rng.randint(len(SIDES))]
        image = out[i, 0].T if side in ("top", "bottom") else out[i, 0]  # views
        if side in ("left", "top"):
            image[:, n - r:n] = image[:, n:n + 1]
            image[:, :n - r] = black
        else:
            image[:, side_px - n:side_px - n + r] = image[:, side_px - n - 1:side_px - n]
            image[:, side_px - n + r:] = black
    return out


def evaluate(net, normalise, X, codes):
    """Accuracy of ``net`` on whole faces and on faces cut by 30% on each side."""
    def accuracy(faces):
        with torch.inference_mode():
            logits = torch.cat([net(normalise(faces[i:i + 512]))
                                for i in range(0, len(faces), 512)])
        return float((logits.argmax(1).numpy() == codes).mean())

    net.eval()
    scores = {"whole": accuracy(X)}
    n = outside_pixels(0.3)
    for side in SIDES:
        scores[side] = accuracy(np.stack([crop_face(*cut_photo(face, side, n)) for face in X]))
    scores["cut_mean"] = float(np.mean([scores[side] for side in SIDES]))
    net.train()
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="accurate")
    parser.add_argument("--student", default="default")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--p-cut", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--alpha", type=float, default=0.75)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/cut_faces_distilled.json")
    args = parser.parse_args(argv)
    machine = machine_info()
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    student = load_pretrained(args.student)
    classes = list(student.classes_)
    X, y = load_fer2013(FER2013, usage="Training", return_X_y=True, as_names=True)
    X_test, y_test = load_fer2013(FER2013, usage="PublicTest", return_X_y=True, as_names=True)
    codes = np.array([classes.index(label) for label in y])
    test_codes = np.array([classes.index(label) for label in y_test])
    teacher = load_pretrained(args.teacher)
    if list(teacher.classes_) != classes:
        raise ValueError(f"the teacher's classes {teacher.classes_} are not the student's")
    start = time.perf_counter()
    teacher_log_proba = torch.log(torch.as_tensor(
        teacher.predict_proba(X), dtype=torch.float32).clamp_min(1e-8))
    print(f"the teacher labelled {len(X)} faces in {time.perf_counter() - start:.0f} s",
          flush=True)
    normalizer, clf = student.named_steps["normalize"], student[-1]
    mean, scale = float(normalizer.mean_), float(normalizer.scale_)

    def normalise(faces):
        return torch.as_tensor((faces.astype(np.float32) - mean) / scale)[:, None]

    net = copy.deepcopy(clf.module_).float()
    history = [{"epoch": 0, **evaluate(net, normalise, X_test, test_codes)}]
    print(history[-1], flush=True)
    batches = len(X) // 128
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, pct_start=0.1,
                                                   total_steps=args.epochs * batches)
    temperature = 2.0
    for epoch in range(1, args.epochs + 1):
        start, order = time.perf_counter(), rng.permutation(len(X))
        for b in range(batches):
            rows = order[b * 128:(b + 1) * 128]
            faces = cut_batch(clf.augment(normalise(X[rows])), args.p_cut,
                              (0 - mean) / scale, rng)
            logits = net(faces)
            kl = F.kl_div(F.log_softmax(logits / temperature, 1),
                          F.log_softmax(teacher_log_proba[rows] / temperature, 1),
                          log_target=True, reduction="batchmean") * temperature ** 2
            ce = F.cross_entropy(logits, torch.as_tensor(codes[rows]))
            loss = args.alpha * kl + (1 - args.alpha) * ce
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        history.append({"epoch": epoch, "seconds": round(time.perf_counter() - start, 1),
                        **evaluate(net, normalise, X_test, test_codes)})
        print(history[-1], flush=True)
    rows = [{"epoch": h["epoch"], "whole": f"{h['whole']:.4f}",
             "cut 30%, mean": f"{h['cut_mean']:.4f}",
             "gap": f"{h['whole'] - h['cut_mean']:.4f}",
             **{side: f"{h[side]:.4f}" for side in SIDES}} for h in history]
    write_results(args.out, {"settings": vars(args), "history": history}, markdown_table(rows),
                  "PublicTest accuracy in float32; epoch 0 is the student as shipped.", machine)


if __name__ == "__main__":
    main()
