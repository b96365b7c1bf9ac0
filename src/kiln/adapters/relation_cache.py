"""Which relations each schema holds: listed once, then kept current by Kiln's own DDL.

Asking the warehouse whether one relation exists costs a catalog scan (about 12 ms on a
DuckDB file of 1,000 tables), and building one model asks three times. So the threads of
a run share one listing per schema, and the adapter tells the cache about every statement
it runs (`Adapter._track`): a create, drop or rename Kiln wrote updates the listing; a
statement it cannot read (user SQL that may create or drop things) forgets them all, and
the next lookup lists the schema again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.adapters.relation import Relation

# (database, schema), both case-folded; database is "" where the engine has no catalogs.
SchemaKey = tuple[str, str]


class RelationCache:
    """Relations by schema and case-folded identifier, shared by every thread of a run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._schemas: dict[SchemaKey, dict[str, list[Relation]]] = {}
        # Bumped by every change, so a listing taken before a change is not stored after it.
        self._version = 0

    @property
    def version(self) -> int:
        """Read it before listing a schema and pass it to `store`."""
        return self._version

    def named(self, key: SchemaKey, identifier: str) -> list[Relation] | None:
        """The relations of a schema whose identifier matches case-insensitively.

        Returns:
            The matches (possibly none), or None when the schema has not been listed.
        """
        with self._lock:
            listing = self._schemas.get(key)
            return None if listing is None else list(listing.get(identifier.casefold(), ()))

    def store(self, key: SchemaKey, relations: Iterable[Relation], version: int) -> None:
        """Record a listing of one schema taken at `version` (dropped if a change came since)."""
        listing: dict[str, list[Relation]] = {}
        for relation in relations:
            listing.setdefault(relation.identifier.casefold(), []).append(relation)
        with self._lock:
            if version == self._version:
                self._schemas[key] = listing

    def add(self, key: SchemaKey, relation: Relation) -> None:
        """A relation was created (it replaces one of exactly the same name)."""
        with self._lock:
            self._version += 1
            listing = self._schemas.get(key)
            if listing is None:
                return  # not listed yet: the first lookup will see it in the warehouse
            same = listing.setdefault(relation.identifier.casefold(), [])
            same[:] = [r for r in same if r.identifier != relation.identifier] + [relation]

    def remove(self, key: SchemaKey, identifier: str) -> None:
        """A relation was dropped."""
        with self._lock:
            self._version += 1
            listing = self._schemas.get(key)
            if listing is None:
                return
            folded = identifier.casefold()
            left = [r for r in listing.get(folded, ()) if r.identifier != identifier]
            if left:
                listing[folded] = left
            else:
                listing.pop(folded, None)

    def forget(self, key: SchemaKey) -> None:
        """A schema was dropped: list it again on next use."""
        with self._lock:
            self._version += 1
            self._schemas.pop(key, None)

    def clear(self) -> None:
        """Something changed that the cache cannot follow (user SQL, a rollback)."""
        with self._lock:
            self._version += 1
            self._schemas.clear()
