"""This program's helper processes (a long import's parser and writer): a new interpreter running one
of our modules, spoken to through pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def start_module(module: str, withheld: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
    """`python -P -m module`, its stdin and stdout pipes, its stderr discarded (it reports through its
    stdout), without the environment variables whose names start with one of `withheld`; None if the
    system will not start one. Our packages are found where this process found them; -P: nothing
    from the current folder (a `ledger/` there must not stand in for ours)."""
    home = str(Path(__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(withheld)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")]))
    try:
        return subprocess.Popen([sys.executable, "-P", "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None
