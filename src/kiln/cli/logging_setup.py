"""Sinks for one invocation: the console (text or JSON) and the debug log file."""

from __future__ import annotations

import logging
import sys
import uuid

from kiln.events.bus import Level, get_bus
from kiln.events.sinks import ConsoleSink, JsonLinesSink
from kiln.invocation import Invocation


def setup_logging(inv: Invocation) -> None:
    """Register the console sink; the file sink is added once the log folder is known."""
    bus = get_bus()
    bus.clear()
    bus.invocation_id = str(uuid.uuid4())
    level = Level.ERROR if inv.quiet else (Level.DEBUG if inv.debug else Level.INFO)
    if inv.log_format == "json":
        bus.add(JsonLinesSink("", min_level=level))
    else:
        bus.add(ConsoleSink(min_level=level, stream=sys.stdout))
    if inv.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
