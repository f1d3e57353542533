"""Flagship run 3: VGG-wide and ResNet members at full GPU speed, then students, in one command.

Built on the library's recipes: each member is ``make_recipe``'s estimator with a
64-128-256-512 VGG network or ResNet-18's layout (``r18``) on a ``FastTrainingClassifier``
(loss read once an epoch, the epoch's augmentation in one call, bf16 + channels-last on CUDA,
optionally compiled);
the students are ``make_recipe("s24"/"s16", teacher=<new ensemble>)`` warm-started from
the shipped ``default``/``fast``, the ensemble labelling every augmented batch. One
process owns the card: (1) smoke: FLOPs per training image of every network, the speed levers
turned on one by one on the widest member (images/s, TFLOP/s), ``torch.compile`` decided from
its gain and compile time, every member, the distillation and the packing on a few batches;
(2) plan: epochs from the measured images/s, epochs cut before members; (3) members in turn
into ``OUT/accurate-<i>.safetensors`` as each ends, the ensemble scored with and without
crop-TTA; (4) students into ``OUT/students-1.safetensors``; ``OUT/results.json`` after every
stage, a table last.

    python factory/train_flagship.py --out $OUT --init-dir .devdata/init   # GPU
    python factory/train_flagship.py --out $OUT --init-dir .devdata/init \
        --members m40 m40p3 m32d3 --batch-size 512                  # run 2: run 1's members
    python factory/train_flagship.py --out runs/dry --limit 320 --tiny      # CPU dry run
    python factory/count_flops.py                          # FLOPs, CPU images/s
    python factory/export_run.py RUN                  # into the package
"""

import argparse
import io
import json
import lzma
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _toolbox import (
    SPEED_LEVERS,
    FastTrainingClassifier,
    pack_groups,
    pack_networks,
    plan_epochs,
    read_packed,
    speed_levers,
    training_flops,
)

from fer_sklearn import EMOTIONS, EmotionCNN, ImageAugmenter, make_emotion_pipeline
from fer_sklearn.evaluation import machine_info
from fer_sklearn.training import (
    AUGMENT,
    NETWORKS,
    InitialWeights,
    TimeBudget,
    ensemble_classifier,
    make_recipe,
)

DATA = [".devdata/fer2013.npz.xz", "../shared/data/fer2013/fer2013.npz.xz"]
VGG = dict(width=64, depth=4, convs_per_block=2, hidden_units=256, dropout=0.4, block_dropout=0.05)
# ResNet-18's layout for 48-pixel faces (a stride-1 stem, two basic blocks a stage, a linear
# head) at the width the size cap leaves beside three VGG members: 5.3 M parameters
RESNET = dict(width=44, depth=4, convs_per_block=4, hidden_units=0, dropout=0.0, residual=True)
# Diverse members as wide as the published from-scratch VGGs (64-128-256-512), global-average-
# pooled heads; each carries one accuracy lever so PublicTest says what it gave (v64a vs v64s:
# AdamW vs SGD + Nesterov at the large batch; crops, mixup, cutmix, EMA on the others). r18 is
# another family, on the published ResNet-18's recipe: SGD + Nesterov at 0.1 (batch 128),
# random crops, mixup, label smoothing 0.1 (every member's); its schedule is the recipes'
# warm-up and cosine, which fits a planned number of epochs where plateau cuts would not.
MEMBERS = {
    "v64a": dict(net=VGG, optimizer="adamw", seed=31),
    "v64s": dict(net=VGG, optimizer="sgd", seed=32),
    "v64d3": dict(net=dict(VGG, convs_per_block=3), optimizer="sgd", augment="crop", mixup=0.2,
                  ema=0.999, seed=33),
    "v64p2": dict(net=dict(VGG, pool_size=2), optimizer="adamw", cutmix=1.0, ema=0.999, seed=34),
    "r18": dict(net=RESNET, optimizer="sgd", lr=0.1, augment="crop", mixup=0.2, seed=35),
    # run 1's members (the shipped ``accurate``), for the run-2 command: ~2 M parameters each
    "m40": dict(net=NETWORKS["m40"], optimizer="adamw", seed=11),
    "m40p3": dict(net=NETWORKS["m40p3"], optimizer="adamw", seed=12),
    "m32d3": dict(net=NETWORKS["m32d3"], optimizer="adamw", seed=13),
}
RUN3 = ["v64a", "v64s", "v64d3", "r18"]  # the members trained unless --members says others
STUDENTS = {"default": "s24", "fast": "s16"}  # shipped name -> recipe (and warm-start shape)
OPTIMIZERS = {  # settings at batch 128; the rate scales: square root (AdamW), linear (SGD)
    "adamw": dict(optimizer=torch.optim.AdamW, lr=2e-3, optimizer__weight_decay=0.05),
    "sgd": dict(optimizer=torch.optim.SGD, lr=0.02, optimizer__weight_decay=5e-4,
                optimizer__momentum=0.9, optimizer__nesterov=True),
}
# the recipes' augmentation, and random crops (shifts and flips only) for the member trying them
AUGMENTS = {"affine": AUGMENT, "crop": dict(AUGMENT, max_rotation=0, max_scale=0, erasing=0.0)}
CAP_BYTES = 50e6  # all shipped weights, fp16
RETURNED_FILES, RETURNED_FILE_BYTES = 8, 16 * 2**20  # what comes back from the GPU machine
CLASSES = np.sort(EMOTIONS)  # the classifiers' order, as the shipped models have it
# dense bf16 tensor-core rates, TFLOP/s without sparsity (NVIDIA's data sheets), by a part of
# torch.cuda.get_device_name(), the more specific names first: each member's achieved rate is
# logged as a share of its card's (the issue wants 25% or more)
BF16_PEAK_TFLOPS = {"H100 PCIe": 756, "H100 NVL": 835, "H100": 989, "H200": 989, "A100": 312,
                    "L40S": 362, "L4": 121}


class Run:
    """The run's log (stdout and OUT/train_flagship.log), clock and results.json."""

    def __init__(self, out, deadline):
        self.out, self.start, self.deadline = out, time.perf_counter(), deadline
        out.mkdir(parents=True, exist_ok=True)
        self.file = open(out / "train_flagship.log", "a", buffering=1)
        self.results = {"machine": machine(), "members": {}, "students": {}, "plan": {}}

    def log(self, *parts):
        line = " ".join([f"[{self.elapsed():6.1f}s]", *map(str, parts)])
        print(line, flush=True)
        self.file.write(line + "\n")

    def elapsed(self):
        return time.perf_counter() - self.start

    def left(self):
        return self.deadline - self.elapsed()

    def save(self):
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1, default=str))


def machine():
    """The card (or the CPU) of the run, its bf16 matrix rate, the versions and the date."""
    cuda = torch.cuda.is_available()
    card = torch.cuda.get_device_name() if cuda else f"CPU ({machine_info()['cpu_model']})"
    peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in card), None) if cuda else None
    return dict(card=card, bf16_peak_tflops=peak, torch=torch.__version__,
                python=platform.python_version(),
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def of_peak(run, tflops):
    """``tflops`` as a share of the card's bf16 matrix rate, for the log ('' if unknown)."""
    peak = run.results["machine"]["bf16_peak_tflops"]
    return f" ({tflops / peak:.0%} of the card's bf16 matrix rate)" if peak else ""


def check_returned_files(run, members):
    """Before any training: the full-size networks fit the size cap and the returned files.

    Counted on PyTorch's ``meta`` device (no memory), whatever ``--tiny`` makes of them: the
    shipped fp16 weights of ``members`` and the students, and the files the run writes
    (the packed networks, fp16 as shipped, ``results.json`` and the log).
    """
    with torch.device("meta"):
        nets = {m: EmotionCNN(**MEMBERS[m]["net"]) for m in members}
        students = {s: EmotionCNN(**NETWORKS[s]) for s in STUDENTS.values()}
    packed = {name: sum(v.numel() * (2 if v.is_floating_point() else v.element_size())
                        for v in net.state_dict().values())
              for name, net in {**nets, **students}.items()}
    shipped = 2 * sum(p.numel() for net in [*nets.values(), *students.values()]
                      for p in net.parameters())
    files = {}
    for stem, names in (("accurate", nets), ("students", students)):
        for i, group in enumerate(pack_groups({n: packed[n] for n in names}), 1):
            files[f"{stem}-{i}.safetensors"] = sum(packed[n] for n in group)
    run.results["returned_files"] = dict(shipped_bytes_fp16=shipped, files=files)
    run.log(f"full size: {shipped / 1e6:.1f} MB of shipped weights in fp16 (cap "
            f"{CAP_BYTES / 1e6:.0f}); {len(files) + 2} files returned (at most {RETURNED_FILES}),"
            f" the largest {max(files.values()) / 2**20:.1f} MiB (at most "
            f"{RETURNED_FILE_BYTES / 2**20:.0f})")
    if shipped > CAP_BYTES:
        raise SystemExit("the members and students pass the size cap of the shipped weights")
    if len(files) + 2 > RETURNED_FILES or max(files.values()) > RETURNED_FILE_BYTES:
        raise SystemExit("the run would write more or larger files than come back")


def load_faces(path, limit):
    """Training and PublicTest faces (codes as emotion names), ``limit`` of each at most."""
    path = Path(path) if path else next((Path(p) for p in DATA if Path(p).exists()), None)
    if path is None or not path.exists():
        raise SystemExit(f"no FER2013 data at {path or DATA}")
    raw = lzma.open(path).read() if path.suffix == ".xz" else path.read_bytes()
    data = np.load(io.BytesIO(raw))
    usage, X, y = data["usage"].astype(str), data["X"], np.asarray(EMOTIONS)[data["y"]]
    train, valid = usage == "Training", usage == "PublicTest"
    return X[train][:limit], y[train][:limit], X[valid][:limit], y[valid][:limit]


def optimizer_settings(optimizer, batch_size, device="cpu", lr=None):
    """An optimizer's estimator settings at ``batch_size``, the rate (``lr`` or the optimizer's
    own, at batch 128) scaled from batch 128."""
    settings, ratio = dict(OPTIMIZERS[optimizer]), batch_size / 128
    settings["lr"] = lr or settings["lr"]
    settings["lr"] *= ratio if optimizer == "sgd" else math.sqrt(ratio)
    if device == "cuda" and optimizer == "adamw":
        settings["optimizer__fused"] = True
    return settings


def estimator(spec, args, *, epochs, compile_train, seconds, callbacks=()):
    """A member: the recipe's estimator with ``spec``'s network and levers, made fast."""
    settings = optimizer_settings(spec["optimizer"], args.batch_size, args.device, spec.get("lr"))
    net = dict(spec["net"], width=4) if args.tiny else spec["net"]
    recipe = make_recipe(
        "m40", max_epochs=epochs, batch_size=args.batch_size, label_smoothing=0.1,
        mixup=spec.get("mixup", 0.0), cutmix=spec.get("cutmix", 0.0), ema=spec.get("ema"),
        random_state=spec["seed"], callbacks=[("deadline", TimeBudget(seconds)), *callbacks],
        augment=ImageAugmenter(**AUGMENTS[spec.get("augment", "affine")]), device=args.device,
        verbose=0, classes=CLASSES, **settings, **{f"module__{k}": v for k, v in net.items()})
    return FastTrainingClassifier(**recipe.get_params(deep=False), compile_train=compile_train)


def fit_member(run, name, spec, args, data, *, epochs, compile_train, seconds, n=None):
    """Fit one member (on the first ``n`` faces); falls back to eager if compiling fails."""
    X, y, Xv, yv = data
    for attempt in ([True, False] if compile_train else [False]):
        clf = estimator(spec, args, epochs=epochs, compile_train=attempt, seconds=seconds)
        try:
            return clf.fit(X[:n], y[:n], X_valid=Xv, y_valid=yv), attempt
        except Exception as exc:  # noqa: BLE001 - a compile failure must not end the run
            if not attempt:
                raise
            run.log(f"[{name}] compiled training failed ({type(exc).__name__}: {exc}); eager")
    raise AssertionError("unreachable")


def record(clf, flops, n_train):
    """A trained network's row of results.json (epoch times include PublicTest's pass)."""
    curve, durations = clf.history_[:, "valid_acc"], clf.history_[:, "dur"]
    best, seconds = int(np.argmax(curve)), float(sum(durations))
    rate = n_train * len(durations) / seconds
    return dict(n_epochs=len(durations), best_epoch=best + 1, seconds=round(seconds, 1),
                seconds_per_epoch=round(seconds / len(durations), 3), images_per_s=round(rate),
                tflops=round(rate * flops / 1e12, 3), public_test_accuracy=float(curve[best]),
                curve=[round(float(a), 4) for a in curve],
                params=sum(p.numel() for p in clf.module_.parameters()))


def smoke(run, args, data, flops):
    """Levers on the widest member, compile decided; every code path on a few batches."""
    X, y, Xv, yv = data
    widest = max(args.members, key=lambda m: flops[m])
    clf = estimator(MEMBERS[widest], args, epochs=1, compile_train=False, seconds=1e9).initialize()
    images = torch.as_tensor(X[:4096, None], device=torch.device(args.device))
    labels = torch.randint(7, (len(images),), device=images.device)
    run.log(f"speed levers on {widest} ({flops[widest] / 1e9:.2f} GFLOP a training image):")
    levers = [lv for lv in SPEED_LEVERS if args.compile != "off" or "compile" not in lv[0]]
    rows = speed_levers(clf.module_, images, labels, ImageAugmenter(**AUGMENTS["affine"]),
                        small_batch=min(128, args.batch_size), large_batch=args.batch_size,
                        steps=args.smoke_steps, levers=levers, log=run.log)
    run.results["levers"] = rows
    eager = [r for r in rows if "images_per_s" in r and "compile" not in r["lever"]][-1]
    compiled = next((r for r in rows if "compile" in r["lever"] and "images_per_s" in r), None)
    gain, compile_s, use = 1.0, 0.0, args.compile == "on" and compiled is not None
    if compiled is not None:
        saving = len(y) * args.epochs * (1 / eager["images_per_s"] - 1 / compiled["images_per_s"])
        use = use or (args.compile == "auto" and saving > compiled["warmup_s"])
        run.log(f"torch.compile: x{compiled['gain']:.2f} for {compiled['warmup_s']:.0f} s of "
                f"compiling, {saving:.0f} s saved a member over {args.epochs} epochs: "
                f"{'on' if use else 'off (eager)'}")
        if use:
            gain, compile_s = compiled["gain"], compiled["warmup_s"]
    rates, n = {}, min(len(y), args.smoke_batches * args.batch_size)
    for name in args.members:  # eager: the compiled rate is the ladder's gain
        member, _ = fit_member(run, name, MEMBERS[name], args, data, epochs=2, compile_train=False,
                               seconds=1e9, n=n)
        rate = n / member.history_[-1, "dur"] * gain
        rates[name] = dict(images_per_s=rate, compiled=use, compile_s=compile_s)
        run.log(f"[{name}] smoke: {rate:,.0f} images/s in a whole epoch (validation included), "
                f"{rate * flops[name] / 1e12:.2f} TFLOP/s{of_peak(run, rate * flops[name] / 1e12)}"
                f", compiled={use}")
    student = make_recipe("s16", teacher=ensemble_classifier([member]), max_epochs=1,
                          n_views=args.views or None, batch_size=args.batch_size,
                          device=args.device, verbose=0, classes=CLASSES)
    student.fit(X[:n], y[:n], X_valid=Xv, y_valid=yv)
    paths = pack_networks({"smoke": member, "student": student.to_classifier()}, args.out / "smoke")
    if set(read_packed(paths)) != {"smoke", "student"}:
        raise SystemExit("smoke: the packed networks do not read back")
    for path in paths:
        path.unlink()
    run.log("smoke: distillation and packing ran")
    return rates


def plan(run, args, rates, n_train, params):
    """Epochs per member from the measured rates; cut epochs before members."""
    student_s = args.student_share * run.left()
    budget = run.left() - student_s - args.margin
    per_epoch = {m: n_train / rates[m]["images_per_s"] for m in args.members}
    members, epochs = plan_epochs(budget, per_epoch, {m: rates[m]["compile_s"] for m in per_epoch},
                                  args.epochs, args.min_epochs)
    if len(members) < len(args.members):
        run.log(f"plan: {', '.join(m for m in args.members if m not in members)} left out: "
                f"even {args.min_epochs} epochs each would not fit")
    if epochs < args.epochs:
        run.log(f"plan: epochs per member cut from {args.epochs} to {epochs}: the measured rates "
                f"give {sum(per_epoch[m] for m in members):.1f} s an epoch of all members, "
                f"{budget:.0f} s for members")
    size = 2 * sum(params[m] for m in [*members, *STUDENTS.values()])
    run.results["plan"] = dict(members=members, epochs=epochs, member_budget_s=budget,
                               student_budget_s=student_s, shipped_bytes_fp16=size,
                               seconds_per_epoch={m: per_epoch[m] for m in members})
    run.log(f"plan: {len(members)} members x {epochs} epochs, students {student_s:.0f} s, "
            f"shipped weights {size / 1e6:.1f} MB fp16 (cap {CAP_BYTES / 1e6:.0f})")
    if size > CAP_BYTES:
        raise SystemExit("the planned networks pass the size cap of the shipped weights")
    return members, epochs


def train_students(run, args, data, teacher, flops):
    """Students distilled from the new ensemble, warm-started from the shipped ones."""
    X, y, Xv, yv = data
    done, batch = {}, min(512, args.batch_size)
    for i, (shipped, recipe) in enumerate(STUDENTS.items()):
        seconds = max(1.0, (run.left() - args.margin) / (len(STUDENTS) - i))
        init = Path(args.init_dir or ".") / f"{shipped}.safetensors"  # the shipped model's file
        warm = [("initial_weights", InitialWeights(str(init)))] if init.exists() else []
        run.log(f"[{shipped}] {recipe} distilled for {seconds:.0f} s, from {init if warm else '0'}")
        student = make_recipe(recipe, teacher=teacher, max_epochs=args.student_epochs,
                              budget=seconds, batch_size=batch, lr=2e-3 * math.sqrt(batch / 128),
                              n_views=args.views or None, device=args.device, verbose=0,
                              callbacks=warm, classes=CLASSES).fit(X, y, X_valid=Xv, y_valid=yv)
        done[shipped] = student.to_classifier()
        row = run.results["students"][shipped] = dict(
            record(student, flops[recipe], len(y)), network=recipe,
            warm_start=str(init) if warm else None)
        pack_networks(done, args.out / "students", info=run.results["students"])
        run.save()
        run.log(f"[{shipped}] PublicTest {row['public_test_accuracy']:.2%}")


def train_members(run, args, data, members, epochs, flops, rates):
    """Each member in turn, packed into OUT/accurate-<i>.safetensors as it ends; the ensemble."""
    fitted = {}
    for i, name in enumerate(members):
        seconds = 1.2 * (run.left() - run.results["plan"]["student_budget_s"] - args.margin) / (
            len(members) - i)  # a safety net: the plan gives each member its epochs
        run.log(f"[{name}] {epochs} epochs (stopped after {seconds:.0f} s at the latest)")
        clf, used = fit_member(run, name, MEMBERS[name], args, data, epochs=epochs,
                               seconds=seconds, compile_train=rates[name]["compiled"])
        fitted[name] = clf.to_classifier()
        row = run.results["members"][name] = dict(record(clf, flops[name], len(data[1])),
                                                  compiled=used, **MEMBERS[name])
        pack_networks(fitted, args.out / "accurate", info=run.results["members"])
        run.save()
        run.log(f"[{name}] PublicTest {row['public_test_accuracy']:.2%} (epoch {row['best_epoch']}"
                f"), {row['images_per_s']:,} images/s, {row['tflops']:.1f} TFLOP/s"
                f"{of_peak(run, row['tflops'])}")
    teacher = ensemble_classifier(list(fitted.values()))
    scores = {f"tta={tta}": float(teacher.set_params(tta=tta).score(data[2], data[3]))
              for tta in (False, True)}
    run.results["ensemble"] = dict(members=list(fitted), **scores)
    run.log(f"ensemble of {len(fitted)}: PublicTest {scores}")
    return teacher.set_params(tta=False)


def main(argv=None):
    args = parse(argv)
    run = Run(args.out, args.deadline)
    run.results["batch_size"] = args.batch_size
    run.log(f"train_flagship on {run.results['machine']}: {' '.join(argv or sys.argv[1:])}")
    check_returned_files(run, args.members)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    data = prepare(run, args)
    nets = {m: estimator(MEMBERS[m], args, epochs=1, compile_train=False, seconds=1
                         ).initialize().module_ for m in args.members}
    nets.update({s: make_recipe(s).initialize().module_ for s in STUDENTS.values()})
    flops = run.results["flops_per_image"] = {m: training_flops(n) for m, n in nets.items()}
    params = {m: sum(p.numel() for p in net.parameters()) for m, net in nets.items()}
    rates = run.results["smoke"] = smoke(run, args, data, flops)
    run.save()
    members, epochs = plan(run, args, rates, len(data[1]), params)
    teacher = train_members(run, args, data, members, epochs, flops, rates)
    try:
        train_students(run, args, data, teacher, flops)
    except Exception as exc:  # noqa: BLE001 - the members are written: still end with the table
        run.log(f"students failed: {type(exc).__name__}: {exc}")
    run.results["total_s"] = run.elapsed()
    run.save()
    table(run)
    return run.results


def prepare(run, args):
    """Training and PublicTest faces through the library's preprocessing (fitted on Training)."""
    X, y, Xv, yv = load_faces(args.data, args.limit)
    prep = make_emotion_pipeline()[:-1].fit(X)
    norm = prep.named_steps["normalize"]
    run.results.update(normalize=dict(mean=norm.mean_, std=norm.scale_), n_train=len(y),
                       n_valid=len(yv))
    return (prep.transform(X).astype(np.float32), y, prep.transform(Xv).astype(np.float32), yv)


def table(run):
    run.log("network    epochs  s/epoch  images/s  TFLOP/s  PublicTest")
    for name, row in [*run.results["members"].items(), *run.results["students"].items()]:
        run.log(f"{name:<10}{row['n_epochs']:>7}{row['seconds_per_epoch']:>9.2f}"
                f"{row['images_per_s']:>10,}{row['tflops']:>9.2f}"
                f"{row['public_test_accuracy']:>12.2%}")
    run.log(f"ensemble: {run.results['ensemble']}; {run.elapsed():.0f} s in all")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data")
    p.add_argument("--out", type=Path, default=Path("runs/flagship"))
    p.add_argument("--deadline", type=float, default=560, help="seconds for the whole run")
    p.add_argument("--members", nargs="+", choices=list(MEMBERS), default=RUN3,
                   help="ensemble members to train (default: run 3's; m40 m40p3 m32d3: run 1's)")
    p.add_argument("--epochs", type=int, default=200, help="planned epochs per member")
    p.add_argument("--min-epochs", type=int, default=40, help="below this, members are left out")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    p.add_argument("--student-share", type=float, default=0.2, help="of the time after smoke")
    p.add_argument("--student-epochs", type=int, default=400)
    p.add_argument("--views", type=int, default=0, help="teacher-labelled copies per face, "
                   "computed once; 0: the teacher labels every batch (default)")
    p.add_argument("--margin", type=float, default=20, help="seconds kept for the end")
    p.add_argument("--smoke-steps", type=int, default=20)
    p.add_argument("--smoke-batches", type=int, default=8)
    p.add_argument("--init-dir", help="the shipped default.safetensors and fast.safetensors: "
                   "warm starts")
    p.add_argument("--limit", type=int, help="faces of each split (dry run)")
    p.add_argument("--tiny", action="store_true", help="members 4 wide (CPU dry run)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p.parse_args(argv)


if __name__ == "__main__":
    main()
