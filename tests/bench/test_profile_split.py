"""bench/profile_run.py bins py-spy samples into warehouse time and Kiln's own time."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from profile_run import split_profile  # noqa: E402

RUNNER = "_worker (concurrent/futures/thread.py:83);NodeRunner.run (kiln/execute/runners.py:82)"
SAMPLES = [
    # the driver call: warehouse time, charged to the adapter method that made it
    f"{RUNNER};Adapter.create_table_as (kiln/adapters/base.py:700);"
    "Adapter._run (kiln/adapters/base.py:425);Adapter._send (kiln/adapters/base.py:406) 30",
    # building the statement: Kiln's time, in sqlglot
    f"{RUNNER};Adapter._run (kiln/adapters/base.py:425);Adapter._to_sql (kiln/adapters/base.py:9);"
    "Generator.generate (sqlglot/generator.py:800) 5",
    # rendering: Kiln's time, in jinja2
    f"{RUNNER};Compiler.render (kiln/execute/compiler.py:50);Template.render (jinja2/env.py:1) 2",
    # Kiln's own code
    f"{RUNNER};Journal.record (kiln/execute/journal.py:40) 3",
    # not under a node runner: the main thread
    "main (kiln/cli/main.py:227);do_run (kiln/cli/commands.py:200) 7",
]


def test_samples_are_binned_by_thread_and_innermost_frame(tmp_path: Path) -> None:
    raw = tmp_path / "py-spy.txt"
    raw.write_text("\n".join(SAMPLES) + "\n", encoding="utf-8")
    split = split_profile(raw)
    assert (split.warehouse, split.kiln, split.main_thread) == (30, 10, 7)
    assert split.warehouse_by_method == {"Adapter.create_table_as": 30}
    assert split.kiln_by_library == {"sqlglot": 5, "jinja2": 2, "kiln": 3}
