"""Relations (database.schema.identifier) and how they render."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Relation:
    """A table or view in the warehouse.

    `type` is "table", "view", "external" or None when unknown. `quote_char` comes from
    the adapter's dialect; `include_database` is False where the engine has no catalogs.
    """

    database: str | None
    schema: str | None
    identifier: str
    type: str | None = None
    quote_char: str = '"'
    include_database: bool = True
    quote_policy: tuple[bool, bool, bool] = (True, True, True)

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
        return self.render()

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
