"""Model configs that shape a table's physical layout, and the node a statement serves.

`partition_by`, `cluster_by`, `clustered_by`/`buckets`, `file_format` and `location_root`
mean something on some engines only. An adapter lists the ones it honours in
`Capabilities.table_options`; `TableOptions.from_config` reads them all, and
`Adapter.table_options` keeps the honoured ones and logs the others as ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from kiln.errors import ConfigError

# Every layout config Kiln knows, in the order they are reported.
LAYOUT_CONFIGS = ("file_format", "partition_by", "cluster_by", "clustered_by", "location_root")


@dataclass(frozen=True, slots=True)
class TableOptions:
    """Physical layout of a table built by a model.

    Attributes:
        file_format: storage format (`parquet`, `delta`, ...), where the engine has them.
        partition_by: partition columns.
        cluster_by: clustering columns (ordering inside files).
        clustered_by: bucketing columns (Spark's `CLUSTERED BY ... INTO n BUCKETS`).
        buckets: the number of buckets for `clustered_by`.
        location_root: a folder under which the table's files are written.
    """

    file_format: str | None = None
    partition_by: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    clustered_by: tuple[str, ...] = ()
    buckets: int | None = None
    location_root: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TableOptions:
        """Read the layout configs of a model.

        Example:
            >>> TableOptions.from_config({"partition_by": "day", "file_format": "parquet"})
            TableOptions(file_format='parquet', partition_by=('day',), cluster_by=(), \
clustered_by=(), buckets=None, location_root=None)

        Raises:
            ConfigError: `clustered_by` without a positive `buckets`.
        """
        options = cls(
            file_format=_text(config.get("file_format")),
            partition_by=column_list(config.get("partition_by")),
            cluster_by=column_list(config.get("cluster_by")),
            clustered_by=column_list(config.get("clustered_by")),
            buckets=_buckets(config.get("buckets")),
            location_root=_text(config.get("location_root")),
        )
        if options.clustered_by and not options.buckets:
            raise ConfigError(
                "clustered_by needs a number of buckets",
                hint="set buckets: <n> next to clustered_by",
            )
        return options

    def set_names(self) -> list[str]:
        """The configs this object sets (`buckets` goes with `clustered_by`)."""
        return [name for name in LAYOUT_CONFIGS if getattr(self, name)]

    def keep(self, honoured: frozenset[str]) -> TableOptions:
        """A copy with only the honoured configs set."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            owner = "clustered_by" if f.name == "buckets" else f.name
            if owner not in honoured:
                changes[f.name] = f.default
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class NodeContext:
    """The node whose statements a thread is running (for cost attribution and layout)."""

    node_id: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The node's name: the last part of its unique_id.

        Example:
            >>> NodeContext("model.shop.fct_orders").name
            'fct_orders'
        """
        return self.node_id.rsplit(".", 1)[-1]


def column_list(value: Any) -> tuple[str, ...]:
    """Columns from a config that takes a name, a list, or BigQuery's `{field: ...}`.

    Example:
        >>> column_list("day"), column_list(["a", "b"]), column_list({"field": "ts"})
        (('day',), ('a', 'b'), ('ts',))
    """
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping):
        return column_list(value.get("field"))
    return tuple(str(v) for v in value)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _buckets(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        count = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"buckets must be a whole number, got {value!r}") from exc
    if count <= 0:
        raise ConfigError(f"buckets must be positive, got {count}")
    return count
