"""profiles.yml: finding it, choosing the profile and target, rendering env vars."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.config.env import make_env_var, render_config_value
from kiln.config.yaml_io import load_yaml_text
from kiln.errors import Location, ProfileError, did_you_mean

PROFILES_FILE = "profiles.yml"


@dataclass(frozen=True, slots=True)
class Target:
    """The chosen output of a profile, rendered (`target` in Jinja)."""

    profile_name: str
    name: str
    type: str
    schema: str
    database: str | None
    threads: int
    credentials: dict[str, Any]

    def to_context(self) -> dict[str, Any]:
        """The `target` variable of the Jinja context (secrets left out)."""
        out = {k: v for k, v in self.credentials.items() if k not in ("password", "token")}
        out.update(
            {
                "name": self.name,
                "target_name": self.name,
                "profile_name": self.profile_name,
                "type": self.type,
                "schema": self.schema,
                "database": self.database,
                "threads": self.threads,
            }
        )
        return out


def find_profiles_dir(flag_dir: str | None, project_dir: Path) -> Path:
    """Where profiles.yml is read from, in dbt's order of precedence.

    `--profiles-dir`, then `DBT_PROFILES_DIR`, then the current directory, then `~/.dbt`.
    """
    if flag_dir:
        return Path(flag_dir).expanduser()
    env_dir = os.environ.get("DBT_PROFILES_DIR")
    if env_dir:
        return Path(env_dir).expanduser()
    cwd = Path.cwd()
    if (cwd / PROFILES_FILE).is_file():
        return cwd
    return Path.home() / ".dbt"


def load_target(
    profiles_dir: Path,
    profile_name: str | None,
    target_name: str | None,
    threads: int | None = None,
) -> Target:
    """Read profiles.yml and return the rendered target.

    Raises:
        ProfileError: the file, the profile or the target is missing or invalid.
    """
    path = profiles_dir / PROFILES_FILE
    if not profile_name:
        raise ProfileError(
            "no profile named", hint="set 'profile:' in dbt_project.yml or pass --profile"
        )
    if not path.is_file():
        raise ProfileError(
            f"no {PROFILES_FILE} found in {profiles_dir}",
            hint="pass --profiles-dir, set DBT_PROFILES_DIR, or create ~/.dbt/profiles.yml",
        )
    raw = load_yaml_text(path.read_text(encoding="utf-8"), str(path), error=ProfileError)
    if not isinstance(raw, dict) or profile_name not in raw:
        known = [k for k in (raw or {}) if k != "config"] if isinstance(raw, dict) else []
        raise ProfileError(
            f"profile '{profile_name}' not found in {path}",
            hint=did_you_mean(profile_name, known) if known else "add it to profiles.yml",
        )
    profile = raw[profile_name] or {}
    outputs = profile.get("outputs") or {}
    chosen = target_name or profile.get("target") or "default"
    env_context = {"env_var": make_env_var()}
    chosen = str(render_config_value(chosen, env_context))
    if chosen not in outputs:
        raise ProfileError(
            f"target '{chosen}' not found in profile '{profile_name}'",
            hint=did_you_mean(chosen, outputs) if outputs else "add an output to the profile",
            location=Location(str(path)),
        )
    creds = render_config_value(dict(outputs[chosen] or {}), env_context)
    try:
        return _make_target(profile_name, chosen, creds, threads, path)
    except ProfileError as exc:
        if exc.location is None:
            exc.location = Location(str(path))
        raise


def _make_target(
    profile_name: str, name: str, creds: dict[str, Any], threads: int | None, path: Path
) -> Target:
    kind = creds.get("type")
    if not kind:
        raise ProfileError(
            f"target '{name}' of profile '{profile_name}' has no 'type'",
            hint="set type: duckdb (or postgres, spark)",
            location=Location(str(path)),
        )
    from kiln.adapters.registry import load_adapter_class

    adapter_cls = load_adapter_class(str(kind))
    database = creds.get("database") or creds.get("dbname")
    if database is None:
        database = adapter_cls.default_database(creds)
    schema = creds.get("schema") or adapter_cls.default_schema(creds)
    n_threads = threads if threads is not None else int(creds.get("threads") or 1)
    return Target(
        profile_name=profile_name,
        name=name,
        type=str(kind),
        schema=str(schema),
        database=str(database) if database is not None else None,
        threads=max(1, n_threads),
        credentials=creds,
    )
