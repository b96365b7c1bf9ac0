"""The relation cache's own rules, and which user SQL keeps it."""

from __future__ import annotations

import pytest

from kiln.adapters.base import _reads_only
from kiln.adapters.relation import Relation
from kiln.adapters.relation_cache import RelationCache

KEY = ("db", "main")


def test_unlisted_schema_is_unknown_and_changes_to_it_are_ignored() -> None:
    cache = RelationCache()
    assert cache.named(KEY, "x") is None
    cache.add(KEY, Relation("db", "main", "x", "table"))
    assert cache.named(KEY, "x") is None


def test_lookups_fold_case_and_keep_exact_names() -> None:
    cache = RelationCache()
    cache.store(KEY, [Relation("db", "main", "Orders", "table")], cache.version)
    assert [r.identifier for r in cache.named(KEY, "orders") or []] == ["Orders"]
    cache.add(KEY, Relation("db", "main", "orders", "view"))
    assert sorted((r.identifier, r.type) for r in cache.named(KEY, "ORDERS") or []) == [
        ("Orders", "table"),
        ("orders", "view"),
    ]
    cache.remove(KEY, "Orders")
    assert [r.identifier for r in cache.named(KEY, "orders") or []] == ["orders"]


def test_a_listing_taken_before_a_change_is_not_stored() -> None:
    cache = RelationCache()
    version = cache.version
    cache.add(("db", "other"), Relation("db", "other", "y", "table"))  # another thread's DDL
    cache.store(KEY, [], version)
    assert cache.named(KEY, "x") is None
    cache.store(KEY, [], cache.version)
    assert cache.named(KEY, "x") == []


def test_forget_and_clear_drop_listings() -> None:
    cache = RelationCache()
    cache.store(KEY, [], cache.version)
    cache.store(("db", "other"), [], cache.version)
    cache.forget(KEY)
    assert cache.named(KEY, "x") is None
    assert cache.named(("db", "other"), "x") == []
    cache.clear()
    assert cache.named(("db", "other"), "x") is None


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("select 1", True),
        ("  -- a comment\n/* and another */ WITH x AS (select 1) select * from x", True),
        ("show tables", True),
        ("select 1 into new_table", False),
        ("create table t as select 1", False),
        ("drop view v", False),
        ("/* unterminated", False),
        ("insert into t select 1", False),
    ],
)
def test_only_plain_queries_keep_the_cache(sql: str, reads: bool) -> None:
    assert _reads_only(sql) is reads
