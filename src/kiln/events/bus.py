"""The event bus: typed events fanned out to sinks with their own minimum level."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol


class Level(IntEnum):
    DEBUG = 10
    INFO = 20
    WARN = 30
    ERROR = 40


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. `name`/`code` follow dbt's event names where one exists."""

    name: str
    level: Level
    msg: str
    data: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    ts: float = field(default_factory=time.time)
    thread: str = field(default_factory=lambda: threading.current_thread().name)


class Sink(Protocol):
    min_level: Level

    def handle(self, event: Event) -> None: ...


class Bus:
    """Registered sinks; `emit` hands each event to every sink whose level it reaches."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.invocation_id = ""
        self._lock = threading.Lock()

    def add(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def clear(self) -> None:
        self.sinks.clear()

    def wants(self, level: Level) -> bool:
        return any(level >= s.min_level for s in self.sinks)

    def emit(self, event: Event) -> None:
        with self._lock:
            for sink in self.sinks:
                if event.level >= sink.min_level:
                    sink.handle(event)


# dbt's codes for events Kiln emits under dbt's names (JSON-log consumers key on them).
EVENT_CODES = {
    "NodeStart": "Q024",
    "LogModelResult": "Q012",
    "LogTestResult": "Q007",
    "LogSeedResult": "Q016",
    "LogSnapshotResult": "Q015",
    "LogStartBatch": "Q045",
    "LogBatchResult": "Q046",
    "GenericExceptionOnRun": "W004",
    "SkippingDetails": "Q034",
    "MainEncounteredError": "Z002",
    "ListCmdOut": "Z049",
    "JinjaLogInfo": "I062",
    "JinjaLogDebug": "I063",
    "JinjaLogWarning": "I061",
    "PrintEvent": "Z052",
    "NoNodesSelected": "W016",
}

_BUS = Bus()


def get_bus() -> Bus:
    """The process-wide bus (sinks are set up by the CLI for each invocation)."""
    return _BUS


def emit(name: str, level: Level, msg: str, *, code: str = "", **data: Any) -> None:
    """Emit an event to every interested sink."""
    if _BUS.wants(level):
        _BUS.emit(
            Event(
                name=name, level=level, msg=msg, data=data, code=code or EVENT_CODES.get(name, "")
            )
        )


def emit_lazy(name: str, level: Level, factory: Callable[[], str], **data: Any) -> None:
    """Emit an event whose message is only built if some sink wants it."""
    if _BUS.wants(level):
        _BUS.emit(Event(name=name, level=level, msg=factory(), data=data))


def info(msg: str, name: str = "Note", **data: Any) -> None:
    emit(name, Level.INFO, msg, **data)


def warn(msg: str, name: str = "Warning", **data: Any) -> None:
    emit(name, Level.WARN, msg, **data)
