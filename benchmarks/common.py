"""What every benchmark shares: the machine, clocks, and the figures a benchmark reports.

Every figure with a target is a ratio to a reference measured in the same run (or an absolute
limit that the issue states), because these machines are shared and noisy: the wall clock of one
run says little, the ratio of two runs side by side says much more.
"""

from __future__ import annotations

import atexit
import functools
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Scratch space (datasets, models) kept between runs; git ignores it.
OUT_DIR = BENCH_DIR / "out"


@dataclass
class Figure:
    """One measured figure, with its reference in the same run and its target (if any)."""

    name: str
    measured: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None

    @property
    def result(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


@dataclass
class Report:
    """What one benchmark found: figures with targets, then details and notes in markdown."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False
    started: str = ""
    load_before: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        figures = [Figure(**f) for f in data.pop("figures", [])]
        return cls(figures=figures, **data)


@functools.cache
def tiny_dataset() -> Path:
    """A dataset of 6 drawings per class for quick smoke runs (removed when Python exits)."""
    from shapecnn.synth import synth_dataset

    folder = Path(tempfile.mkdtemp(prefix="shapecnn-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    synth_dataset(folder / "tiny", per_class=6, seed=1)
    return folder / "tiny"


def ours_recipe(fallback: str = "scratch") -> str:
    """The recipe a benchmark measures as "ours": the default one, which trains from the shape
    base, when the base's weights are there; else `fallback` (the base may not be built yet, and
    a smoke run must still run). Benchmarks name the recipe they used in their details."""
    from shapecnn.base import BASE_WEIGHTS

    return "default" if BASE_WEIGHTS.is_file() else fallback


# --- the machine --------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_mhz() -> float | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError):
        pass
    return None


def theoretical_peak_gmacs() -> tuple[float | None, str]:
    """float32 multiply-adds per second from the cpu flags and clock, with the assumption made.

    AVX-512 and AVX2 cores have two FMA pipes; AMD's Zen 4 runs a 512-bit FMA as two 256-bit
    halves, so both do 16 float32 multiply-adds per cycle, Intel's server cores with AVX-512 32.
    """
    flags, mhz, vendor = cpu_flags(), cpu_mhz(), cpu_model()
    if mhz is None or "fma" not in flags:
        return None, "unknown (no clock or no FMA in /proc/cpuinfo)"
    if "avx512f" in flags and "AMD" not in vendor:
        per_cycle, how = 32, "2 x 512-bit FMA pipes"
    elif "avx512f" in flags:
        per_cycle, how = 16, "AVX-512 run as 2 x 256-bit FMA pipes (AMD Zen 4)"
    else:
        per_cycle, how = 16, "2 x 256-bit FMA pipes"
    peak = cores() * mhz / 1000 * per_cycle
    return peak, f"{cores()} cores x {mhz / 1000:.2f} GHz x {per_cycle} MAC/cycle ({how})"


def git_state() -> str:
    """The commit measured, and whether the package had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "shapecnn"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} (+ uncommitted changes in shapecnn/)" if dirty else commit


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def machine_line() -> str:
    import numpy as np

    try:
        import tensorflow as tf

        tensorflow = tf.__version__
    except ImportError:
        tensorflow = "not installed"
    memory = memory_gib()
    parts = [
        f"{cpu_model()}",
        f"{cores()} cores",
        f"{memory:.0f} GiB RAM" if memory else None,
        f"TensorFlow {tensorflow}",
        f"numpy {np.__version__}",
        f"Python {platform.python_version()}",
    ]
    return ", ".join(p for p in parts if p)


def now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


# --- clocks -------------------------------------------------------------------------------------


class Clock:
    """Wall and CPU seconds since start: CPU time is what this process did, whoever else ran."""

    def __init__(self):
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def time_calls(function: Callable[[], object], calls: int) -> list[float]:
    """Seconds taken by each of `calls` calls."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def interleaved(
    candidates: dict[str, Callable[[], object]],
    calls: int,
    block: int = 25,
    cpu: dict[str, float] | None = None,
):
    """Time each candidate `calls` times, in alternating blocks, so they share the noise.

    Returns {name: [seconds per call]}. If `cpu` is given, it receives each candidate's CPU
    seconds per call (this process, all its threads), which leaves out waiting for a core.
    """
    samples = {name: [] for name in candidates}
    cpu_seconds = dict.fromkeys(candidates, 0.0)
    while any(len(s) < calls for s in samples.values()):
        for name, function in candidates.items():
            todo = min(block, calls - len(samples[name]))
            if todo > 0:
                started = time.process_time()
                samples[name].extend(time_calls(function, todo))
                cpu_seconds[name] += time.process_time() - started
    if cpu is not None:
        cpu.update({name: cpu_seconds[name] / len(samples[name]) for name in candidates})
    return samples


def median(values) -> float:
    return statistics.median(values)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def md_table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines
