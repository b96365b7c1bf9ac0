"""`env_var()` and the rendering of config files (dbt_project.yml, profiles.yml)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from kiln.errors import CompilationError

# dbt's rule: env vars with these prefixes are secrets and never written to artifacts.
SECRET_PREFIX = "DBT_ENV_SECRET"

_MISSING = object()


def make_env_var(
    environ: Mapping[str, str] | None = None,
    record: dict[str, Any] | None = None,
) -> Callable[..., str | None]:
    """Build the `env_var(name, default)` function, optionally recording what it read."""
    env = os.environ if environ is None else environ

    def env_var(name: str, default: Any = _MISSING) -> str | None:
        value: str | None
        if name in env:
            value = env[name]
        elif default is not _MISSING:
            value = default if default is None else str(default)
        else:
            raise CompilationError(
                f"Env var required but not provided: '{name}'",
                hint=f"set {name} in the environment or give env_var() a default",
            )
        if record is not None and not name.startswith(SECRET_PREFIX):
            record[name] = value
        return value

    return env_var


def render_config_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render Jinja in every string of a config structure (dbt_project.yml / profiles.yml).

    Strings without `{{`/`{%` are returned as they are, so the common case costs nothing.
    """
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        from kiln.jinja.environment import render_string

        return _native(render_string(value, dict(context)))
    if isinstance(value, dict):
        return {k: render_config_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_config_value(v, context) for v in value]
    return value


def _native(text: str) -> Any:
    """Rendered config text back to a number or boolean where it looks like one."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return text
