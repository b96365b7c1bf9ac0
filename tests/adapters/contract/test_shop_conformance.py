"""The conformance `shop` project builds on PostgreSQL with the same rows as on DuckDB.

Both builds run the same copy of the project. One macro is made portable first:
`cents_to_dollars` divides an integer by `100`, which PostgreSQL (like dbt-postgres)
computes as integer division, so the copy divides by `100.0` on both engines. Rows are
compared in the conformance suite's canonical text form (its `canonical()`), relation by
relation: the same relations, kinds, row counts and a checksum of the sorted rows.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kiln.adapters.base import Adapter, SchemaRef
from kiln.adapters.registry import create_adapter

from .conftest import PG_DSN

CONFORMANCE = Path("/work/shared/conformance")
SHOP = CONFORMANCE / "projects" / "shop"
SNAPSHOT_WALL_CLOCK = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not SHOP.is_dir(), reason="conformance projects not present"),
]


def portable_copy(dest: Path) -> Path:
    shutil.copytree(SHOP, dest, ignore=shutil.ignore_patterns("target", "*.duckdb", "logs"))
    macro = dest / "macros" / "cents_to_dollars.sql"
    text = macro.read_text(encoding="utf-8")
    assert "{{ column_name }} / 100 " in text, "the shop macro changed: update this test"
    macro.write_text(text.replace("{{ column_name }} / 100 ", "{{ column_name }} / 100.0 "))
    return dest


def profiles(target: dict[str, Any]) -> str:
    body = "\n".join(f"      {k}: {v}" for k, v in target.items())
    return f"shop:\n  target: dev\n  outputs:\n    dev:\n{body}\n"


def canonical_rows(adapter: Adapter, schema: str) -> dict[str, tuple[str, int, str]]:
    """relation -> (kind, row count, sha256 of the sorted canonical rows)."""
    sys.path.insert(0, str(CONFORMANCE))
    try:
        from dump_relations import NULL, SNAPSHOT_VALID_TO, canonical
    finally:
        sys.path.remove(str(CONFORMANCE))
    out = {}
    for relation in adapter.list_relations(SchemaRef(adapter.database, schema)):
        table = adapter.fetch(f"select * from {relation}")
        names = [n.lower() for n in table.column_names]
        snapshot = "dbt_scd_id" in names
        keep = [i for i, n in enumerate(names) if not (snapshot and n in SNAPSHOT_WALL_CLOCK)]
        lines = []
        for row in table.rows:
            cells = [canonical(row[i]) for i in keep]
            if snapshot:
                cells = [
                    "<set>" if names[i] == SNAPSHOT_VALID_TO and c != NULL else c
                    for i, c in zip(keep, cells, strict=True)
                ]
            lines.append("\x1f".join(cells))
        digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
        out[relation.identifier] = (relation.type or "", len(lines), digest)
    return out


def build(project: Path, target: dict[str, Any], run_kiln) -> None:
    (project / "profiles.yml").write_text(profiles(target), encoding="utf-8")
    result = run_kiln(["build", "--profiles-dir", str(project)], cwd=project)
    assert result.exit_code == 0, result.output


def test_shop_builds_on_postgres_with_the_rows_of_duckdb(postgres_database, tmp_path, run_kiln):
    duck_dir = portable_copy(tmp_path / "duck")
    pg_dir = portable_copy(tmp_path / "pg")
    duck_target = {"type": "duckdb", "path": str(duck_dir / "shop.duckdb"), "schema": "main"}
    pg_target = {"type": "postgres", **PG_DSN, "dbname": postgres_database, "schema": "main"}
    build(duck_dir, duck_target, run_kiln)
    build(pg_dir, {**pg_target, "threads": 4}, run_kiln)

    duck, pg = create_adapter(duck_target), create_adapter(pg_target)
    try:
        expected = canonical_rows(duck, "main")
        found = canonical_rows(pg, "main")
    finally:
        pg.drop_schema(SchemaRef(pg.database, "main"))
        duck.close()
        pg.close()
    assert sorted(found) == sorted(expected)
    assert len(expected) >= 15
    differing = {
        name: (expected[name], found[name]) for name in expected if found[name] != expected[name]
    }
    assert differing == {}, textwrap.shorten(repr(differing), 2000)
