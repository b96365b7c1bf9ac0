"""`build` ordering: who waits for whom, with data tests and unit tests in the graph."""

from __future__ import annotations

from types import SimpleNamespace

from kiln.execute.tasks import build_waits, runnable_ids
from kiln.manifest import Graph, Manifest, Node, UnitTest


def node(kind: str, name: str, *deps: str) -> Node:
    return Node(
        unique_id=f"{kind}.p.{name}", resource_type=kind, package_name="p", name=name,
        path=f"{name}.sql", original_file_path=f"models/{name}.sql", fqn=["p", name],
        depends_on_nodes=[f"model.p.{d}" if "." not in d else d for d in deps],
    )  # fmt: skip


def workspace(*nodes: Node, units: tuple[UnitTest, ...] = ()) -> SimpleNamespace:
    manifest = Manifest(project_name="p")
    manifest.nodes = {n.unique_id: n for n in nodes}
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
