"""How many bits int8 prediction can give activations and weights on this CPU.

    .venv/bin/python benchmarks/bench_int8_bits.py [--models default fast] [--out FILE]

PyTorch's x86 int8 kernels multiply unsigned 8-bit activations by signed 8-bit weights.
With VNNI the products are summed in 32 bits; without it (AVX2, AVX-512 before Cascade
Lake) pairs of products are summed in 16 bits that saturate, which is why PyTorch's own
default gives activations 7 bits. For each shipped model this script builds the int8 copy
three ways from the shipped activation ranges (in ``<name>.safetensors``) and reports, on the 3,589
PublicTest faces, the share of labels equal to the float32 model's (the speed of each
precision, interleaved with ``fer``: ``bench_isa_levels.py``):

* activations 7 bits, weights 8 (what ``precision="int8"`` uses without VNNI);
* activations 8 bits, weights 8 (what it uses with VNNI);
* activations 8 bits, weights 7.

Only PyTorch's public quantization API is used; the results go to ``--out`` with the
machine, date and command.
"""

import argparse
import copy
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py
from torch import nn
from torch.ao.quantization import QConfig, get_default_qconfig_mapping
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from fer_sklearn import load_pretrained
from fer_sklearn.datasets import fer2013_file, load_fer2013

HERE = Path(__file__).resolve().parent
DATA = fer2013_file()
SPLITS = {"activations 7, weights 8": (127, -128, 127),
          "activations 8, weights 8": (255, -128, 127),
          "activations 8, weights 7": (255, -64, 63)}


def int8_copy(module, ranges, example, act_max, w_min, w_max):
    """``module`` quantized with the observed activation ``ranges`` over the given spans."""
    mapping = get_default_qconfig_mapping("x86")
    weight = PerChannelMinMaxObserver.with_args(dtype=torch.qint8, quant_min=w_min,
                                                quant_max=w_max,
                                                qscheme=torch.per_channel_symmetric)
    activation = MinMaxObserver.with_args(reduce_range=False, quant_min=0, quant_max=act_max)
    mapping.set_global(QConfig(activation=activation, weight=weight))
    mapping.set_object_type(nn.Linear, None)  # the head stays float32, as in the library
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_fx(copy.deepcopy(module).eval(), mapping, example_inputs=(example,))
        for name, observer in prepared.named_modules():
            if name in ranges:
                observer.min_val.fill_(ranges[name][0])
                observer.max_val.fill_(ranges[name][1])
        return convert_fx(prepared)


def labels(network, images):
    """The label ``network`` gives each of ``images``, in passes of 64."""
    with torch.inference_mode():
        logits = torch.cat([network(images[i:i + 64]) for i in range(0, len(images), 64)])
    return logits.argmax(1).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--out", default=str(HERE / "results" / "int8_bits.json"))
    args = parser.parse_args(argv)
    machine = machine_info()
    torch.set_num_threads(2)
    torch.backends.quantized.engine = "x86"
    X, _ = load_fer2013(args.data, usage="PublicTest", return_X_y=True)
    rows = []
    for name in args.models:
        pipeline = load_pretrained(name, device="cpu")
        clf = pipeline[-1]
        images = np.asarray(pipeline[:-1].transform(X), np.float32)
        images = torch.as_tensor(images.reshape(len(X), 1, *clf.image_shape_))
        reference = labels(clf.module_.eval(), images)
        for split, (act_max, w_min, w_max) in SPLITS.items():
            network = int8_copy(clf.module_, clf.int8_ranges_["ranges"], images[:1],
                                act_max, w_min, w_max)
            same = np.mean(labels(network, images) == reference)
            rows.append({"model": name, "int8": split, "labels as float32": f"{same:.2%}"})
            print(rows[-1], flush=True)
    table = markdown_table(rows)
    write_results(args.out, {"rows": rows, "markdown": table}, table,
                  f"{len(X)} PublicTest faces; float32: the model's own network",
                  machine=machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
