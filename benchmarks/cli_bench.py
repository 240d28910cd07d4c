"""Cold start of one command from the shell (SPEC §7: a read at most 3×, a write at most 4× the
time of `studyledger --help`, measured side by side).

Runs the installed `studyledger` as a subprocess, as a user would: `--help`, a read (`balance`
of a professional registered before), two writes (`professional register`, a new id each time;
`claim submit`, whose rules load every aggregate) and the balance of the professional just
registered (a read that must first apply the write to its read model), interleaved so that the
machine's load falls on all alike, and prints medians, ratios and the bars: of the wall time (the
bar), and of each process's CPU time, which the machine's load hardly moves.

Python's bytecode cache is allowed (as on an installed system): one warm-up round writes it
even when PYTHONDONTWRITEBYTECODE is set in the calling shell. Run it where the package is
installed as a user installs it (`pip install .`), or with PYTHONPATH at the checkout: an editable
install's module finder comes after every other and adds 10-20 ms to each command.

    python -m benchmarks.cli_bench --runs 21
    python -m benchmarks.cli_bench --runs 21 --db postgresql://postgres@127.0.0.1:5432/test?schema=clibench
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.pgschema import drop_schema


def studyledger() -> str:
    here = Path(sys.executable).parent / "studyledger"
    return str(here) if here.exists() else (shutil.which("studyledger") or "studyledger")


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child) of one run of `argv` in `cwd`."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed ({child.returncode}): {stderr.decode().strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    parser.add_argument("--db", help="a PostgreSQL URL with ?schema=… (dropped and made afresh) instead of a new SQLite file")
    args = parser.parse_args()
    if args.db:  # another benchmark's store there has a register key this run does not have
        drop_schema(args.db)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    exe = studyledger()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or str(Path(folder) / "cli.db")
        env["STUDYLEDGER_DB"] = db
        stamp = str(int(time.time() * 1000))
        # In the folder, which a new store's register key is written to, not the caller's.
        # The claims are another professional's (c…), so that the read of b… stays one that need not catch up.
        for setup in (["init"], ["professional", "register", f"b{stamp}", "--name", "Bench", "--group", "nurse"],
                      ["professional", "register", f"c{stamp}", "--name", "Bench", "--group", "nurse",
                       "--registered-on", "2020-01-01"],
                      ["network", "register", f"n{stamp}", "--name", "Bench", "--theme", "bench", "--group", "nurse",
                       "--founded-on", "2020-01-01"],
                      ["network", "join", f"n{stamp}", f"c{stamp}", "--on", "2020-01-01"]):
            subprocess.run([exe, *setup], env=env, cwd=folder, check=True, stdout=subprocess.DEVNULL)
        commands = {
            "help": lambda i: [exe, "--help"],
            "read": lambda i: [exe, "balance", f"b{stamp}"],
            "write": lambda i: [exe, "professional", "register", f"w{stamp}-{i}", "--name", "Bench", "--group", "nurse"],
            "claim": lambda i: [exe, "claim", "submit", "--professional", f"c{stamp}", "--network", f"n{stamp}", "--kind",
                                "question", "--on", "2026-01-01", "--hours", "1", "--description", "Bench",
                                "--outcome", "Bench"],
            # The balance of the professional just registered: its read model must apply that first.
            "catch-up": lambda i: [exe, "balance", f"w{stamp}-{i}"],
        }
        for name, argv in commands.items():  # warm-up: bytecode cache, page cache, read models caught up
            timed(argv(-1), env, folder)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(args.runs):
            for name, argv in commands.items():
                wall, used = timed(argv(i), env, folder)
                times[name].append(wall)
                cpu[name].append(used)
    load = os.getloadavg()
    median = {name: statistics.median(t) for name, t in times.items()}
    median_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    engine = "PostgreSQL" if db.startswith("postgres") else "SQLite"
    print(f"cold start, {engine}, {args.runs} runs each, interleaved; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    # Wall time is the bar; the process's CPU time (user + system, the server's not counted) is shown
    # beside it because it hardly moves with the machine's load, which the wall time does.
    print(f"  studyledger --help              median {median['help'] * 1000:6.0f} ms          "
          f"(CPU {median_cpu['help'] * 1000:4.0f} ms)")
    for name, label, bar in (("read", "balance P", 3), ("write", "professional register", 4),
                             ("claim", "claim submit", 4)):
        ratio = median[name] / median["help"]
        verdict = "met" if ratio <= bar else "NOT met"
        print(f"  {label:<31} median {median[name] * 1000:6.0f} ms = {ratio:4.2f}× --help  "
              f"(CPU {median_cpu[name] * 1000:4.0f} ms = {median_cpu[name] / median_cpu['help']:4.2f}×)  "
              f"(bar ≤ {bar}×: {verdict})")
    ratio = median["catch-up"] / median["help"]
    print(f"  {'balance P, just written':<31} median {median['catch-up'] * 1000:6.0f} ms = {ratio:4.2f}× --help  "
          f"(CPU {median_cpu['catch-up'] * 1000:4.0f} ms = {median_cpu['catch-up'] / median_cpu['help']:4.2f}×)  "
          f"(a read that first applies the write to its read model)")


if __name__ == "__main__":
    main()
