"""The installed `studyledger` command run as child processes: what the process tests share.

Not a test module. Every child is bounded by a timeout and killed if the test ends first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _find_executable() -> Path | None:
    found = shutil.which("studyledger")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "studyledger"
    return beside if beside.is_file() and os.access(beside, os.X_OK) else None


EXE = _find_executable()
NO_EXE = ("the `studyledger` console script is not installed (neither on PATH nor beside sys.executable); "
          "install the project with `pip install -e .`")
TIMEOUT = 120  # seconds: no child may run longer


def child_env(db: str | None = None, **extra: str) -> dict[str, str]:
    """A child's environment: ours, without anything that changes where it writes or how it reports."""
    env = {k: v for k, v in os.environ.items() if k not in ("STUDYLEDGER_DB", "STUDYLEDGER_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    if db is not None:
        env["STUDYLEDGER_DB"] = db
    env.update(extra)
    return env


def assert_one_sentence(stderr: str) -> None:
    """A failed child said why in one line, with no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    assert lines[0].strip(), stderr


def run_all(jobs: dict[str, list[str]], env: dict[str, dict[str, str]] | None = None, cwd: Path | None = None,
            timeout: float = TIMEOUT) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several commands (name → argv) side by side; their results. Every child is bounded."""
    env = env or {}
    children = {name: subprocess.Popen(command, env=env.get(name) or child_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, cwd=cwd)
                for name, command in jobs.items()}
    results = {}
    try:
        for name, child in children.items():
            stdout, stderr = child.communicate(timeout=timeout)
            results[name] = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    return results


class Children:
    """A test's long-running children: started bounded, and all killed at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, db: str, *args: str) -> subprocess.Popen:
        assert EXE is not None
        proc = subprocess.Popen(
            [str(EXE), "--db", db, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=child_env(), stdin=subprocess.DEVNULL,
        )
        proc.started = time.monotonic()  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def run(self, db: str, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        proc = self.start(db, *args)
        return self.finish(proc, timeout)

    def finish(self, proc: subprocess.Popen, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(proc)
            out, err = proc.communicate()
            pytest.fail(f"{proc.args[3:]} ran longer than {timeout}s; killed. stderr: {err}")
        proc.ended = time.monotonic()  # type: ignore[attr-defined]
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)  # a stopped child must be able to die
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        for proc in self.procs:
            self.kill(proc)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


# Root ignores file modes; a child started under this prefix does not (CAP_DAC_OVERRIDE dropped).
NO_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                   "--inh-caps=-dac_override,-dac_read_search", "--"]


def bound_by_file_modes(tmp_path: Path) -> list[str]:
    """The argv prefix under which a child is refused writes by file modes; skips when there is none."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    reason = "running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here: file modes bind no child"
    if shutil.which("setpriv") is None:
        pytest.skip(reason)
    probe = tmp_path / "probe"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        tried = subprocess.run([*NO_DAC_OVERRIDE, "sh", "-c", 'echo x > "$0"', str(probe)], capture_output=True,
                               timeout=30)
    finally:
        probe.unlink()
    if tried.returncode == 0:
        pytest.skip(reason)
    return list(NO_DAC_OVERRIDE)


def helpers(module: bytes, parent: int | None = None) -> list[int]:
    """The processes running our `module` (an import's parser or writer) that `parent` (this process)
    started and has not yet reaped, zombies included (Linux: read from /proc)."""
    parent = parent or os.getpid()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent and module in command:
            found.append(int(pid))
    return found
