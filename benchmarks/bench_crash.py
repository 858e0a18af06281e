"""More kill -9 points than the suite: the crash test with CUSTOS_CRASH_POINTS set.

Usage: .venv/bin/python benchmarks/bench_crash.py [POINTS]   (default 60)

Prints how many points were killed and resumed, and the time taken; every
point asserts exactly one outcome per row, no second disclosure, the same
answers as an uninterrupted run, and a ledger that verifies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_crash.py"],
        cwd=ROOT,
        env={**os.environ, "CUSTOS_CRASH_POINTS": str(points)},
        check=False,
    )
    seconds = time.perf_counter() - started
    verdict = "all resumed exactly once" if result.returncode == 0 else "FAILED"
    print(f"kill points: {points}   {verdict}   {seconds:.0f} s")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
