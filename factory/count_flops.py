"""FLOPs per training image and CPU training images/s of flagship run 3's networks.

The arithmetic of the run's plan (``factory/RUNS.md``): each network's
training FLOPs per image (one training step under ``FlopCounterMode``, forward
and backward) and the images/s of bare training steps on one CPU thread.

    python factory/count_flops.py
"""

import argparse

import torch
from _toolbox import time_training_steps, training_flops
from train_flagship import MEMBERS, STUDENTS, machine

from fer_sklearn import EmotionCNN
from fer_sklearn.training import NETWORKS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=None,
                        help="the networks to count (default: the run's members and students)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(machine(), flush=True)
    nets = {**{m: s["net"] for m, s in MEMBERS.items()},
            **{s: NETWORKS[s] for s in STUDENTS.values()}}
    if args.networks:
        unknown = sorted(set(args.networks) - set(nets))
        if unknown:
            parser.error(f"no network {unknown[0]!r}; the run's: {', '.join(nets)}")
        nets = {name: nets[name] for name in args.networks}
    images, labels = torch.randn(64, 1, 48, 48), torch.randint(7, (64,))
    rows = {}
    for name, net in nets.items():
        module = EmotionCNN(**net)
        rate = time_training_steps(module, images, labels, batch_size=16, steps=2, warmup=1)
        rows[name] = dict(params=sum(p.numel() for p in module.parameters()),
                          gflops=training_flops(module) / 1e9,
                          cpu_images_per_s=rate["images_per_s"])
        print(f"{name}: {rows[name]['params'] / 1e6:.2f} M parameters, {rows[name]['gflops']:.3f} "
              f"GFLOP a training image, {rows[name]['cpu_images_per_s']:.1f} training images/s "
              "(1 CPU thread, batch 16, fp32)", flush=True)
    return rows


if __name__ == "__main__":
    main()
