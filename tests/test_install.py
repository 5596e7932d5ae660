"""Installing as a user does: the distribution, package data, `python -m stance`, a wheel elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_distribution_is_stance_news_with_lxml_html_clean():
    import stance

    dist = metadata.distribution("stance-news")
    assert dist.version == stance.__version__
    requires = " ".join(dist.requires or [])
    assert "lxml_html_clean" in requires or "lxml-html-clean" in requires
    import lxml_html_clean  # noqa: F401 - trafilatura's HTML cleaning needs it


def test_python_m_stance_is_the_stance_command():
    import stance

    out = subprocess.run([sys.executable, "-m", "stance", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"stance {stance.__version__}"
    helped = subprocess.run([sys.executable, "-m", "stance", "--help"], capture_output=True, text=True, check=True)
    assert "Usage: stance" in helped.stdout


def test_shipped_model_and_alias_table_are_package_data():
    from stance.defaults import default_aliases_path, shipped_model_dir
    from stance.targets import load_alias_file

    assert (shipped_model_dir() / "config.json").is_file() and default_aliases_path().is_file()
    assert len(load_alias_file(None).aliases) > 20


def test_a_missing_alias_table_is_an_error_not_an_empty_table(monkeypatch, tmp_path):
    import stance.targets
    from stance.errors import InputError

    monkeypatch.setattr(stance.targets, "default_aliases_path", lambda: tmp_path / "gone.yaml")
    with pytest.raises(InputError, match="gone.yaml"):
        stance.targets.load_alias_file(None)


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "models" / "default" / "config.json").exists(), reason="needs the shipped model")
def test_wheel_in_a_fresh_venv_scores_from_another_directory(tmp_path):
    """Build the wheel, install it into a new venv, and score the sample articles from elsewhere.

    The new venv gets the wheel alone (no source tree on its path); its dependencies come from this
    environment through a .pth file, so the test runs offline.
    """
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("stance_news-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(REPO / "examples" / "articles", elsewhere / "articles")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STANCE_MODEL")}
    where = subprocess.run(
        [python, "-c", "import stance.defaults as d; print(d.shipped_model_dir()); print(d.default_aliases_path())"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(p.startswith(str(site)) for p in where), where
    run = subprocess.run(
        [python, "-m", "stance", "score", "articles", "-o", "out.jsonl", "--quiet", "--target", "United States"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    import json

    records = [json.loads(line) for line in (elsewhere / "out.jsonl").read_text().splitlines()]
    assert sum(r["record"] == "summary" for r in records) == 4
    # The alias table came with the wheel: "US" and "Washington" count toward "United States".
    mentions = {
        s["mention"]
        for r in records
        if r["record"] == "sentence"
        for s in r["stance"]
        if s["target"] == "United States"
    }
    assert mentions & {"US", "U.S.", "Washington", "American", "White House"}, mentions
