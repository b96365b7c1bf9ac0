"""Relations (database.schema.identifier) and how they render."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EventTimeFilter:
    """The time window a `ref` or `source` is limited to inside a microbatch batch.

    `column` is the upstream's `event_time` config, written into the SQL as given (dbt
    does the same, so a config holding an expression or pre-quoted name keeps working).
    `start` and `end` are UTC and timezone-aware: they are rendered as dbt renders them,
    `'2024-01-02 00:00:00+00:00'`, which every supported engine casts to the column's type.
    `aliased`: the subquery gets dbt's alias (`_dbt_et_filter_subq_<name>`), for engines
    where a subquery in FROM must have one (`Capabilities.subquery_alias`).
    """

    column: str
    start: datetime | None = None
    end: datetime | None = None
    aliased: bool = False

    def condition(self) -> str:
        """The WHERE condition, `start` included and `end` excluded.

        Example:
            >>> from datetime import UTC
            >>> EventTimeFilter("ts", datetime(2024, 1, 2, tzinfo=UTC)).condition()
            "ts >= '2024-01-02 00:00:00+00:00'"
        """
        parts = []
        if self.start is not None:
            parts.append(f"{self.column} >= '{self.start.isoformat(sep=' ')}'")
        if self.end is not None:
            parts.append(f"{self.column} < '{self.end.isoformat(sep=' ')}'")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Relation:
    """A table or view in the warehouse.

    `type` is "table", "view", "external" or None when unknown. `quote_char` comes from
    the adapter's dialect; `include_database` is False where the engine has no catalogs.
    `event_time_filter` is set on the `ref`s and `source`s of a microbatch batch: the
    relation then prints (`str`, `{{ ref(...) }}`) as a subquery limited to the batch,
    while `render()` and every other use still name the unfiltered relation, which is how
    a model opts out (`{{ ref('x').render() }}`).
    """

    database: str | None
    schema: str | None
    identifier: str
    type: str | None = None
    quote_char: str = '"'
    include_database: bool = True
    quote_policy: tuple[bool, bool, bool] = (True, True, True)
    event_time_filter: EventTimeFilter | None = None

    def quoted(self, part: str) -> str:
        """One identifier in the adapter's quotes.

        Example:
            >>> Relation("db", "main", "x").quoted('we"ird')
            '"we""ird"'
        """
        q = self.quote_char
        return f"{q}{part.replace(q, q + q)}{q}"

    def render(self) -> str:
        """The fully qualified name, as dbt writes `relation_name`.

        Example:
            >>> Relation("shop_dev", "main", "orders").render()
            '"shop_dev"."main"."orders"'
        """
        parts: list[str] = []
        names = (self.database if self.include_database else None, self.schema, self.identifier)
        for name, quote in zip(names, self.quote_policy, strict=True):
            if name:
                parts.append(self.quoted(name) if quote else name)
        return ".".join(parts)

    def __str__(self) -> str:
        window = self.event_time_filter
        if window is None or (window.start is None and window.end is None):
            return self.render()
        return self.render_filtered(window)

    def render_filtered(self, window: EventTimeFilter) -> str:
        """The relation as a subquery of the rows in `window` (dbt's shape).

        Example:
            >>> from datetime import UTC
            >>> day = EventTimeFilter("ts", end=datetime(2024, 1, 3, tzinfo=UTC))
            >>> print(Relation("db", "main", "x").render_filtered(day))
            (select * from "db"."main"."x" where ts < '2024-01-03 00:00:00+00:00')
        """
        alias = f" _dbt_et_filter_subq_{self.identifier}" if window.aliased else ""
        return f"(select * from {self.render()} where {window.condition()}){alias}"

    def incorporate(self, **changes: object) -> Relation:
        """A copy with some fields changed (dbt's `relation.incorporate`)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"
