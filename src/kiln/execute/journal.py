"""A node-by-node journal of results, so a killed process still leaves a record."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path

from kiln.execute.result import NodeResult

JOURNAL_FILE = "run_results.jsonl"


class Journal:
    """Appends one JSON line per finished node to `target/run_results.jsonl` (fsync'd)."""

    def __init__(self, target_dir: Path, invocation_id: str, command: str) -> None:
        target_dir.mkdir(parents=True, exist_ok=True)
        self.path = target_dir / JOURNAL_FILE
        self._lock = threading.Lock()
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"invocation_id": invocation_id, "command": command, "kind": "start"})

    def _write(self, record: dict[str, object]) -> None:
        with self._lock:
            self._file.write(json.dumps(record, default=str) + "\n")
            self._file.flush()

    def record(self, result: NodeResult) -> None:
        self._write({"kind": "result", **asdict(result)})

    def close(self, completed: bool) -> None:
        self._write({"kind": "end", "completed": completed})
        self._file.close()


def read_journal(target_dir: Path) -> list[dict[str, object]]:
    """The results a previous (possibly killed) invocation journaled."""
    path = target_dir / JOURNAL_FILE
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            break  # a line cut short by the kill
        if record.get("kind") == "result":
            out.append(record)
    return out
