"""The README's examples, run as written by a shell, as a user who followed its set-up would.

`studyledger` is found on PATH (the README's `export PATH="$PWD/.venv/bin:$PATH"`); the demo
register is built first, in a folder of the test's own, on the real clock. Each block runs
under `set -e`: every line must exit 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # every example runs in a shell

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent


def block(heading: str, starting: str = "") -> str:
    """The first ```sh block after `heading` (whose first line starts with `starting`)."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(heading):]
    for found in re.finditer(r"```sh\n(.*?)```", after, re.S):
        if found.group(1).startswith(starting):
            return found.group(1)
    raise AssertionError(f"no sh block after {heading!r} starting with {starting!r}")


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("STUDYLEDGER_DB", None)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def ran(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A folder holding the demo register as studyledger.db; the set-up's last step, run twice."""
    first = ran(shell("studyledger demo", tmp_path))
    assert "Explore further" in first
    assert ran(shell("studyledger demo", tmp_path)).startswith("The demo register is already in ")
    return tmp_path


def test_the_reviewers_day_runs_on_the_demo(demo: Path) -> None:
    out = ran(shell(block("## A reviewer's day"), demo))
    assert "demo-11" in out and "approved: 10 points." in out
    assert re.search(r"Balance of N-2003 on \S+ \(as known at \S+Z\)\n  total   3\n", out), out


def test_the_audit_examples_run_on_the_demo(demo: Path) -> None:
    out = ran(shell(block("## Audit"), demo))
    assert "History of reviewer R-pgraaf" in out
    assert "\n3.0\n" in out  # the CSV's points, summed…
    assert re.search(r"\(as known at \S+Z\)\n  total   3\n", out)  # …are the balance at that instant
    assert out.count("the digest matches") == 2


@pytest.mark.skipif(not shutil.which("dot"), reason="the map's svg example needs Graphviz's dot")
def test_the_network_map_examples_run_on_the_demo(demo: Path) -> None:
    out = ran(shell(block("**The network map**"), demo))
    assert "Networks / members by theme and group" in out
    assert (demo / "network-map.svg").read_text().rstrip().endswith("</svg>")
    assert (demo / "themes-by-group.csv").read_text().startswith("theme,group,networks,members,ids\n")


def test_registering_runs_on_a_new_store(tmp_path: Path) -> None:
    out = ran(shell(block("Registering the people and networks"), tmp_path))
    assert "Claim " in out and "withdrawn." in out


def test_erasing_and_rotating_the_register_key_run_on_the_new_store(tmp_path: Path) -> None:
    # As an operator who followed the README: the register key is the one `init` puts beside the store.
    unset = "unset STUDYLEDGER_KEY STUDYLEDGER_KEY_FILE\n"
    ran(shell(unset + block("Registering the people and networks"), tmp_path))
    old_key = (tmp_path / "new.db.key").read_bytes()
    out = ran(shell(unset + block("**Erasing a person**"), tmp_path))
    assert "Professional T-2 erased" in out and "an erased professional #" in out and "(erased)" in out
    assert "Re-wrapped the keys of 2 people" in out and "No problems" in out
    assert (tmp_path / "new.db.key").read_bytes() != old_key  # the rotated key in the old one's place
