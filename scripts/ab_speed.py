"""Is this tree as fast as an earlier commit? Times `stance score` end to end (process start-up
included) with the earlier commit and with the working tree, alternating, so both see the same
machine load, and prints each side's median.

    python scripts/ab_speed.py 9510974                  # 0.7.0; the 90 PTC test articles, 6 runs each
    python scripts/ab_speed.py HEAD~3 --runs 10 examples/articles

On a shared machine single runs differ by 10-20%: compare medians of alternated runs, not two bench
runs made at different times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTC_TEST = REPO.parent / "shared" / "data" / "semeval2020_task11_ptc" / "test-articles"


def run_once(tree: Path, inputs: list[str], out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "stance.cli", "score", *inputs, "-o", str(out), "--force", "-q", "--no-progress"]
    started = time.perf_counter()
    subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="a commit of this repository")
    parser.add_argument("inputs", nargs="*", help="files or folders (default: the 90 PTC test articles)")
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    inputs = [str(Path(p).resolve()) for p in args.inputs] or [str(PTC_TEST)]
    with tempfile.TemporaryDirectory(prefix="stance-ab-") as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before], check=True)
        try:
            sides = {"before": before, "now": REPO}
            for tree in sides.values():  # export the model once per side, outside the timing
                run_once(tree, inputs, Path(tmp) / "warm.jsonl")
            times: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(args.runs):
                for name, tree in sides.items():
                    times[name].append(run_once(tree, inputs, Path(tmp) / f"{name}.jsonl"))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=False)
    for name, values in times.items():
        print(f"{name:7s} median {statistics.median(values):.2f} s  runs {' '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
