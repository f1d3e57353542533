"""The CPU: its model and vector features, and which arithmetic ``precision="auto"`` uses on it.

* **bf16** where the CPU has AMX tiles: oneDNN runs bf16 convolutions on them, measured
  3.2x the images/s of float32 on a Xeon with AMX; without AMX, bf16 is
  emulated with AVX-512 and is slower than float32.
* **int8** where the CPU has VNNI (``avx512_vnni``): PyTorch's x86 int8 kernels multiply
  8-bit numbers without 16-bit saturation; measured 2.3-2.4x the images/s of float32 with
  the shipped networks on an AMD EPYC Zen 5 (``benchmarks/bench_speed.py``). Needs the
  activation ranges of the network (a calibration, see :func:`fer_sklearn.deploy.quantize`).
* **32** (float32) otherwise.

The CPU's features are read through ``torch.cpu.get_capabilities()`` (cpuinfo: Linux,
macOS, Windows, x86 and ARM); a build without it reads none and stays float32. A level
capped with ``ATEN_CPU_CAPABILITY`` or ``ONEDNN_MAX_CPU_ISA`` (to run as an older CPU) is
respected: below AVX-512 there is no VNNI or AMX to use.

``FER_SKLEARN_PRECISION`` (``bf16``, ``int8`` or ``32``) overrides the choice, so that one
machine can run as a CPU of another family would: bf16 autocast runs on any x86 CPU (slowly
without AMX), and int8 without VNNI takes PyTorch's reduced-range path.
"""

import functools
import os
import platform

import torch

# oneDNN's ISA levels (ONEDNN_MAX_CPU_ISA), lowest first; ALL/DEFAULT: no cap
_ONEDNN_LEVELS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE",
                  "AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_FP16",
                  "AVX512_CORE_AMX", "AVX10_1_512_AMX", "AVX512_CORE_AMX_FP16",
                  "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2")


def _onednn_allows(cap, level):
    """Whether ``ONEDNN_MAX_CPU_ISA=cap`` lets oneDNN use ``level``."""
    if cap in ("ALL", "DEFAULT", "") or cap not in _ONEDNN_LEVELS:
        return True
    return _ONEDNN_LEVELS.index(cap) >= _ONEDNN_LEVELS.index(level)


def _capabilities():
    try:
        return dict(torch.cpu.get_capabilities())
    except (AttributeError, RuntimeError):  # an older torch, or cpuinfo failed
        return {}


def cpu_features(capabilities=None, environ=None):
    """What the CPU offers this process's kernels: ``{"isa", "vnni", "amx"}``.

    Parameters
    ----------
    capabilities : dict or None, default=None
        CPU flags as ``torch.cpu.get_capabilities()`` names them (default: read them).
    environ : mapping or None, default=None
        Environment variables (default: ``os.environ``), for ``ATEN_CPU_CAPABILITY``
        and ``ONEDNN_MAX_CPU_ISA``.

    Returns
    -------
    features : dict
        ``isa``: torch's kernel level (``"AVX512"``, ``"AVX2"``, ...); ``vnni``:
        int8 dot products usable; ``amx``: AMX bf16 tiles usable.
    """
    caps = _capabilities() if capabilities is None else capabilities
    environ = os.environ if environ is None else environ
    if capabilities is None:
        isa = torch.backends.cpu.get_cpu_capability()
    else:
        isa = "AVX512" if caps.get("avx512_f") else "AVX2" if caps.get("avx2") else "DEFAULT"
        isa = environ.get("ATEN_CPU_CAPABILITY", isa).upper()
    onednn = environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    wide = isa.startswith("AVX512")
    vnni = wide and _onednn_allows(onednn, "AVX512_CORE_VNNI")
    amx = wide and _onednn_allows(onednn, "AVX512_CORE_AMX")
    return {"isa": isa,
            "vnni": bool(vnni and caps.get("avx512_vnni")),
            "amx": bool(amx and caps.get("amx_tile") and caps.get("amx_bf16"))}


def choose_precision(features, int8_engine=None):
    """The precision ``precision="auto"`` means on a CPU with ``features``.

    Parameters
    ----------
    features : dict
        As :func:`cpu_features` returns.
    int8_engine : bool or None, default=None
        Whether this torch has the x86 int8 engine (default: ask torch).

    Returns
    -------
    precision : {"bf16", "int8", "32"}

    Examples
    --------
    >>> from fer_sklearn.utils._cpu import choose_precision
    >>> choose_precision({"isa": "AVX512", "vnni": True, "amx": True})
    'bf16'
    >>> choose_precision({"isa": "AVX512", "vnni": True, "amx": False}, int8_engine=True)
    'int8'
    >>> choose_precision({"isa": "AVX2", "vnni": False, "amx": False})
    '32'
    """
    if features.get("amx"):
        return "bf16"
    if int8_engine is None:
        int8_engine = "x86" in torch.backends.quantized.supported_engines
    if features.get("vnni") and int8_engine:
        return "int8"
    return "32"


PRECISION_VARIABLE = "FER_SKLEARN_PRECISION"
_FORCED = {"bf16": "bf16", "int8": "int8", "32": "32", "float32": "32"}


def forced_precision(environ=None):
    """The precision that ``FER_SKLEARN_PRECISION`` forces on ``"auto"``, or None.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (default: ``os.environ``).

    Returns
    -------
    precision : {"bf16", "int8", "32"} or None
        None where the variable is unset, empty or ``auto``.

    Raises
    ------
    ValueError
        For any other value, naming the accepted ones.

    Examples
    --------
    >>> from fer_sklearn.utils._cpu import forced_precision
    >>> forced_precision({"FER_SKLEARN_PRECISION": "bf16"})
    'bf16'
    >>> forced_precision({}) is None
    True
    """
    environ = os.environ if environ is None else environ
    value = environ.get(PRECISION_VARIABLE, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in _FORCED:
        raise ValueError(f"{PRECISION_VARIABLE}={value!r} is not a precision: use bf16, int8, "
                         "32 (or float32), or leave it unset for the CPU's own choice")
    return _FORCED[value]


@functools.cache
def cpu_precision():
    """The precision ``precision="auto"`` means on this CPU, decided once per process.

    ``FER_SKLEARN_PRECISION`` takes precedence; otherwise the CPU's features choose it
    (bf16 with AMX, int8 with VNNI, else float32).

    Returns
    -------
    precision : {"bf16", "int8", "32"}
        The arithmetic of ``auto`` in this process.
    """
    return forced_precision() or choose_precision(cpu_features())


# the vector instruction sets that change how fast torch runs, as torch's cpuinfo names them
ISA_FLAGS = ("avx2", "avx512_f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")


def describe_cpu():
    """Describe the CPU, its features and the choice of ``precision="auto"``.

    The one place the package reads the CPU (through ``torch.cpu.get_capabilities()``):
    :func:`show_versions`, the provenance of reports (``machine_info``) and the
    benchmarks' results all report what it says.

    Returns
    -------
    report : dict of str
        ``cpu`` (its model name, as ``lscpu`` shows it), ``flags`` (which of AVX2,
        AVX-512, VNNI, bf16 and AMX it has, space-separated), ``isa`` (torch's kernel
        level), ``vnni``, ``amx`` (usable, under the ``ATEN_CPU_CAPABILITY`` and
        ``ONEDNN_MAX_CPU_ISA`` caps) and ``precision auto (CPU)`` (with ``(forced by
        FER_SKLEARN_PRECISION)`` where the variable chose it).

    Examples
    --------
    >>> from fer_sklearn.utils import describe_cpu
    >>> describe_cpu()["precision auto (CPU)"].startswith(("bf16", "int8", "32"))
    True
    """
    caps = _capabilities()
    features = cpu_features()
    auto = cpu_precision()
    if forced_precision() is not None:
        auto += f" (forced by {PRECISION_VARIABLE})"
    flags = " ".join(flag for flag in ISA_FLAGS if caps.get(flag))
    return {"cpu": str(caps.get("cpu_name") or platform.processor() or platform.machine()),
            "flags": flags, "isa": features["isa"],
            "vnni": str(features["vnni"]), "amx": str(features["amx"]),
            "precision auto (CPU)": auto}
