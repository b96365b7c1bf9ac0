"""Sinks: the console (dbt's line format), the text log file and JSON lines."""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import IO

from kiln.events.bus import Event, Level, get_bus


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


class ConsoleSink:
    """Human output: `HH:MM:SS  message`, colours only on a terminal."""

    def __init__(self, min_level: Level = Level.INFO, stream: IO[str] | None = None) -> None:
        self.min_level = min_level
        self.stream = stream or sys.stdout
        self.color = hasattr(self.stream, "isatty") and self.stream.isatty()

    def handle(self, event: Event) -> None:
        if event.data.get("raw"):
            print(event.msg, file=self.stream, flush=True)
            return
        msg = event.msg
        if self.color and event.level >= Level.ERROR:
            msg = f"\x1b[31m{msg}\x1b[0m"
        elif self.color and event.level == Level.WARN:
            msg = f"\x1b[33m{msg}\x1b[0m"
        print(f"{_clock(event.ts)}  {msg}", file=self.stream, flush=True)


class TextFileSink:
    """The debug log file (`logs/dbt.log`), every level from `min_level`."""

    def __init__(self, path: Path, min_level: Level = Level.DEBUG) -> None:
        self.min_level = min_level
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def handle(self, event: Event) -> None:
        stamp = datetime.fromtimestamp(event.ts).strftime("%H:%M:%S.%f")
        with self._lock:
            self._file.write(
                f"{stamp} [{event.level.name.lower():<5}] [{event.thread}]: {event.msg}\n"
            )
            self._file.flush()

    def close(self) -> None:
        self._file.close()


class JsonLinesSink:
    """`--log-format json`: one JSON object per event on stdout."""

    def __init__(
        self, invocation_id: str, min_level: Level = Level.INFO, stream: IO[str] | None = None
    ) -> None:
        self.min_level = min_level
        self.invocation_id = invocation_id
        self.stream = stream or sys.stdout

    def handle(self, event: Event) -> None:
        record = {
            "info": {
                "name": event.name,
                "code": event.code,
                "level": event.level.name.lower(),
                "msg": event.msg,
                "invocation_id": self.invocation_id or get_bus().invocation_id,
                "thread": event.thread,
                "ts": datetime.fromtimestamp(event.ts).isoformat(),
            },
            "data": {k: v for k, v in event.data.items() if k != "raw"},
        }
        print(json.dumps(record, default=str), file=self.stream, flush=True)


class CaptureSink:
    """Keeps events in memory (tests)."""

    def __init__(self, min_level: Level = Level.DEBUG) -> None:
        self.min_level = min_level
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)
