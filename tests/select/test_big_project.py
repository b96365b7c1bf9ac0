"""Selection on a big project (10,000 records) agrees with a plain scan of the records.

The lookup tables of `NodeIndex` group records (by fqn folder, file, config value, ...)
and decide most of a query per group. These tests check the grouped answers against
the per-record rules (`fqn_matches`, `path_glob_match`, ...) applied to every record,
and that tables reused across expressions answer as fresh ones do.

Speed is measured with the benchmark (`python bench/bench_select.py --models 10000`),
not here: a timed test fails on a busy machine, a benchmark reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import pytest
from select_factories import (
    graph_of,
    make_exposure,
    make_manifest,
    make_model,
    make_seed,
    make_source,
    make_test,
)

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest, SourceDefinition
from kiln.select import NodeIndex, select_nodes
from kiln.select.methods import config_value_matches
from kiln.select.patterns import fqn_matches, normalize_path_pattern, path_glob_match

MODELS, FOLDERS, SOURCES, SEEDS = 2440, 24, 100, 200
Record = Any


def _model(i: int) -> Any:
    folder = f"f{i % FOLDERS}"
    if i < SOURCES:
        deps = [f"source.shop.raw.s{i}", f"seed.shop.seed{i % SEEDS}"]
    else:
        deps = [f"model.shop.m{(i * 7 + k) % i}" for k in range(1 + i % 3)]
    return make_model(
        f"m{i}", folder=folder, depends_on=deps, tags=(f"t{i % 10}", folder),
        config={"materialized": ("view", "table", "incremental")[i % 3]},
        patch=f"models/{folder}/_schema.yml",
    )  # fmt: skip


def _tests(i: int) -> list[Any]:
    yml = f"models/f{i % FOLDERS}/_schema.yml"
    own = f"model.shop.m{i}"
    tests = [
        make_test(f"{kind}_m{i}_id", f"{i:010d}", depends_on=[own], yml=yml, test_name=kind)
        for kind in ("unique", "not_null")
    ]
    if i >= SOURCES:
        other = f"model.shop.m{(i * 7) % i}"
        parents = sorted({own, other})
        name, kind = f"relationships_m{i}", "relationships"
        tests.append(make_test(name, f"{i:010d}", yml=yml, depends_on=parents, test_name=kind))
    return tests


@cache
def big_project() -> tuple[Manifest, Graph]:
    records: list[Any] = [make_source("raw", f"s{i}", yml="models/_sources.yml") for i in
                          range(SOURCES)]  # fmt: skip
    records += [make_seed(f"seed{i}", tags=("raw",)) for i in range(SEEDS)]
    for i in range(MODELS):
        records += [_model(i), *_tests(i)]
    records += [
        make_exposure(f"e{i}", yml="models/_exposures.yml", depends_on=[f"model.shop.m{i * 20}"])
        for i in range(100)
    ]
    manifest = make_manifest(*records)
    return manifest, graph_of(manifest)


@cache
def _records() -> dict[str, Record]:
    manifest, _ = big_project()
    return {**manifest.nodes, **manifest.sources, **manifest.exposures}


def _select(expression: str, index: NodeIndex | None = None, **options: Any) -> frozenset[str]:
    manifest, graph = big_project()
    return select_nodes(
        manifest, graph, select=[expression], resource_types=["all"], index=index, **options
    )


def _scan(keep: Callable[[Record], bool]) -> set[str]:
    return {uid for uid, rec in _records().items() if keep(rec)}


def test_the_big_project_has_10000_records() -> None:
    assert len(_records()) >= 10_000


# ---- every method's grouped answer equals the per-record rule -------------------------


@pytest.mark.parametrize(
    "selector",
    ["m1200", "f7", "shop.f7", "f7.m31", "shop.f7.m31", "f8.m32", "e3", "seed42", "shop",
     "m1*", "f1*", "shop.f2.*", "f2.*", "*.m2?", "e1?", "*_m12_id", "shop.*.unique_m1*", "f[12].*"],
)  # fmt: skip
def test_fqn_lookup_agrees_with_the_rule_for_each_record(selector: str) -> None:
    expected = _scan(
        lambda rec: not isinstance(rec, SourceDefinition) and fqn_matches(rec.fqn, selector)
    )
    assert expected
    assert _select(f"fqn:{selector}", indirect_selection="empty") == expected


def _in_path(pattern: Sequence[str], path: str, *, with_folders: bool) -> bool:
    parts = path.split("/")
    ends = range(len(parts)) if with_folders else ()
    return path_glob_match(parts, pattern) or any(path_glob_match(parts[:e], pattern) for e in ends)


@pytest.mark.parametrize(
    "value",
    ["models/f7", "models/f7/m31.sql", "models/f7/_schema.yml", "models", "seeds", "tests",
     "models/*", "models/f1*", "models/*/m2*.sql", "models/*/_*.yml", "models/**/m1?.sql", "*"],
)  # fmt: skip
def test_path_lookup_agrees_with_a_glob_of_each_record(value: str) -> None:
    pattern = normalize_path_pattern(value)

    def keep(rec: Record) -> bool:
        patch = (getattr(rec, "patch_path", None) or "").split("://")[-1]
        in_file = _in_path(pattern, rec.original_file_path, with_folders=True)
        return in_file or bool(patch) and _in_path(pattern, patch, with_folders=False)

    assert _select(f"path:{value}", indirect_selection="empty") == _scan(keep)


def _config(key: str, value: str) -> Callable[[Record], bool]:
    manifest, _ = big_project()
    owners = manifest.nodes.keys() | manifest.sources.keys()
    return lambda rec: rec.unique_id in owners and config_value_matches(rec.config.get(key), value)


@pytest.mark.parametrize(
    ("expression", "keep"),
    [
        ("tag:t3", lambda rec: "t3" in rec.tags),
        ("tag:f1*", lambda rec: any(tag.startswith("f1") for tag in rec.tags)),
        ("config.materialized:table", _config("materialized", "table")),
        ("config.tags:f3", _config("tags", "f3")),
        ("config.enabled:true", _config("enabled", "true")),
        ("config.severity:error", lambda rec: rec.config.get("severity") == "ERROR"),
        ("test_type:generic", lambda rec: getattr(rec, "test_metadata", None) is not None),
        ("test_name:relationships", lambda rec: rec.name.startswith("relationships_")),
        ("file:m42.sql", lambda rec: rec.original_file_path.endswith("/m42.sql")),
        ("file:_schema", lambda rec: rec.original_file_path.endswith("/_schema.yml")),
        ("source:raw.s1*", lambda rec: rec.unique_id.startswith("source.shop.raw.s1")),
        ("exposure:e9*", lambda rec: rec.resource_type == "exposure" and rec.name[:2] == "e9"),
        ("package:shop", lambda rec: True),
        ("resource_type:seed", lambda rec: rec.resource_type == "seed"),
    ],
)
def test_method_lookup_agrees_with_a_scan(expression: str, keep: Callable[[Record], bool]) -> None:
    expected = _scan(keep)
    assert expected
    assert _select(expression, indirect_selection="empty") == expected


# ---- graph operators and indirect selection equal a walk of the records ---------------


def _closure(start: Iterable[str], step: Callable[[str], Iterable[str]], depth: int) -> set[str]:
    found, frontier = set(start), set(start)
    for _ in range(depth):
        frontier = {other for uid in frontier for other in step(uid)} - found
        found |= frontier
    return found


def _parents(uid: str) -> list[str]:
    return list(getattr(_records()[uid], "depends_on_nodes", ()))


@cache
def _children_of() -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for uid, rec in _records().items():
        for parent in getattr(rec, "depends_on_nodes", ()):
            children.setdefault(parent, []).append(uid)
    return children


def _children(uid: str) -> list[str]:
    return _children_of().get(uid, [])


def _tests_on(selected: set[str], *, every_parent: bool) -> set[str]:
    check = all if every_parent else any
    tests = _scan(lambda rec: rec.resource_type == "test")
    return {uid for uid in tests if check(p in selected for p in _parents(uid))}


ALL = 10_000
M = "model.shop.m"


@pytest.mark.parametrize(
    ("expression", "ancestors", "descendants"),
    [
        ("+m2000", [(M + "2000", ALL)], []),
        ("m150+", [], [(M + "150", ALL)]),
        ("m1+", [], [(M + "1", ALL)]),
        ("2+m2101+2", [(M + "2101", 2)], [(M + "2101", 2)]),
        ("source:raw.s7+1", [], [("source.shop.raw.s7", 1)]),
    ],
)
def test_graph_operators_agree_with_a_walk(
    expression: str, ancestors: list[tuple[str, int]], descendants: list[tuple[str, int]]
) -> None:
    grown: set[str] = set()
    for uid, depth in ancestors:
        grown |= _closure([uid], _parents, depth)
    for uid, depth in descendants:
        grown |= _closure([uid], _children, depth)
    assert _select(expression, indirect_selection="empty") == grown
    assert _select(expression) == grown | _tests_on(grown, every_parent=False)


def test_at_is_the_descendants_and_all_their_ancestors() -> None:
    below = _closure([M + "2", "model.shop.m3"], _children, ALL)
    expected = _closure(below, _parents, ALL)
    assert _select("@m2 @m3", indirect_selection="empty") == expected


@pytest.mark.parametrize("mode", ["eager", "cautious"])
def test_indirect_selection_agrees_with_a_scan(mode: str) -> None:
    models = _scan(lambda rec: rec.resource_type == "model" and {"f2", "f3"} & set(rec.tags))
    tests = _tests_on(models, every_parent=mode == "cautious")
    assert _select("tag:f2 tag:f3", indirect_selection=mode) == models | tests


# ---- tables: shared like fresh, built on demand ---------------------------------------

EXPRESSIONS = [
    "m1200", "+m2000", "m150+", "@m2300", "2+m2100+2", "tag:t3", "tag:t1,tag:f3", "m1*", "f7",
    "path:models/f7", "path:models/*/m2*.sql", "file:m42.sql", "config.materialized:table",
    "test_type:generic,tag:t2", "test_name:relationships", "source:raw.*+1",
    "m1 m2 m3 m4 m5 exposure:*",
]  # fmt: skip


def test_tables_shared_across_expressions_answer_as_fresh_ones() -> None:
    fresh = {expression: _select(expression) for expression in EXPRESSIONS}
    manifest, _ = big_project()
    shared = NodeIndex(manifest)
    for expression in [*EXPRESSIONS, *reversed(EXPRESSIONS)]:
        assert _select(expression, index=shared) == fresh[expression], expression


def test_a_selection_builds_only_the_tables_it_needs() -> None:
    manifest, _ = big_project()
    index = NodeIndex(manifest)
    _select("m1200+", index=index)
    built = set(vars(index))
    assert "fqn_table" in built
    assert not built & {"tags", "files", "file_folders", "patches", "packages", "test_names"}
    # a few ids are checked one by one, without a table over the whole project
    assert not built & {"members", "member_ids", "resource_types"}
