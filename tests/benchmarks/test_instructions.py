"""benchmarks/instructions.py reads callgrind's count, and refuses output that has none."""

from __future__ import annotations

import pytest

from benchmarks.instructions import collected

# The end of callgrind's report (valgrind 3.19), as it writes it to stderr.
REPORT = """==6410== Events    : Ir
==6410== Collected : 8247899747
==6410== 
==6410== I   refs:      8,247,899,747
"""


def test_the_count_is_the_collected_instructions() -> None:
    assert collected("==1== Callgrind, a call-graph generating cache profiler\n" + REPORT) == 8_247_899_747


@pytest.mark.parametrize("output", ["", "valgrind: command not found\n", REPORT + REPORT.replace("6410", "6411")])
def test_output_without_one_count_is_refused(output: str) -> None:
    with pytest.raises(ValueError, match="no single 'Collected' line"):
        collected(output)
