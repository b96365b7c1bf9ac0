"""The frozen set of options one command runs with (no global flags anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """Everything the CLI was told, after defaults and environment variables."""

    command: str
    project_dir: str = "."
    profiles_dir: str | None = None
    profile: str | None = None
    target: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    selector: str | None = None
    resource_types: tuple[str, ...] = ()
    exclude_resource_types: tuple[str, ...] = ()
    indirect_selection: str = "eager"
    threads: int | None = None
    full_refresh: bool = False
    fail_fast: bool = False
    target_path: str | None = None
    log_path: str | None = None
    partial_parse: bool = True
    debug: bool = False
    quiet: bool = False
    log_format: str = "text"
    state: str | None = None
    defer: bool = False
    favor_state: bool = False
    output: str = "selector"
    output_keys: tuple[str, ...] = ()
    limit: int | None = None
    inline: str | None = None
    macro: str | None = None
    macro_args: dict[str, Any] = field(default_factory=dict)
    store_failures: bool = False
    empty: bool = False
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    raw_args: dict[str, Any] = field(default_factory=dict)

    def flags(self) -> dict[str, Any]:
        """The `flags` object of the Jinja context."""
        return {
            "full_refresh": self.full_refresh,
            "which": self.command,
            "fail_fast": self.fail_fast,
            "store_failures": self.store_failures,
            "debug": self.debug,
            "empty": self.empty,
            "state": self.state,
            "defer": self.defer,
        }
