"""Do two versions of the code write the same records? Scores the same inputs with an earlier commit and
with the working tree, and compares the JSONL output byte for byte.

    python scripts/same_records.py d715114                       # sample articles, ../shared/examples, 100 PTC articles
    python scripts/same_records.py HEAD~3 --precision fp32 auto --ptc 0 examples/articles

A refactor that promises "behaviour unchanged" should print `identical` for every precision.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTC = REPO.parent / "shared" / "data" / "semeval2020_task11_ptc" / "train-articles"


def score(tree: Path, inputs: list[str], out: Path, precision: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [
        sys.executable,
        "-m",
        "stance.cli",
        "score",
        *inputs,
        "-o",
        str(out),
        "--precision",
        precision,
        "--force",
        "--no-progress",
    ]
    subprocess.run(cmd, cwd=tree, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="a commit of this repository")
    parser.add_argument(
        "inputs", nargs="*", help="files or folders (default: the sample articles and ../shared/examples)"
    )
    parser.add_argument("--precision", nargs="+", default=["fp32", "auto"])
    parser.add_argument("--ptc", type=int, default=100, help="also the first N PTC training articles (0: none)")
    args = parser.parse_args()
    inputs = [str(Path(p).resolve()) for p in args.inputs] or [str(REPO / "examples" / "articles")] + (
        [str(REPO.parent / "shared" / "examples")] if (REPO.parent / "shared" / "examples").exists() else []
    )
    work = Path(tempfile.mkdtemp(prefix="stance-same-"))
    if args.ptc and PTC.exists():
        ptc = work / "ptc"
        ptc.mkdir()
        for path in sorted(PTC.glob("*.txt"))[: args.ptc]:
            (ptc / path.name).write_bytes(path.read_bytes())
        inputs.append(str(ptc))
    tree = work / "before"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(tree), args.before], check=True)
    try:
        for precision in args.precision:
            a, b = work / f"before_{precision}.jsonl", work / f"after_{precision}.jsonl"
            score(tree, inputs, a, precision)
            score(REPO, inputs, b, precision)
            same = a.exists() and b.exists() and a.read_bytes() == b.read_bytes()
            lines = len(b.read_text().splitlines()) if b.exists() else 0
            print(f"{precision}: {'identical' if same else 'DIFFERENT'} ({lines} records; {a} vs {b})")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
