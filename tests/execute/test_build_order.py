"""`build` ordering: who waits for whom, with data tests and unit tests in the graph."""

from __future__ import annotations

from types import SimpleNamespace

from kiln.execute.tasks import build_waits, runnable_ids
from kiln.manifest import Graph, Manifest, Node, SourceDefinition, UnitTest


def node(kind: str, name: str, *deps: str) -> Node:
    return Node(
        unique_id=f"{kind}.p.{name}", resource_type=kind, package_name="p", name=name,
        path=f"{name}.sql", original_file_path=f"models/{name}.sql", fqn=["p", name],
        depends_on_nodes=[f"model.p.{d}" if "." not in d else d for d in deps],
    )  # fmt: skip


def workspace(
    *nodes: Node, units: tuple[UnitTest, ...] = (), sources: tuple[SourceDefinition, ...] = ()
) -> SimpleNamespace:
    manifest = Manifest(project_name="p")
    manifest.nodes = {n.unique_id: n for n in nodes}
    manifest.sources = {s.unique_id: s for s in sources}
    manifest.unit_tests = {u.unique_id: u for u in units}
    return SimpleNamespace(manifest=manifest, graph=Graph.from_manifest(manifest))


def unit(model: str) -> UnitTest:
    return UnitTest(
        unique_id=f"unit_test.p.{model}.t", name="t", package_name="p", path="u.yml",
        original_file_path="models/u.yml", fqn=["p", model, "t"], model=model,
        depends_on_nodes=[f"model.p.{model}"],
    )  # fmt: skip


GRAPH = (
    node("model", "a"),
    node("model", "x"),
    node("model", "child_a", "a"),
    node("model", "child_ax", "a", "x"),
    node("test", "unique_a", "a"),
    node("test", "rel_a_x", "a", "x"),
)


def test_a_node_waits_for_tests_whose_parents_are_all_its_ancestors():
    ws = workspace(*GRAPH)
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "build")

    waits = build_waits(ws, ids, "build")

    assert waits["model.p.child_a"] == {"model.p.a", "test.p.unique_a"}
    assert waits["model.p.child_ax"] == {
        "model.p.a", "model.p.x", "test.p.unique_a", "test.p.rel_a_x",
    }  # fmt: skip
    assert waits["test.p.rel_a_x"] == {"model.p.a", "model.p.x"}


def test_run_and_test_commands_add_no_test_edges():
    ws = workspace(*GRAPH)
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "run")
    assert build_waits(ws, ids, "run")["model.p.child_a"] == {"model.p.a"}


def test_tests_are_ordered_right_after_what_they_test():
    ws = workspace(*GRAPH)
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "build")
    assert ids.index("test.p.unique_a") == ids.index("model.p.a") + 1


def test_a_model_waits_for_its_unit_tests_which_wait_for_its_parents():
    ws = workspace(*GRAPH, units=(unit("child_a"),))
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes) | {"unit_test.p.child_a.t"}, "build")

    waits = build_waits(ws, ids, "build")

    assert ids.index("unit_test.p.child_a.t") < ids.index("model.p.child_a")
    assert waits["unit_test.p.child_a.t"] == {"model.p.a", "test.p.unique_a"}
    assert "unit_test.p.child_a.t" in waits["model.p.child_a"]


def source(name: str, schema: str = "main") -> SourceDefinition:
    return SourceDefinition(
        unique_id=f"source.p.raw.{name}", package_name="p", source_name="raw", name=name,
        path="s.yml", original_file_path="models/s.yml", fqn=["p", "raw", name],
        identifier=name, schema=schema,
    )  # fmt: skip


def relation(kind: str, name: str, *deps: str, schema: str = "main") -> Node:
    built = node(kind, name, *deps)
    built.schema, built.alias = schema, name
    return built


SEEDED_SOURCE = (
    relation("seed", "customers"),
    node("test", "not_null_raw_customers", "source.p.raw.customers"),
    relation("model", "stg_customers", "source.p.raw.customers"),
)


def test_readers_of_a_source_wait_for_the_seed_that_loads_its_table():
    ws = workspace(*SEEDED_SOURCE, sources=(source("customers"),))
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "build")

    waits = build_waits(ws, ids, "build")

    assert "seed.p.customers" in waits["test.p.not_null_raw_customers"]
    assert "seed.p.customers" in waits["model.p.stg_customers"]
    # ordering only: the manifest's graph keeps dbt's edges
    assert ws.graph.parents["model.p.stg_customers"] == ("source.p.raw.customers",)


def test_a_source_in_another_schema_adds_no_wait():
    ws = workspace(*SEEDED_SOURCE, sources=(source("customers", schema="raw"),))
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "build")

    waits = build_waits(ws, ids, "build")

    assert waits["test.p.not_null_raw_customers"] == set()
    assert waits["model.p.stg_customers"] == {"test.p.not_null_raw_customers"}


def test_no_wait_on_itself_or_on_a_descendant():
    ws = workspace(
        relation("model", "events", "source.p.raw.events", "source.p.raw.events_copy"),
        relation("model", "events_copy", "model.p.events"),
        sources=(source("events"), source("events_copy")),
    )
    ids = runnable_ids(ws, frozenset(ws.manifest.nodes), "run")

    waits = build_waits(ws, ids, "run")

    assert waits["model.p.events"] == set()
    assert waits["model.p.events_copy"] == {"model.p.events"}
