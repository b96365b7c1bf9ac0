"""A run killed with SIGKILL still leaves target/run_results.jsonl with what finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import journal_results

SLOW = (
    "{{ config(materialized='table') }}\n"
    "select sum(a.range * b.range) as total from range(200000) a, range(200000) b"
)


def _wait_for(predicate, proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"kiln exited early with {proc.returncode}: {proc.stdout.read()}")
        time.sleep(0.05)
    pytest.fail("timed out waiting for the journal")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_journal_keeps_finished_nodes_when_the_run_is_killed(project):
    proj = project({"models/fast.sql": "select 1 as id", "models/slow.sql": SLOW})
    journal = proj.root / "target" / "run_results.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "DBT_PROFILES_DIR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiln", "run", "--threads", "2"],
        cwd=proj.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(
            lambda: any(r["unique_id"] == "model.e2e.fast" for r in journal_results(proj)),
            proc,
            timeout=60,
        )
        time.sleep(0.2)  # let the slow model get well into its query
        assert proc.poll() is None, "the slow model must still be running when killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()

    assert proc.returncode == -signal.SIGKILL
    records = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    assert records[0]["kind"] == "start"
    assert records[0]["command"] == "run"
    results = [r for r in records if r["kind"] == "result"]
    assert [(r["unique_id"], r["status"]) for r in results] == [("model.e2e.fast", "success")]
    assert results[0]["relation_name"] == '"proj"."main"."fast"'
    assert not [r for r in records if r["kind"] == "end"], "a killed run never wrote its end"
    assert not (proj.root / "target" / "run_results.json").exists()
