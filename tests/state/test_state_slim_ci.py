"""Slim CI end to end: build prod, keep its target/ as state, change one staging model,
then build only `state:modified+` in a CI database that defers to prod for the rest.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

from kiln.execute.compiler import DEFERRED_ATTR

FILES = {
    "dbt_project.yml": """\
        name: e2e
        version: "1.0.0"
        config-version: 2
        profile: e2e
        models:
          e2e:
            staging:
              +materialized: view
            marts:
              +materialized: table
        """,
    "seeds/raw_orders.csv": "id,customer_id,amount\n1,1,10\n2,1,20\n3,2,5\n",
    "seeds/raw_customers.csv": "id,name\n1,ann\n2,bob\n",
    "models/staging/stg_orders.sql": (
        "select id, customer_id, amount from {{ ref('raw_orders') }}\n"
    ),
    "models/staging/stg_customers.sql": "select id, name from {{ ref('raw_customers') }}\n",
    "models/marts/customer_totals.sql": """\
        select c.name, sum(o.amount) as total
        from {{ ref('stg_customers') }} c
        join {{ ref('stg_orders') }} o on o.customer_id = c.id
        group by c.name
        """,
    "models/marts/big_customers.sql": (
        "select name from {{ ref('customer_totals') }} where total > 20\n"
    ),
    "models/marts/customer_names.sql": "select name from {{ ref('stg_customers') }}\n",
    "models/schema.yml": """\
        version: 2
        models:
          - name: customer_totals
            columns:
              - name: name
                data_tests: [unique]
        """,
}


def profiles(tmp_path):
    prod, ci = tmp_path / "prod.duckdb", tmp_path / "ci.duckdb"
    return textwrap.dedent(
        f"""\
        e2e:
          target: prod
          outputs:
            prod:
              type: duckdb
              path: "{prod.as_posix()}"
              schema: main
              threads: 2
            ci:
              type: duckdb
              path: "{ci.as_posix()}"
              schema: main
              threads: 2
              attach:
                - path: "{prod.as_posix()}"
                  alias: prod
        """
    )


@pytest.fixture
def slim_ci(project, tmp_path):
    proj = project({**FILES, "profiles.yml": profiles(tmp_path)})
    built = proj.run("build", "--target", "prod")
    assert built.exit_code == 0, built.output
    state = tmp_path / "prod_state"
    shutil.copytree(proj.root / "target", state)
    return proj, state


def test_builds_exactly_the_changed_model_and_its_descendants(slim_ci, tmp_path, query_db):
    proj, state = slim_ci
    proj.write(
        {
            "models/staging/stg_orders.sql": (
                "select id, customer_id, amount * 2 as amount from {{ ref('raw_orders') }}\n"
            )
        }
    )
    result = proj.run(
        "build", "-s", "state:modified+", "--defer", "--state", str(state), "--target", "ci"
    )
    assert result.exit_code == 0, result.output
    statuses = proj.statuses()
    assert {uid for uid in statuses if not uid.startswith("test.")} == {
        "model.e2e.stg_orders",
        "model.e2e.customer_totals",
        "model.e2e.big_customers",
    }
    assert [uid.split(".")[2] for uid in statuses if uid.startswith("test.")] == [
        "unique_customer_totals_name"
    ]
    assert set(statuses.values()) <= {"success", "pass"}
    ci = tmp_path / "ci.duckdb"
    tables = query_db(
        ci,
        "select table_name from information_schema.tables "
        "where table_catalog = 'ci' order by table_name",
    )
    # never an unchanged parent: seeds and stg_customers stay in prod
    assert [t for (t,) in tables] == ["big_customers", "customer_totals", "stg_orders"]
    assert query_db(ci, "select name, total from main.customer_totals order by name") == [
        ("ann", 60),
        ("bob", 10),
    ]
    assert query_db(ci, "select name from main.big_customers") == [("ann",)]


def test_compiled_refs_point_at_prod_for_unbuilt_parents(slim_ci):
    proj, state = slim_ci
    changed = FILES["models/marts/customer_totals.sql"] + "-- a comment\n"
    proj.write({"models/marts/customer_totals.sql": changed})
    result = proj.run(
        "run", "-s", "state:modified", "--defer", "--state", str(state), "--target", "ci"
    )
    assert result.exit_code == 0, result.output
    (record,) = proj.run_results()["results"]
    code = record["compiled_code"]
    assert '"prod"."main"."stg_customers"' in code
    assert '"prod"."main"."stg_orders"' in code


def test_without_changes_nothing_is_built(slim_ci):
    proj, state = slim_ci
    result = proj.run(
        "build", "-s", "state:modified+", "--defer", "--state", str(state), "--target", "ci"
    )
    assert result.exit_code == 0, result.output
    assert proj.statuses() == {}


def test_favor_state_prefers_prod_even_where_ci_has_the_relation(slim_ci, tmp_path, query_db):
    proj, state = slim_ci
    defer = ["--defer", "--state", str(state), "--target", "ci"]
    assert proj.run("run", "-s", "stg_customers", *defer).exit_code == 0
    args = ["run", "-s", "customer_names", *defer]
    assert proj.run(*args).exit_code == 0
    (record,) = proj.run_results()["results"]
    assert '"ci"."main"."stg_customers"' in record["compiled_code"]
    assert proj.run(*args, "--favor-state").exit_code == 0
    (record,) = proj.run_results()["results"]
    assert '"prod"."main"."stg_customers"' in record["compiled_code"]


def test_defer_needs_state(project):
    proj = project({"models/a.sql": "select 1 as id"})
    result = proj.run("run", "--defer")
    assert result.exit_code == 2
    assert "--defer needs --state" in result.output


def test_deferred_attribute_name_is_shared_with_the_compiler():
    # the CLI fills the workspace attribute the compiler's resolver starts from
    assert DEFERRED_ATTR == "deferred_relations"
