"""`kiln build`: tests run right after what they test, and a failing test skips its children.

dbt's rule: a node waits for every test whose parents are all among its ancestors; when such
a test fails (not warns), the node and everything below it are skipped.
"""

from __future__ import annotations

YML = """\
models:
  - name: a
    columns:
      - name: id
        data_tests: [unique]
  - name: x
    columns:
      - name: id
        data_tests:
          - relationships:
              arguments: {to: ref('a'), field: id}
          - accepted_values:
              arguments: {values: [5], quote: false}
              config: {severity: warn}
  - name: child_a
    columns:
      - name: id
        data_tests: [not_null]
"""

FILES = {
    "seeds/s1.csv": "id\n1\n1\n",
    "seeds/s2.csv": "id\n2\n",
    "models/a.sql": "select * from {{ ref('s1') }}",
    "models/x.sql": "select * from {{ ref('s2') }}",
    "models/child_a.sql": "select * from {{ ref('a') }}",
    "models/grandchild.sql": "select * from {{ ref('child_a') }}",
    "models/child_x.sql": "select * from {{ ref('x') }}",
    "models/child_ax.sql": "select a.id from {{ ref('a') }} a join {{ ref('x') }} x using (id)",
    "models/d.sql": "select 1 as id",
    "models/schema.yml": YML,
}


def short(uid: str) -> str:
    kind, _, name = uid.split(".")[:3]
    return name if kind != "test" else name.split("_")[0] + ":" + name


def test_failing_test_skips_exactly_the_nodes_below_all_its_parents(project):
    proj = project(FILES)

    result = proj.run("build", "--threads", "1")

    assert result.exit_code == 1, result
    statuses = {short(uid): status for uid, status in proj.statuses().items()}
    assert statuses == {
        "s1": "success",
        "s2": "success",
        "a": "success",
        "x": "success",
        "d": "success",
        "unique:unique_a_id": "fail",
        "relationships:relationships_x_id__id__ref_a_": "fail",
        "accepted:accepted_values_x_id__False__5": "warn",
        # below a (unique failed): skipped
        "child_a": "skipped",
        "grandchild": "skipped",
        "not:not_null_child_a_id": "skipped",
        "child_ax": "skipped",
        # below x only: the relationships test also needs a, the warning skips nothing
        "child_x": "success",
    }
    assert "SKIP=4" in result.output


def test_tests_run_before_the_children_of_what_they_test(project):
    proj = project(FILES)

    proj.run("build", "--threads", "1")

    order = [short(r["unique_id"]) for r in proj.run_results()["results"]]
    assert order.index("unique:unique_a_id") > order.index("a")
    assert order.index("accepted:accepted_values_x_id__False__5") < order.index("child_x")
    # a test waits only for its own parents: a's unique test does not wait for x's seed
    assert order.index("unique:unique_a_id") < order.index("child_x")


def test_run_ignores_tests_and_test_runs_only_tests(project):
    proj = project({**FILES, "seeds/s1.csv": "id\n1\n"})
    assert proj.run("seed").exit_code == 0
    assert proj.run("run").exit_code == 0
    assert all(uid.startswith("model.") for uid in proj.statuses())

    result = proj.run("test", "-s", "a")
    assert result.exit_code == 1, result  # the relationships test (x -> a) comes along
    assert {short(u): s for u, s in proj.statuses().items()} == {
        "unique:unique_a_id": "pass",
        "relationships:relationships_x_id__id__ref_a_": "fail",
    }
