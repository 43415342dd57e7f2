"""The benchmarks still run: a quick smoke run at tiny sizes (their figures mean nothing here).

Speed itself is never asserted in a test: the machines are shared and noisy. The real runs are
`python benchmarks/run.py`, written down in benchmarks/RESULTS.md.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("training", "training_loops", "prediction", "runtime", "inside", "scale", "page")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_run_of_every_benchmark_writes_its_table_where_asked(tmp_path):
    committed = ROOT / "benchmarks" / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    output = tmp_path / "RESULTS.md"

    completed = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    text = output.read_text()
    for name in BENCHMARKS:
        assert f"<!-- bench:{name} -->" in text
        assert f"<!-- /bench:{name} -->" in text
    assert "| figure | measured | reference (same run) | ratio | target | result |" in text
    assert "**PASS**" in text or "**FAIL**" in text
    assert "benchmark ran" not in text  # the row a crashed benchmark gets
    assert "## What we tried and what it gained" in text
    # The committed results are never touched by a smoke run.
    assert (committed.read_bytes() if committed.exists() else None) == before


def test_a_rerun_replaces_only_its_own_section(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
        from common import Figure, Report
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    output = tmp_path / "RESULTS.md"

    def section(name: str, measured: str) -> str:
        report = Report(name, f"{name}: title", figures=[Figure("f", measured)])
        return run.render_section(report, "machine", "abc123")

    run.update_results(output, {"prediction": section("prediction", "1 ms")})
    run.update_results(output, {"training": section("training", "9 s")})
    notes = output.read_text().replace("(written by hand)", "we tried X; it gained 2x")
    output.write_text(notes)
    run.update_results(output, {"prediction": section("prediction", "2 ms")})

    text = output.read_text()
    assert "| f | 2 ms |" in text and "| f | 1 ms |" not in text
    assert "| f | 9 s |" in text
    assert text.index("bench:training") < text.index("bench:prediction")  # BENCHMARKS order
    assert text.index("bench:prediction") < text.index("## What we tried")
    assert "we tried X; it gained 2x" in text
