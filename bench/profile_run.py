#!/usr/bin/env python3
"""Kiln's own time per node in a `run`, split from the warehouse's, with py-spy.

    pip install py-spy
    python bench/profile_run.py --models 1000

Generates a project with ``shared/bench/genproject.py`` (``--seed 42``), seeds it, and
runs ``kiln run --threads 1`` under ``py-spy record`` (a sampling profiler: unlike
cProfile it does not slow the Python it measures). Every sample of the worker thread
is then put in one of two bins:

- warehouse: the thread is inside the adapter's driver call (``Adapter._send`` or
  ``_fetch_table`` is the innermost Python frame; the engine runs in native code);
- Kiln: any other frame under the node runner, i.e. Python that Kiln runs for the
  node, its libraries included (sqlglot, Jinja).

It prints milliseconds per node for each bin, Kiln's share by library, the warehouse's
share by adapter method, and the main thread's total, and writes them to
``bench/results/<timestamp>-profile-run.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from run_bench import (
    DEFAULT_GENPROJECT,
    DEFAULT_RESULTS,
    DEFAULT_WORKDIR,
    generate_project,
    kiln_tool,
    precompile_kiln,
    write_results,
)

WORKER_FRAME = "NodeRunner.run (kiln/"
DRIVER_FRAMES = ("Adapter._send (kiln/adapters/", "Adapter._fetch_table (kiln/adapters/")
LIBRARIES = ("sqlglot", "jinja2", "duckdb")
ADAPTER_PLUMBING = {"Adapter._send", "Adapter._run", "Adapter._fetch_table"}


@dataclass
class Split:
    """Samples of a py-spy raw profile, binned."""

    warehouse: int = 0
    kiln: int = 0
    main_thread: int = 0
    kiln_by_library: Counter[str] = field(default_factory=Counter)
    warehouse_by_method: Counter[str] = field(default_factory=Counter)


def function(frame: str) -> str:
    """`Adapter._send (kiln/adapters/base.py:420)` -> `Adapter._send`."""
    return frame.split(" (", 1)[0]


def library(frames: list[str]) -> str:
    """The library the innermost frames belong to: the first one called from Kiln."""
    for frame in frames:
        for name in LIBRARIES:
            if f"({name}/" in frame:
                return name
    kiln_frames = [f for f in frames if "(kiln/" in f]
    return "kiln" if kiln_frames and "(kiln/" in frames[-1] else "stdlib and other"


def split_profile(path: Path) -> Split:
    """Bin every sample of a `py-spy record --format raw` file."""
    split = Split()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        count, frames = int(count_text), stack.split(";")
        runner = next((i for i, f in enumerate(frames) if WORKER_FRAME in f), None)
        if runner is None:
            split.main_thread += count
            continue
        if frames[-1].startswith(DRIVER_FRAMES):
            split.warehouse += count
            caller = next(
                (function(f) for f in reversed(frames) if "(kiln/" in f
                 and function(f) not in ADAPTER_PLUMBING),
                "?",
            )  # fmt: skip
            split.warehouse_by_method[caller] += count
            continue
        split.kiln += count
        split.kiln_by_library[library(frames[runner:])] += count
    return split


def run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--genproject", type=Path, default=DEFAULT_GENPROJECT)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--kiln-cmd", help="command that runs Kiln (as in run_bench.py)")
    args = parser.parse_args()
    spy = shutil.which("py-spy")
    if spy is None:
        print("error: py-spy not found (pip install py-spy)", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    project = args.workdir / "profile" / str(args.models)
    generate_project(args.genproject, project, args.models)
    tool = kiln_tool(args.kiln_cmd)
    precompile_kiln(tool)
    dirs = ["--project-dir", str(project), "--profiles-dir", str(project)]
    run([*tool.argv, "seed", *dirs], project)
    raw = project / "target" / "py-spy.txt"
    command = [*tool.argv, "run", "--threads", "1", *dirs]
    run([spy, "record", "-r", str(args.rate), "-f", "raw", "-o", str(raw), "--", *command], project)
    results = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    nodes = len(results["results"])
    split = split_profile(raw)

    def ms(samples: int) -> float:
        return round(1000 * samples / args.rate / nodes, 2)

    report = {
        "models": args.models,
        "nodes_run": nodes,
        "rate_hz": args.rate,
        "ms_per_node": {"warehouse": ms(split.warehouse), "kiln": ms(split.kiln)},
        "kiln_ms_per_node_by_library": {k: ms(v) for k, v in split.kiln_by_library.most_common()},
        "warehouse_ms_per_node_by_method": {
            k: ms(v) for k, v in split.warehouse_by_method.most_common()
        },
        "main_thread_s": round(split.main_thread / args.rate, 2),
        "command": " ".join(command),
    }
    print(f"{nodes} nodes, `kiln run --threads 1` under py-spy at {args.rate} Hz")
    print(f"  warehouse (driver calls): {ms(split.warehouse):6.2f} ms per node")
    print(f"  Kiln's own Python:        {ms(split.kiln):6.2f} ms per node")
    for name, value in report["kiln_ms_per_node_by_library"].items():
        print(f"    {name:22s}  {value:6.2f}")
    print("  warehouse time by adapter method (ms per node):")
    for name, value in report["warehouse_ms_per_node_by_method"].items():
        print(f"    {name:22s}  {value:6.2f}")
    print(f"  main thread (start-up, parse, scheduling, artifacts): {report['main_thread_s']} s")
    out = write_results(args.results_dir, started, report, kind="profile-run")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
