"""benchmarks/pgschema.py names each size's PostgreSQL schema after the URL's own."""

from __future__ import annotations

from benchmarks.pgschema import sized
from storage.config import resolve


def test_each_size_gets_a_schema_of_its_own_and_the_rest_of_the_url_is_kept() -> None:
    url = "postgresql://postgres:secret@127.0.0.1:5433/test?schema=bench"
    small, large = resolve(sized(url, 1000)).settings, resolve(sized(url, 2000)).settings
    assert (small["POSTGRES_SCHEMA"], large["POSTGRES_SCHEMA"]) == ("bench_1000", "bench_2000")
    assert {k: v for k, v in small.items() if k != "POSTGRES_SCHEMA"} == \
        {k: v for k, v in resolve(url).settings.items() if k != "POSTGRES_SCHEMA"}


def test_a_url_without_a_schema_gets_the_benchmarks_own() -> None:
    assert resolve(sized("postgresql://postgres@127.0.0.1:5432/test", 5)).settings["POSTGRES_SCHEMA"] == "bench_5"
