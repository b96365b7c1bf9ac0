"""One event stream: runners emit, sinks (console, log file, JSON logs) consume."""

from kiln.events.bus import Event, Level, emit, get_bus, info, warn

__all__ = ["Event", "Level", "emit", "get_bus", "info", "warn"]
