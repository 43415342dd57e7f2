"""Run the speed benchmarks and write their results table.

    python benchmarks/run.py                  every benchmark; updates benchmarks/RESULTS.md
    python benchmarks/run.py --only training  one benchmark (its section of the table only)
    python benchmarks/run.py --quick          a smoke run at tiny sizes, written to
                                              benchmarks/out/RESULTS-quick.md (or --output)

Each benchmark is a module `bench_<name>.py` with NAME, TITLE and run(quick) -> Report, listed in
BENCHMARKS below; a new one (page latency, cold start, ...) is one more module and one more line.
A full run gives each benchmark a fresh Python process, so one cannot warm or slow the next; a
quick run keeps them in this process (TensorFlow is imported once) so that it fits a test.

Every target is a ratio to a reference measured in the same run, or an absolute limit that the
issue names. Figures are never compared across runs: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(1, str(BENCH_DIR.parent))

import common  # noqa: E402
from common import Figure, Report  # noqa: E402

# In the order they run. name -> module.
BENCHMARKS = {
    "training": "bench_training",
    "training_loops": "bench_training_loops",
    "prediction": "bench_prediction",
    "runtime": "bench_runtime",
    "inside": "bench_inside",
    "scale": "bench_scale",
    "page": "bench_page",
    "load": "bench_load",
    "listing": "bench_listing",
}
RESULTS = BENCH_DIR / "RESULTS.md"
QUICK_RESULTS = common.OUT_DIR / "RESULTS-quick.md"

HEADER = """# Benchmark results

Written by `python benchmarks/run.py` (see its docstring). Each section is replaced when its
benchmark runs again; the section "What we tried and what it gained" below the results is written
by hand and kept. Every ratio compares two things measured in the same run, side by side: the
machines are shared and noisy, so absolute times vary from run to run by a factor of two or more.
"""
NOTES_HEADING = "## What we tried and what it gained"
NOTES_PLACEHOLDER = f"{NOTES_HEADING}\n\n(written by hand)\n"


def run_one(name: str, quick: bool) -> Report:
    """Run a benchmark in this process."""
    module = importlib.import_module(BENCHMARKS[name])
    started, load = common.now(), common.load_average()
    clock = time.perf_counter()
    report = module.run(quick=quick)
    report.seconds = time.perf_counter() - clock
    report.started, report.load_before, report.quick = started, load, quick
    return report


def run_isolated(name: str, quick: bool) -> Report:
    """Run a benchmark in a fresh Python process and read back its report."""
    with tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "report.json"
        command = [sys.executable, __file__, "--child", name, "--child-output", str(result)]
        if quick:
            command.append("--quick")
        completed = subprocess.run(command, check=False)
        if completed.returncode != 0 or not result.exists():
            raise RuntimeError(f"benchmark {name} failed (exit status {completed.returncode})")
        return Report.from_dict(json.loads(result.read_text()))


def failed_report(name: str, error: str) -> Report:
    title = getattr(importlib.import_module(BENCHMARKS[name]), "TITLE", name)
    report = Report(name, title, started=common.now(), load_before=common.load_average())
    report.figures = [Figure("benchmark ran", "no", "", None, "runs", False)]
    report.details = ["```", error.strip()[-3000:], "```"]
    return report


# --- the results file ---------------------------------------------------------------------------


def render_section(report: Report, machine: str, commit: str) -> str:
    lines = [
        f"<!-- bench:{report.name} -->",
        f"## {report.name}: {report.title.split(': ', 1)[-1]}",
        "",
        f"- date: {report.started}{' (quick smoke run, tiny sizes)' if report.quick else ''}",
        f"- machine: {machine}",
        f"- code: {commit}; load average before: {report.load_before}; took {report.seconds:.0f} s",
        "",
    ]
    rows = [
        [
            f.name,
            f.measured,
            f.reference or "",
            "" if f.ratio is None else f"{f.ratio:.2f}x",
            f.target or "",
            f"**{f.result}**" if f.result else "",
        ]
        for f in report.figures
    ]
    lines += common.md_table(
        ["figure", "measured", "reference (same run)", "ratio", "target", "result"], rows
    )
    lines += ["", *report.details, "", f"<!-- /bench:{report.name} -->"]
    return "\n".join(lines) + "\n"


def update_results(path: Path, sections: dict[str, str]) -> None:
    """Replace (or add, in BENCHMARKS order) the sections that ran; keep everything else."""
    text = path.read_text() if path.exists() else f"{HEADER}\n{NOTES_PLACEHOLDER}"
    pattern = r"<!-- bench:{0} -->.*?<!-- /bench:{0} -->\n"
    for name, section in sections.items():
        existing = re.compile(pattern.format(re.escape(name)), re.S)
        if existing.search(text):
            text = existing.sub(lambda _m, s=section: s, text, count=1)
            continue
        # Insert before the next benchmark that is already there, else before the notes.
        later = [n for n in list(BENCHMARKS)[list(BENCHMARKS).index(name) + 1 :]]
        anchors = [f"<!-- bench:{n} -->" for n in later if f"<!-- bench:{n} -->" in text]
        anchor = anchors[0] if anchors else NOTES_HEADING
        if anchor in text:
            text = text.replace(anchor, f"{section}\n{anchor}", 1)
        else:
            text = text.rstrip("\n") + f"\n\n{section}"
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    temp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run at tiny sizes")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--output", type=Path, help="results file to write or update")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the benchmarks in this process (the default for --quick)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        report = run_one(args.child, args.quick)
        args.child_output.write_text(json.dumps(report.to_dict()))
        return 0

    output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    names = args.only or list(BENCHMARKS)
    in_process = args.in_process or args.quick
    if in_process:
        # Import TensorFlow before the clock of the first benchmark starts.
        from shapecnn._tensorflow import tf  # noqa: F401
    machine, commit = common.machine_line(), common.git_state()
    sections, failures = {}, 0
    for name in names:
        print(f"== {name}", flush=True)
        try:
            report = run_one(name, args.quick) if in_process else run_isolated(name, args.quick)
        except Exception:  # noqa: BLE001 - a failed benchmark is written down, the rest still run
            failures += 1
            report = failed_report(name, traceback.format_exc())
        for figure in report.figures:
            ratio = "" if figure.ratio is None else f" ({figure.ratio:.2f}x {figure.reference})"
            print(f"   {figure.name}: {figure.measured}{ratio} {figure.target} {figure.result}")
        sections[name] = render_section(report, machine, commit)
        # Written after every benchmark, so a long run that is stopped keeps what it measured.
        update_results(output, {name: sections[name]})
    print(f"wrote {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
