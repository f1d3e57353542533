"""Train the flagship models in one GPU run: an ensemble, then distilled fast students.

One command, made for the lent GPU machine (``../shared/DEVICE.md``) and dry-run on
the CPU by ``tests/test_train_device.py``:

1. smoke stage: every architecture, the distillation step and the file writer run a
   few batches, so that a mistake fails in seconds;
2. the ensemble members train at the same time, one process each, every one within
   a wall-clock budget (the learning rate follows warm-up + cosine over the budget,
   so a slower card trains fewer epochs but still anneals);
3. the students learn from the members' mean logits on the same augmented batches;
4. each model is written as soon as it is done, as ``OUT/<name>.safetensors``
   (fp16 weights; its settings and scores in the safetensors metadata), with
   ``OUT/results.json`` and ``OUT/train_device.log``; a table is printed last.

The data stay on the device as one uint8 tensor; batches are cut by index and
augmented on the device; bf16 autocast and channels-last on CUDA. The recipe is
AdamW at batch 128 unless ``--batch-size``, ``--optimizer sgd`` (Nesterov momentum),
``--lr`` or ``--mixup`` say otherwise (the learning rate scales with the batch, see
:func:`recipe`); ``--probe-speed`` logs one member's images/s at batch 128-1024 in
the smoke stage; ``--init-dir`` warm-starts networks from the files of an earlier
run (``<name>.safetensors``) or from the package's shipped models of the same networks,
copied there under the network's name (``fast.safetensors`` as ``s16.safetensors``,
``default.safetensors`` as ``s24.safetensors``: see :func:`warm_start`).

    python benchmarks/train_device.py --out runs/device                      # GPU
    python benchmarks/train_device.py --out runs/dry --limit 256 --max-epochs 1  # CPU dry run
"""

import argparse
import copy
import functools
import io
import json
import lzma
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from fer_sklearn.neural_net._augment import ImageAugmenter
from fer_sklearn.neural_net._cnn import EmotionCNN

DEFAULT_DATA = [".devdata/fer2013.npz.xz", "../shared/data/fer2013/fer2013.npz.xz"]

_BASE = dict(depth=4, convs_per_block=2, hidden_units=256, dropout=0.4, block_dropout=0.05)
# Ensemble members: different widths, depths and heads for diversity; together they
# must stay small enough to ship (all shipped models <= 15 MB in fp16).
MEMBERS = {
    "m40": dict(module=dict(_BASE, width=40), seed=11),
    "m40p3": dict(module=dict(_BASE, width=40, pool_size=3, hidden_units=128), seed=12),
    "m32d3": dict(module=dict(_BASE, width=32, convs_per_block=3), seed=13),
}
# Students distilled from the members: candidates for the fast and the default model.
STUDENTS = {
    "s12": dict(module=dict(_BASE, width=12, hidden_units=128, dropout=0.2, block_dropout=0.0), seed=21),
    "s16": dict(module=dict(_BASE, width=16, hidden_units=128, dropout=0.2, block_dropout=0.0), seed=22),
    "s24": dict(module=dict(_BASE, width=24, dropout=0.3, block_dropout=0.0), seed=23),
}
TRAIN = dict(batch_size=128, optimizer="adamw", lr=2e-3, weight_decay=0.05, label_smoothing=0.1,
             warmup=0.03, mixup=0.0)
# Settings of each optimizer at batch 128; ``recipe`` scales the learning rate with the batch
# (square root for AdamW, linear for SGD). SGD with Nesterov momentum is what the best
# published single network on FER2013 used (Khaireddin & Chen 2021: lr 0.01 at batch 64).
OPTIMIZERS = {
    "adamw": dict(lr=2e-3, weight_decay=0.05),
    "sgd": dict(lr=0.02, weight_decay=5e-4, momentum=0.9, nesterov=True),
}
AUGMENT = dict(max_shift=0.1, max_rotation=12, max_scale=0.12, flip=True, erasing=0.25)
DISTILL = dict(alpha=0.75, temperature=2.0)


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


# ---------------------------------------------------------------------------- data
def find_data(path):
    for candidate in ([path] if path else DEFAULT_DATA):
        if Path(candidate).exists():
            return Path(candidate)
    raise SystemExit(f"no FER2013 data found at {path or DEFAULT_DATA}")


def read_fer2013(path):
    """Training and PublicTest faces from the ``.npz.xz`` (or an uncompressed ``.npz``) file."""
    path = Path(path)
    raw = lzma.open(path).read() if path.suffix == ".xz" else path.read_bytes()
    data = np.load(io.BytesIO(raw))
    usage = data["usage"].astype(str)
    train, valid = usage == "Training", usage == "PublicTest"
    return data["X"][train], data["y"][train], data["X"][valid], data["y"][valid]


def cache_data(source, work, limit):
    """Decompress once into ``work`` so that each member process loads it in a moment."""
    X, y, Xv, yv = read_fer2013(source)
    if limit:
        X, y, Xv, yv = X[:limit], y[:limit], Xv[:limit], yv[:limit]
    cached = work / "fer2013.npz"
    np.savez(cached, X=np.concatenate([X, Xv]), y=np.concatenate([y, yv]),
             usage=np.array(["Training"] * len(X) + ["PublicTest"] * len(Xv)))
    return cached, X, y, Xv, yv


# ---------------------------------------------------------------------------- device set-up
def settings(device, precision):
    device = torch.device(device)
    cuda = device.type == "cuda"
    if precision == "auto":
        precision = "bf16" if cuda else "32"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device, precision, (torch.channels_last if cuda else torch.contiguous_format)


def autocast(device, precision):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


class FaceBatches:
    """Faces held on the device as one uint8 tensor; batches cut by index, normalised there."""

    def __init__(self, X, y, device, mean, scale, memory_format):
        self.X = torch.as_tensor(np.ascontiguousarray(X), device=device)
        self.y = torch.as_tensor(np.asarray(y, dtype=np.int64), device=device)
        self.mean, self.scale, self.memory_format = float(mean), float(scale), memory_format

    def __len__(self):
        return len(self.y)

    def images(self, index):
        x = self.X[index].unsqueeze(1).float().sub_(self.mean).div_(self.scale)
        return x

    def shuffled(self, batch_size, generator):
        order = torch.randperm(len(self), device=self.X.device, generator=generator)
        n_full = max(1, len(self) // batch_size)
        for i in range(n_full):
            yield order[i * batch_size:(i + 1) * batch_size]

    def in_order(self, batch_size=1024):
        for start in range(0, len(self), batch_size):
            yield torch.arange(start, min(start + batch_size, len(self)), device=self.X.device)


def build(spec, device, memory_format):
    torch.manual_seed(spec["seed"])
    return EmotionCNN(n_classes=7, **spec["module"]).to(device, memory_format=memory_format)


@torch.no_grad()
def logits_of(nets, batches, device, precision, flip=False):
    """Mean logits of ``nets`` on every face of ``batches`` (float32, on the CPU)."""
    for net in nets:
        net.eval()
    out = []
    for index in batches.in_order():
        x = batches.images(index).contiguous(memory_format=batches.memory_format)
        with autocast(device, precision):
            z = sum(net(x).float() for net in nets)
            if flip:
                z = z + sum(net(x.flip(-1)).float() for net in nets)
        out.append(z.float() / (len(nets) * (2 if flip else 1)))
    return torch.cat(out).cpu()


def accuracy(logits, y):
    return float((logits.argmax(1).numpy() == np.asarray(y)).mean())


def recipe(batch_size=128, optimizer="adamw", lr=None, mixup=0.0):
    """The training settings: ``TRAIN`` with the optimizer's settings, the learning rate
    scaled from batch 128 to ``batch_size`` unless ``lr`` is given."""
    if batch_size < 1 or mixup < 0:
        raise ValueError(f"batch_size must be >= 1 and mixup >= 0, got {batch_size} and {mixup}")
    chosen = dict(TRAIN, **OPTIMIZERS[optimizer], optimizer=optimizer, batch_size=int(batch_size),
                  mixup=float(mixup))
    if lr is None:
        ratio = batch_size / 128
        chosen["lr"] = chosen["lr"] * (ratio if optimizer == "sgd" else math.sqrt(ratio))
    else:
        chosen["lr"] = float(lr)
    return chosen


def make_optimizer(net, train, device):
    """AdamW (fused on CUDA) or SGD with Nesterov momentum, as ``train`` says."""
    if train["optimizer"] == "sgd":
        return torch.optim.SGD(net.parameters(), lr=train["lr"], momentum=train["momentum"],
                               nesterov=train["nesterov"], weight_decay=train["weight_decay"])
    fused = {"fused": True} if device.type == "cuda" else {}
    return torch.optim.AdamW(net.parameters(), lr=train["lr"], weight_decay=train["weight_decay"], **fused)


def mix(x, alpha, rng, generator):
    """Mixup: ``(mixed x, permutation, weight of the original)``; ``alpha=0`` leaves ``x`` alone."""
    if alpha <= 0:
        return x, None, 1.0
    lam = float(rng.beta(alpha, alpha))
    perm = torch.randperm(len(x), device=x.device, generator=generator)
    return x.mul(lam).add_(x[perm], alpha=1 - lam), perm, lam


def objective(z, y, *, smoothing, perm=None, lam=1.0, soft=None):
    """The loss of logits ``z``: cross-entropy to the labels ``y`` (mixed in the images'
    proportions under mixup), blended with the KL divergence to the teachers' soft labels."""
    loss = F.cross_entropy(z, y, label_smoothing=smoothing)
    if perm is not None:
        loss = lam * loss + (1 - lam) * F.cross_entropy(z, y[perm], label_smoothing=smoothing)
    if soft is not None:
        alpha, temperature = DISTILL["alpha"], DISTILL["temperature"]
        kd = F.kl_div(F.log_softmax(z / temperature, dim=1), soft, reduction="batchmean") * temperature**2
        loss = alpha * kd + (1 - alpha) * loss
    return loss


def train_step(net, opt, x, loss_of, device, precision):
    """One optimiser step of ``net`` on the batch ``x``; ``loss_of(logits)`` is its loss."""
    with autocast(device, precision):
        z = net(x).float()
    loss = loss_of(z)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def lr_factor(progress, warmup):
    if progress < warmup:
        return progress / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


# ---------------------------------------------------------------------------- training
def fit(nets, train, valid, *, device, precision, budget_s, max_epochs, max_steps=None,
        teachers=(), names=None, tag="fit", train_settings=None):
    """Train ``nets`` side by side on the same augmented batches within ``budget_s`` seconds.

    Without ``teachers`` each net learns the labels (cross-entropy with label
    smoothing); with them, the teachers' mean logits as soft labels (distillation)
    mixed with the labels. The learning rate of every net follows warm-up + cosine
    over ``progress`` = the larger of the elapsed share of the budget and of
    ``max_epochs``. Returns one record per net (best PublicTest epoch's weights
    restored in the net). ``train_settings`` is a :func:`recipe` (default: ``recipe()``); with
    mixup, the labels' loss is mixed in the same proportions as the images, and the
    teachers see the mixed images.
    """
    names = names or [f"net{i}" for i in range(len(nets))]
    train_settings = train_settings or recipe()
    smoothing = 0.0 if teachers else train_settings["label_smoothing"]
    augment = ImageAugmenter(**AUGMENT)
    batch_size, base_lr = train_settings["batch_size"], train_settings["lr"]
    steps_per_epoch = max(1, len(train) // batch_size)
    total_steps = max_epochs * steps_per_epoch if max_steps is None else max_steps
    optimizers = [make_optimizer(net, train_settings, device) for net in nets]
    generator = torch.Generator(device=device)
    generator.manual_seed(1234)
    rng = np.random.default_rng(1234)
    for t in teachers:
        t.eval()
    records = [dict(name=n, epochs=[], best_accuracy=-1.0, best_epoch=0) for n in names]
    best_states = [None] * len(nets)
    step, epoch, progress, start = 0, 0, 0.0, time.time()
    temperature = DISTILL["temperature"]
    while progress < 1.0:
        epoch += 1
        for net in nets:
            net.train()
        epoch_start, seen = time.time(), 0
        losses = torch.zeros(len(nets), device=device)
        for index in train.shuffled(batch_size, generator):
            progress = max((time.time() - start) / budget_s, step / total_steps)
            if progress >= 1.0:
                break
            factor = lr_factor(progress, train_settings["warmup"])
            x = augment(train.images(index)).contiguous(memory_format=train.memory_format)
            x, perm, lam = mix(x, train_settings["mixup"], rng, generator)
            y = train.y[index]
            soft = None
            if teachers:
                with torch.no_grad(), autocast(device, precision):
                    soft = F.softmax(sum(t(x).float() for t in teachers) / len(teachers)
                                     / temperature, dim=1)
            loss_of = functools.partial(objective, y=y, smoothing=smoothing, perm=perm, lam=lam, soft=soft)
            for i, (net, opt) in enumerate(zip(nets, optimizers)):
                for group in opt.param_groups:
                    group["lr"] = base_lr * factor
                losses[i] += train_step(net, opt, x, loss_of, device, precision)
            step += 1
            seen += len(index)
        if seen == 0:
            epoch -= 1
            break
        seconds = time.time() - epoch_start
        for i, net in enumerate(nets):
            acc = accuracy(logits_of([net], valid, device, precision), valid.y.cpu().numpy())
            rec = records[i]
            rec["epochs"].append(dict(epoch=epoch, loss=round(float(losses[i]) / max(1, seen // batch_size), 4),
                                      valid_accuracy=round(acc, 4), seconds=round(seconds, 2),
                                      lr=round(base_lr * factor, 6)))
            if acc > rec["best_accuracy"]:
                rec["best_accuracy"], rec["best_epoch"] = acc, epoch
                best_states[i] = copy.deepcopy(net.state_dict())
        elapsed = time.time() - start
        log(f"[{tag}] epoch {epoch} {seconds:.1f}s {seen / seconds:.0f} img/s progress {progress:.2f} "
            + " ".join(f"{r['name']}={r['epochs'][-1]['valid_accuracy']:.4f}" for r in records)
            + f" elapsed {elapsed:.0f}s")
    elapsed = time.time() - start
    for i, net in enumerate(nets):
        if best_states[i] is not None:
            net.load_state_dict(best_states[i])
        rec = records[i]
        rec["train_seconds"] = round(elapsed, 1)
        rec["n_epochs"] = epoch
        rec["steps"] = step
        rec["images_per_s"] = round(step * batch_size / max(elapsed, 1e-9), 1)
        rec["seconds_per_epoch"] = round(elapsed / max(1, step / steps_per_epoch), 2)
        rec["final_lr_factor"] = round(lr_factor(progress, train_settings["warmup"]), 4)
        rec["batch_size"], rec["lr"] = batch_size, base_lr
    return records


# ---------------------------------------------------------------------------- files
def save_network(path, net, spec, meta):
    """fp16 weights with their settings in the safetensors metadata (no pickle)."""
    state = {k: (v.half() if v.is_floating_point() else v).contiguous().cpu()
             for k, v in net.state_dict().items()}
    config = dict(meta, module=dict(spec["module"], n_classes=7))
    tmp = Path(str(path) + ".part")
    save_file(state, tmp, metadata={"fer_sklearn": json.dumps(config)})
    os.replace(tmp, path)


def load_network(path, device, memory_format):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        config = json.loads(f.metadata()["fer_sklearn"])
    net = EmotionCNN(**config["module"])
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in load_file(str(path)).items()})
    return net.to(device, memory_format=memory_format).eval(), config


SHIPPED_PREFIX = "clf.module_."
"""How a shipped model's file (one of ``save_model``) names its network's tensors."""


def warm_start(net, path):
    """Load the weights of ``path`` into ``net``: a file of an earlier run (the network's
    tensors by their own names) or a shipped model's file of the same network (tensors
    ``clf.module_.<name>``, e.g. ``src/fer_sklearn/pretrained/weights/fast.safetensors``
    for ``s16``)."""
    state = load_file(str(path))
    if state and all(k.startswith(SHIPPED_PREFIX) for k in state):
        state = {k[len(SHIPPED_PREFIX):]: v for k, v in state.items()}
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net


def run_recipe(args):
    return recipe(args.batch_size, args.optimizer, args.lr, args.mixup)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def machine(device):
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    return dict(card=card, torch=torch.__version__, python=platform.python_version(),
                cpus=os.cpu_count(), date=time.strftime("%Y-%m-%d"))


# ---------------------------------------------------------------------------- stages
def load_stage_data(cached, device, memory_format):
    X, y, Xv, yv = read_fer2013(cached)
    mean, scale = float(X.mean()), float(X.std())
    train = FaceBatches(X, y, device, mean, scale, memory_format)
    valid = FaceBatches(Xv, yv, device, mean, scale, memory_format)
    return train, valid, dict(mean=mean, scale=scale)


def run_member(args):
    """One network in its own process (``--member NAME``): an ensemble member, or a student
    distilled from the members named in ``--teachers``."""
    device, precision, fmt = settings(args.device, args.precision)
    torch.set_num_threads(max(1, min(4, os.cpu_count() // 4)))
    train, valid, normalize = load_stage_data(args.cache, device, fmt)
    student = args.member in STUDENTS
    spec = (STUDENTS if student else MEMBERS)[args.member]
    teachers = []
    if student:
        teachers = [load_network(Path(args.teacher_dir or args.out) / f"{t}.safetensors", device, fmt)[0]
                    for t in args.teachers.split(",")]
    net = build(spec, device, fmt)
    start_from = Path(args.init_dir or "-") / f"{args.member}.safetensors"
    if args.init_dir and start_from.exists():  # a second cycle from an earlier run's weights
        warm_start(net, start_from)
        log(f"[{args.member}] starting from {start_from}")
    train_settings = run_recipe(args)
    rec, = fit([net], train, valid, device=device, precision=precision, budget_s=args.budget,
               max_epochs=args.max_epochs, teachers=teachers, names=[args.member], tag=args.member,
               train_settings=train_settings)
    z = logits_of([net], valid, device, precision)
    np.save(Path(args.work) / f"{args.member}_valid_logits.npy", z.numpy())
    rec.update(params=n_params(net), public_test_accuracy=round(accuracy(z, valid.y.cpu().numpy()), 4),
               precision=precision)
    meta = dict(kind="student" if student else "member", normalize=normalize, metrics=rec,
                machine=machine(device), train=train_settings, augment=AUGMENT)
    if student:
        rec["teachers"] = args.teachers.split(",")
        meta["distill"] = DISTILL
    save_network(Path(args.out) / f"{args.member}.safetensors", net, spec, meta)
    (Path(args.work) / f"{args.member}.json").write_text(json.dumps(rec))
    log(f"[{args.member}] done: best {rec['best_accuracy']:.4f} at epoch {rec['best_epoch']}")


def probe_speed(spec, train, device, precision, fmt, batch_sizes=(128, 256, 512, 1024), steps=8):
    """Training images/s of one network at each batch size (``steps`` timed steps after 2
    untimed ones), logged so that a run records what larger batches buy on its card."""
    net = build(spec, device, fmt)
    augment = ImageAugmenter(**AUGMENT)
    speeds = {}
    for batch_size in batch_sizes:
        opt = make_optimizer(net, recipe(batch_size), device)
        index = torch.arange(min(batch_size, len(train)), device=train.X.device)
        for i in range(steps + 2):
            if i == 2:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.time()
            x = augment(train.images(index)).contiguous(memory_format=fmt)
            loss_of = functools.partial(objective, y=train.y[index], smoothing=TRAIN["label_smoothing"])
            train_step(net, opt, x, loss_of, device, precision)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        speeds[batch_size] = round(steps * len(index) / (time.time() - start), 1)
    log("speed probe (one network alone, training images/s by batch size): "
        + ", ".join(f"{b}: {v:.0f}" for b, v in speeds.items()))
    return speeds


def smoke(train, valid, device, precision, fmt, work, train_settings=None):
    """A few batches through every path, so that a mistake fails in seconds."""
    start = time.time()
    small = FaceBatches(train.X[:512].cpu().numpy(), train.y[:512].cpu().numpy(), device,
                        train.mean, train.scale, fmt)
    small_valid = FaceBatches(valid.X[:256].cpu().numpy(), valid.y[:256].cpu().numpy(), device,
                              valid.mean, valid.scale, fmt)
    nets = {name: build(spec, device, fmt) for name, spec in {**MEMBERS, **STUDENTS}.items()}
    small_settings = dict(train_settings or recipe(), batch_size=min(128, len(small)))
    fit([nets[n] for n in MEMBERS], small, small_valid, device=device, precision=precision,
        budget_s=60, max_epochs=1, max_steps=3, names=list(MEMBERS), tag="smoke-members",
        train_settings=small_settings)
    fit([nets[n] for n in STUDENTS], small, small_valid, device=device, precision=precision,
        budget_s=60, max_epochs=1, max_steps=3, teachers=[nets[n] for n in MEMBERS],
        names=list(STUDENTS), tag="smoke-distill", train_settings=small_settings)
    name = next(iter(STUDENTS))
    path = Path(work) / "smoke.safetensors"
    save_network(path, nets[name], STUDENTS[name], dict(kind="smoke"))
    again, _ = load_network(path, device, fmt)
    a = logits_of([again], small_valid, device, precision)
    if not torch.isfinite(a).all():
        raise RuntimeError("smoke: non-finite logits after the file round trip")
    log(f"smoke stage passed in {time.time() - start:.1f}s ({precision}, {fmt})")


def launch(args, names, budget, teachers=()):
    """One process per network, side by side on the one device."""
    procs = {}
    for name in names:
        cmd = [sys.executable, __file__, "--member", name, "--cache", str(args.cache), "--work",
               str(args.work), "--out", args.out, "--device", args.device, "--precision",
               args.precision, "--budget", str(budget), "--max-epochs", str(args.max_epochs),
               "--teachers", ",".join(teachers), "--batch-size", str(args.batch_size),
               "--optimizer", args.optimizer, "--mixup", str(args.mixup)]
        if args.lr is not None:
            cmd += ["--lr", str(args.lr)]
        for option in ("teacher_dir", "init_dir"):
            if getattr(args, option):
                cmd += ["--" + option.replace("_", "-"), getattr(args, option)]
        logf = open(Path(args.work) / f"{name}.log", "w")
        procs[name] = (subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT), logf)
    return procs


def wait(procs, work, timeout_s):
    deadline, last_beat = time.time() + timeout_s, 0.0
    while any(p.poll() is None for p, _ in procs.values()):
        if time.time() > deadline:
            for name, (p, _) in procs.items():
                if p.poll() is None:
                    log(f"[{name}] over its time: killed")
                    p.kill()
            break
        if time.time() - last_beat > 30:
            last_beat = time.time()
            for name in procs:
                lines = (Path(work) / f"{name}.log").read_text().strip().splitlines()
                log(f"  {name}: {lines[-1] if lines else '(starting)'}")
        time.sleep(1)
    for name, (p, logf) in procs.items():
        p.wait()
        logf.close()
        if p.returncode:
            log(f"[{name}] FAILED with exit code {p.returncode}:")
            print((Path(work) / f"{name}.log").read_text()[-3000:], flush=True)


def collect(args, names, budget, into, note, teachers=()):
    """Train ``names`` in parallel processes; the records of those that finished go ``into``."""
    work = Path(args.work)
    procs = launch(args, names, budget, teachers)
    wait(procs, work, budget + 90)
    for name in names:
        text = (work / f"{name}.log").read_text().strip()
        note(f"--- {name} log ---\n{text}", echo=False)
        log(f"  {name}: {text.splitlines()[-1] if text else '(no output)'}")
        record = work / f"{name}.json"
        if record.exists():
            into[name] = json.loads(record.read_text())
    return [n for n in names if n in into]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="fer2013.npz.xz (default: .devdata or ../shared)")
    parser.add_argument("--out", default="runs/device")
    parser.add_argument("--work", default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "32"])
    parser.add_argument("--limit", type=int, default=None, help="first N faces of each split (dry run)")
    parser.add_argument("--max-epochs", type=int, default=400)
    parser.add_argument("--member-budget", type=float, default=270.0, help="seconds per member")
    parser.add_argument("--distill-budget", type=float, default=110.0, help="seconds for the students")
    parser.add_argument("--deadline", type=float, default=520.0, help="seconds from start to end by")
    parser.add_argument("--skip-smoke", action="store_true")
    parser.add_argument("--batch-size", type=int, default=TRAIN["batch_size"])
    parser.add_argument("--optimizer", default=TRAIN["optimizer"], choices=sorted(OPTIMIZERS))
    parser.add_argument("--lr", type=float, default=None,
                        help="peak learning rate (default: the optimizer's at batch 128, scaled to the batch)")
    parser.add_argument("--mixup", type=float, default=TRAIN["mixup"], help="mixup's Beta alpha (0: off)")
    parser.add_argument("--probe-speed", action="store_true",
                        help="log one member's training images/s at batch 128-1024 in the smoke stage")
    parser.add_argument("--teacher-dir", default=None,
                        help="distil only, from the member files of an earlier run in this folder")
    parser.add_argument("--init-dir", default=None, help="start the students from the files in this folder")
    parser.add_argument("--students", default=",".join(STUDENTS), help="which students to distil")
    parser.add_argument("--member", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--teachers", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.member:
        return run_member(args)

    start = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="fer-train-"))
    work.mkdir(parents=True, exist_ok=True)
    args.work = str(work)
    logfile = open(out / "train_device.log", "a")
    train_settings = run_recipe(args)
    results = dict(machine=None, members={}, students={}, ensemble=None, train=train_settings, augment=AUGMENT,
                   distill=DISTILL, command=" ".join(sys.argv))

    def write_results():
        (out / "results.json").write_text(json.dumps(results, indent=2))

    def note(text, echo=True):
        if echo:
            log(text)
        logfile.write(text + "\n")
        logfile.flush()

    device, precision, fmt = settings(args.device, args.precision)
    results["machine"] = machine(device)
    note(f"device {results['machine']}, precision {precision}")
    args.cache, *_ = cache_data(find_data(args.data), work, args.limit)
    train, valid, normalize = load_stage_data(args.cache, device, fmt)
    results["normalize"] = normalize
    note(f"data: {len(train)} Training, {len(valid)} PublicTest faces ({time.time() - start:.1f}s)")
    note(f"training: {train_settings}")
    if not args.skip_smoke:
        smoke(train, valid, device, precision, fmt, work, train_settings)
        if args.probe_speed:
            results["speed_probe"] = probe_speed(next(iter(MEMBERS.values())), train, device, precision, fmt)

    # the ensemble members, one process each, side by side on the one device
    yv = valid.y.cpu().numpy()
    if args.teacher_dir:
        done = [n for n in MEMBERS if (Path(args.teacher_dir) / f"{n}.safetensors").exists()]
    else:
        done = collect(args, list(MEMBERS), args.member_budget, results["members"], note)
    write_results()
    if done and not args.teacher_dir:
        z = np.mean([np.load(work / f"{n}_valid_logits.npy") for n in done], axis=0)
        results["ensemble"] = dict(members=done,
                                   public_test_accuracy=round(accuracy(torch.from_numpy(z), yv), 4))
        note(f"ensemble of {done}: PublicTest {results['ensemble']['public_test_accuracy']:.4f}")
        write_results()
    if done:
        # the students, distilled from the members' mean logits on the same augmented batches
        budget = min(args.distill_budget, args.deadline - (time.time() - start) - 30)
        if budget < 15:
            note(f"no time left for the students ({budget:.0f}s)")
        else:
            students = args.students.split(",")
            note(f"distilling {students} from {done} for {budget:.0f}s")
            collect(args, students, budget, results["students"], note, teachers=done)
            write_results()

    results["total_seconds"] = round(time.time() - start, 1)
    write_results()
    rows = [("model", "params", "epochs", "s/epoch", "img/s", "best ep", "PublicTest")]
    for group in ("members", "students"):
        for name, r in results[group].items():
            rows.append((name, f"{r['params'] / 1e6:.2f}M", str(r["n_epochs"]), f"{r['seconds_per_epoch']:.2f}",
                         f"{r['images_per_s']:.0f}", str(r["best_epoch"]), f"{r['public_test_accuracy']:.4f}"))
    if results["ensemble"]:
        rows.append(("ensemble", "", "", "", "", "", f"{results['ensemble']['public_test_accuracy']:.4f}"))
    table = "\n".join("  ".join(c.ljust(10) for c in row) for row in rows)
    note(f"results ({results['machine']['card']}, {results['total_seconds']:.0f}s in all):\n{table}")
    logfile.close()


if __name__ == "__main__":
    main()
