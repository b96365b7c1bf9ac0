"""The `adapter` object in Jinja: an explicit allow-list of adapter methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.adapters.relation import Relation
from kiln.jinja.table import Table

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.jinja.macros import RenderScope


class JinjaAdapter:
    """`adapter.*` for templates. At parse time (`adapter is None`) introspection is a no-op."""

    def __init__(
        self, adapter: Adapter | None, adapter_type: str, scope: RenderScope, quote_char: str = '"'
    ) -> None:
        self._adapter = adapter
        self._type = adapter_type
        self._scope = scope
        self._quote_char = quote_char

    def type(self) -> str:
        return self._type

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, **_: Any) -> Any:
        macro = self._scope.registry.dispatch(macro_name, self._type, macro_namespace)
        return self._scope.proxy(macro)

    def quote(self, identifier: str) -> str:
        q = self._quote_char
        return f"{q}{identifier}{q}"

    def quote_as_configured(self, identifier: str, quote_key: str = "identifier") -> str:
        return self.quote(identifier)

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Any:
        if self._adapter is None:
            return None
        return self._adapter.get_relation(database, schema, identifier)

    def load_relation(self, relation: Relation) -> Any:
        return self.get_relation(relation.database, relation.schema, relation.identifier)

    def get_columns_in_relation(self, relation: Relation) -> list[Any]:
        if self._adapter is None:
            return []
        return list(self._adapter.get_columns(relation))

    def list_relations_without_caching(self, schema_relation: Relation) -> list[Any]:
        if self._adapter is None:
            return []
        from kiln.adapters.base import SchemaRef

        return list(self._adapter.list_relations(SchemaRef.of(schema_relation)))

    def execute(self, sql: str, auto_begin: bool = False, fetch: bool = False) -> tuple[Any, Table]:
        if self._adapter is None:
            return None, Table([], [])
        response, result = self._adapter.execute(sql, fetch=fetch)
        table = Table(result.column_names, result.rows) if result is not None else Table([], [])
        return response, table

    def drop_relation(self, relation: Relation) -> None:
        if self._adapter is not None:
            self._adapter.drop_relation(relation)

    def create_schema(self, relation: Relation) -> None:
        if self._adapter is not None:
            self._adapter.create_schema(relation)

    def commit(self) -> None:
        if self._adapter is not None:
            self._adapter.commit()

    def already_exists(self, schema: str, name: str) -> bool:
        return self.get_relation(None, schema, name) is not None
