#!/usr/bin/env python3
"""Incremental `merge` against a full refresh of the same model, on DuckDB.

The model has `--rows` rows (10 million by default) keyed by `id`. A full refresh builds
it from scratch through `kiln.materialize.build_incremental` (`full_refresh=True`); an
incremental run merges `--new-percent` (1%) new rows plus as many updated ones, as
`is_incremental()` would select them. The claim checked: the incremental run takes
under 10% of the full refresh. Medians of `--reps` runs are printed, and the script
exits 1 when the claim does not hold.

    python bench/bench_incremental.py --rows 10000000 --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kiln.adapters.registry import create_adapter
from kiln.materialize import BuildRequest, build_incremental

MODEL = """
select
    i as id,
    i % 1000 as customer_id,
    (i * 7919) % 100000 / 100.0 as amount,
    'status_' || (i % 7) as status,
    timestamp '2024-01-01' + to_seconds(i) as updated_at
from range({start}, {stop}) t(i)
"""
CONFIG = {"materialized": "incremental", "unique_key": "id", "incremental_strategy": "merge"}


def request(adapter, sql: str, *, full_refresh: bool) -> BuildRequest:
    relation = adapter.relation(adapter.database, "main", "fct_events")
    return BuildRequest(
        "model.bench.fct_events", relation, sql, CONFIG, full_refresh, not full_refresh
    )


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def one_rep(path: Path, rows: int, new: int) -> tuple[float, float, int]:
    adapter = create_adapter({"type": "duckdb", "path": str(path), "threads": 1})
    try:
        full_sql = MODEL.format(start=0, stop=rows)
        full = timed(
            lambda: build_incremental(adapter, request(adapter, full_sql, full_refresh=True))
        )
        # The incremental run selects `new` rows past the end and re-sends `new` recent ones.
        delta_sql = MODEL.format(start=rows - new, stop=rows + new)
        incremental = timed(
            lambda: build_incremental(adapter, request(adapter, delta_sql, full_refresh=False))
        )
        count = adapter.fetch("select count(*) from main.fct_events").rows[0][0]
    finally:
        adapter.close()
    return full, incremental, int(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--new-percent", type=float, default=1.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    new = int(args.rows * args.new_percent / 100)
    fulls, incrementals = [], []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        for rep in range(args.reps):
            path = Path(tmp) / f"bench{rep}.duckdb"
            full, incremental, count = one_rep(path, args.rows, new)
            assert count == args.rows + new, count
            fulls.append(full)
            incrementals.append(incremental)
            print(f"rep {rep + 1}: full refresh {full:.2f}s, incremental merge {incremental:.2f}s")
    full, incremental = statistics.median(fulls), statistics.median(incrementals)
    ratio = incremental / full
    print(
        f"{args.rows:,} rows, merge of {new:,} new + {new:,} updated rows: "
        f"full refresh {full:.2f}s, incremental {incremental:.2f}s, "
        f"ratio {ratio:.1%} (target < 10%)"
    )
    return 0 if ratio < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
