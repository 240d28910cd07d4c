"""How `projections_bench` prints a size's figures, each beside its bar."""

from __future__ import annotations

import argparse
import os
import statistics


def median(runs: list[dict], key: str) -> float:
    """The median (of an even number of runs, the mean of the middle two): not the slower of two."""
    return statistics.median(r[key] for r in runs)


def two_core_bound(built: dict) -> str:
    """The import's CPU, here and in its parser and writer processes, and the most events/s that CPU allows
    on two cores however the work were shared between them: the events over half of it. (PostgreSQL's
    server runs on the same two cores here, and is not counted: its bound is higher than could be had.)"""
    total = built["import_cpu_s"] + built["parser_cpu_s"]
    return (f"CPU {built['import_cpu_s']:.2f} s + {built['parser_cpu_s']:.2f} s parsing and writing = "
            f"{total * 1e6 / built['events']:.0f} µs an event: at most {built['events'] * 2 / total:,.0f} events/s "
            f"on two cores")


def report(size: int, args: argparse.Namespace, built: dict, floors: list[dict], rebuilds: list[dict],
           timings: dict, keys: dict) -> None:
    floor_ = {"rows": floors[0]["rows"], **{k: median(floors, k) for k in ("floor_s", "floor_cpu_s")}}
    rebuilt = {"head": rebuilds[0]["head"], "peak_mb": max(r["peak_mb"] for r in rebuilds),
               **{k: median(rebuilds, k) for k in ("rebuild_s", "rebuild_cpu_s")}}
    ratio = rebuilt["rebuild_s"] / floor_["floor_s"]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{size:>9,} requested, {built['events']:,} events stored ({'PostgreSQL' if args.db else 'SQLite'}"
          f"{', claims decided later' if args.later else ''}); "
          f"load average {load}; floor and rebuild: medians of {args.repeat}, run alternately (every size in each round)")
    print(f"  import   {built['import_s']:8.2f} s  {built['import_eps']:10,.0f} events/s   (bar ≥ 20,000: "
          f"{'met' if built['import_eps'] >= 20_000 else 'NOT met'}), {built['import_cps']:,.0f} commands/s; "
          f"{two_core_bound(built)}")
    print(f"  floor    {floor_['floor_s']:8.2f} s  {floor_['rows'] / floor_['floor_s']:10,.0f} rows/s   "
          f"(raw SELECT + json.loads); CPU {floor_['floor_cpu_s']:.2f} s")
    print(f"  rebuild  {rebuilt['rebuild_s']:8.2f} s  {rebuilt['head'] / rebuilt['rebuild_s']:10,.0f} events/s"
          f"   {ratio:.2f}× the floor (bar ≤ 2×: {'met' if ratio <= 2 else 'NOT met'}), "
          f"peak RSS {rebuilt['peak_mb']:.0f} MB (bar < 500 MB at 1M); CPU {rebuilt['rebuild_cpu_s']:.2f} s, "
          f"{rebuilt['rebuild_cpu_s'] / max(floor_['floor_cpu_s'], 1e-9):.2f}× the floor's")
    rounds = {k: " ".join(f"{r[k]:.2f}" for r in runs) for k, runs in (("floor_s", floors), ("rebuild_s", rebuilds))}
    print(f"  rounds   floor {rounds['floor_s']} s; rebuild {rounds['rebuild_s']} s (in the order run)")
    for name in ("balance", "members"):
        t = timings[name]
        print(f"  {name:<8} median {t['median_ms']:6.2f} ms, p95 {t['p95_ms']:6.2f} ms   (bar < 20 ms)")
    if keys:
        print(f"  keys     {keys['people']:,} people: opening the ledger {keys['open_ms']:.1f} ms, reading their rows "
              f"{keys['read_ms']:.1f} ms, unwrapping every key and id {keys['know_all_ms']:.1f} ms "
              f"({keys['know_all_ms'] * 1000 / max(keys['people'], 1):.0f} µs a person)")
