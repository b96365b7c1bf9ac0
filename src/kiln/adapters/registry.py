"""Which adapter class serves a profile's `type`.

Built-in adapters are named by import string and imported on first use, so loading a
profile never imports a driver it does not need. Third-party adapters register through
the `kiln.adapters` entry-point group (`duckdb_plus = "pkg.module:Adapter"`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from kiln.adapters.base import Adapter
from kiln.errors import ProfileError, did_you_mean

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kiln.adapters"

BUILTIN: dict[str, str] = {
    "duckdb": "kiln.adapters.duckdb:DuckDBAdapter",
    "postgres": "kiln.adapters.postgres:PostgresAdapter",
    "spark": "kiln.adapters.spark:SparkAdapter",
}


def known_adapters() -> dict[str, str]:
    """Every adapter type name with its import string; built-ins win over plugins."""
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **BUILTIN}


def load_adapter_class(type_name: str) -> type[Adapter]:
    """The adapter class for a profile `type`.

    Raises:
        ProfileError: no adapter has that name, or its module cannot be imported
            (usually a missing extra, e.g. `pip install 'kiln[postgres]'`).
    """
    # built-ins first: scanning installed entry points costs ~50 ms of start-up
    target = BUILTIN.get(type_name)
    known: Mapping[str, str] = BUILTIN
    if target is None:
        known = known_adapters()
        target = known.get(type_name)
    if target is None:
        raise ProfileError(
            f"unknown adapter type {type_name!r}", hint=did_you_mean(type_name, known)
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProfileError(
            f"adapter {type_name!r} cannot be loaded: {exc}",
            hint=f"install its extra: pip install 'kiln[{type_name}]'",
        ) from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise ProfileError(f"{target!r} (adapter {type_name!r}) is not a kiln Adapter class")
    return cls


def create_adapter(target: Mapping[str, Any]) -> Adapter:
    """An adapter for a profiles.yml target (a mapping with `type`).

    Raises:
        ProfileError: the target has no `type`, an unknown one, or invalid values.
    """
    type_name = target.get("type")
    if not type_name:
        raise ProfileError("the target has no 'type'", hint="set type: duckdb (or postgres, spark)")
    cls = load_adapter_class(str(type_name))
    logger.debug("using adapter %s for type %r", cls.__name__, type_name)
    return cls.from_target(target)
