"""The import's instructions, counted: a figure that does not move with the machine's load.

The development machine's speed drifts by a quarter within half an hour, so a change that takes a
few percent off the import cannot be told from the drift by timing it. `valgrind --tool=callgrind`
counts the instructions a process runs: the same count for the same work, however busy the machine.

Imports the seeded generated register (benchmarks.generate) into a new SQLite file under callgrind,
and once more doing all but the import, and prints the difference for each stored event:

    python -m benchmarks.instructions --events 10000

Every line is parsed in the importing process (no parser process, which callgrind would not
follow), so the count includes the parsing that a long import does in its second process. Run it
for the code before and after a change; the counts compare, seconds do not. Under valgrind OpenSSL
sees no SHA extensions and hashes in software, so the seals' and HMACs' share of the count is
larger than their share of the time on a CPU that has them. Slow: on the development machine 72 s
at 10,000 events, 15 s at 300; two runs of the same code counted within 0.05% of each other.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.generate import lines
from benchmarks.projections_bench import register_key

_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def collected(valgrind_stderr: str) -> int:
    """The instruction count callgrind reports at the end of its output."""
    found = _COLLECTED.findall(valgrind_stderr)
    if len(found) != 1:
        raise ValueError("callgrind's output has no single 'Collected' line: did valgrind run?")
    return int(found[0])


def step(source: str, folder: str, importing: bool) -> dict:
    """In the counted process: open a new SQLite ledger in `folder` and import the lines of `source`
    (or, without `importing`, do all of that but the import itself)."""
    from ledger import ahead
    from ledger.app import open_ledger
    from ledger.importer import import_lines
    from storage.config import resolve

    ahead.AHEAD_AFTER = sys.maxsize  # every line parsed here: callgrind counts this process only
    ledger = open_ledger(resolve(str(Path(folder) / "count.db")), create=True)
    try:
        with open(source, encoding="utf-8") as file:
            return import_lines(ledger, file) if importing else {}
    finally:
        ledger.close()


def counted(source: str, importing: bool, env: dict[str, str]) -> tuple[int, dict]:
    """(instructions, the import's counts) of one run of `step` under callgrind, in a new folder."""
    with tempfile.TemporaryDirectory() as folder:
        argv = [sys.executable, "-m", "benchmarks.instructions", "--step", "import" if importing else "open",
                "--source", source, "--folder", folder]
        # Once as it is, so that the bytecode is compiled and cached before the count.
        subprocess.run(argv, env=env, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as folder:
        argv[-1] = folder
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/callgrind.out", *argv],
                             env=env, check=True, capture_output=True, text=True)
    return collected(run.stderr), json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--step", choices=("import", "open"), help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.source, args.folder, args.step == "import")))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this benchmark counts instructions with its callgrind tool.")
    register_key()
    # One hash seed, and bytecode written: the same work gives the same count from run to run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONHASHSEED": "0"}
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as file:
        file.writelines(json.dumps(line) + "\n" for line in lines(args.events, args.seed))
    try:
        rest, _ = counted(file.name, False, env)
        total, done = counted(file.name, True, env)
    finally:
        os.unlink(file.name)
    imported = total - rest
    print(f"import (SQLite, counted by callgrind): {done['events']:,} events ({done['commands']:,} commands), "
          f"{imported / 1e6:,.1f} M instructions = {imported / done['events'] / 1000:,.1f} k a stored event "
          f"(the process without the import: {rest / 1e6:,.1f} M; every line parsed in this process)")


if __name__ == "__main__":
    main()
