"""Config inheritance: dbt_project.yml `+key` trees, properties files and `config()` calls.

Precedence, lowest first: resource-type defaults, the project tree (outer folders first),
a properties file's `config:`, then the node's own `config()` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Configs whose values accumulate instead of replacing the inherited value.
APPEND_KEYS = frozenset({"tags", "pre-hook", "post-hook"})
# Dict configs merged key by key.
UPDATE_KEYS = frozenset({"meta", "docs", "persist_docs", "quoting", "column_types", "grants"})

# Configs that may appear in a project tree without a `+` prefix.
KNOWN_CONFIG_KEYS = frozenset(
    {
        "enabled",
        "materialized",
        "schema",
        "database",
        "alias",
        "tags",
        "meta",
        "docs",
        "persist_docs",
        "pre-hook",
        "post-hook",
        "pre_hook",
        "post_hook",
        "quoting",
        "column_types",
        "full_refresh",
        "unique_key",
        "on_schema_change",
        "incremental_strategy",
        "grants",
        "packages",
        "contract",
        "group",
        "access",
        "severity",
        "warn_if",
        "error_if",
        "fail_calc",
        "where",
        "limit",
        "store_failures",
        "store_failures_as",
        "strategy",
        "updated_at",
        "check_cols",
        "target_schema",
        "target_database",
        "quote_columns",
        "delimiter",
        "event_time",
        "batch_size",
        "lookback",
        "begin",
        "on_configuration_change",
        "invalidate_hard_deletes",
        "hard_deletes",
        "snapshot_meta_column_names",
        "dbt_valid_to_current",
        "merge_update_columns",
        "merge_exclude_columns",
        "incremental_predicates",
        "partition_by",
        "cluster_by",
        "file_format",
        "location_root",
        "clustered_by",
        "buckets",
        "freshness",
        "loaded_at_field",
        "concurrent_batches",
    }
)

_DEFAULT_MATERIALIZED = {
    "model": "view",
    "seed": "seed",
    "snapshot": "snapshot",
    "test": "test",
    "analysis": "view",
    "operation": "view",
}


def normalize_key(key: str) -> str:
    """dbt spells hooks with a dash; accept `post_hook` as written in config() calls."""
    if key in ("pre_hook", "post_hook"):
        return key.replace("_", "-")
    return key


def defaults_for(resource_type: str) -> dict[str, Any]:
    """The config every node of a resource type starts from."""
    out: dict[str, Any] = {
        "enabled": True,
        "tags": [],
        "meta": {},
        "pre-hook": [],
        "post-hook": [],
        "persist_docs": {},
        "quoting": {},
        "column_types": {},
        "docs": {"show": True, "node_color": None},
    }
    materialized = _DEFAULT_MATERIALIZED.get(resource_type)
    if materialized:
        out["materialized"] = materialized
    if resource_type == "test":
        out.update(
            {
                "severity": "ERROR",
                "fail_calc": "count(*)",
                "warn_if": "!= 0",
                "error_if": "!= 0",
                "store_failures": None,
                "store_failures_as": None,
                "where": None,
                "limit": None,
            }
        )
        for key in ("pre-hook", "post-hook", "persist_docs", "quoting", "column_types"):
            out.pop(key, None)
    if resource_type == "model":
        out["on_schema_change"] = "ignore"
    return out


def merge_config(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Apply `overrides` on top of `base` with dbt's append/update/replace rules (in place).

    Example:
        >>> merge_config({"tags": ["a"], "meta": {"x": 1}}, {"tags": "b", "meta": {"y": 2}})
        {'tags': ['a', 'b'], 'meta': {'x': 1, 'y': 2}}
    """
    for raw_key, value in overrides.items():
        key = normalize_key(raw_key)
        if key in APPEND_KEYS:
            items = value if isinstance(value, list) else [value]
            merged = list(base.get(key) or [])
            for item in items:
                if key != "tags" or item not in merged:
                    merged.append(item)
            base[key] = merged
        elif key in UPDATE_KEYS and isinstance(value, dict):
            base[key] = {**(base.get(key) or {}), **value}
        else:
            base[key] = value
    return base


def tree_configs(tree: Mapping[str, Any], path: Iterable[str]) -> list[dict[str, Any]]:
    """Configs set in a project tree along a path (package, folders..., name), outer first.

    Example:
        >>> tree = {"shop": {"+tags": ["x"], "staging": {"+materialized": "view"}}}
        >>> tree_configs(tree, ["shop", "staging", "stg_a"])
        [{'tags': ['x']}, {'materialized': 'view'}]
    """
    found: list[dict[str, Any]] = []
    level: Any = tree
    for part in path:
        if not isinstance(level, Mapping):
            break
        level = level.get(part)
        if not isinstance(level, Mapping):
            break
        own = _own_configs(level)
        if own:
            found.append(own)
    return found


def _own_configs(level: Mapping[str, Any]) -> dict[str, Any]:
    own: dict[str, Any] = {}
    for key, value in level.items():
        if not isinstance(key, str):
            continue
        if key.startswith("+"):
            own[key[1:]] = value
        elif key in KNOWN_CONFIG_KEYS and not _looks_like_folder(key, value):
            own[key] = value
    return own


def _looks_like_folder(key: str, value: Any) -> bool:
    # `tags:` is never a folder, but e.g. `docs:` could be both; a nested mapping of
    # mappings is read as a folder.
    if not isinstance(value, Mapping):
        return False
    return key not in UPDATE_KEYS and key not in ("freshness",)
