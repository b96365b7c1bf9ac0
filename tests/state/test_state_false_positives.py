"""Fewer false positives than dbt: another target or another env var value for a schema,
alias or source location is not a change; editing the code that sets them is.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

FILES = {
    "dbt_project.yml": """\
        name: e2e
        version: "1.0.0"
        config-version: 2
        profile: e2e
        models:
          e2e:
            +schema: "{{ env_var('KILN_FP_SCHEMA', 'analytics') }}"
        """,
    "models/a.sql": (
        "{{ config(alias=env_var('KILN_FP_ALIAS', 'a_table'), materialized='table') }}\n"
        "select 1 as id\n"
    ),
    "models/b.sql": "{{ config(schema=target.name ~ '_b') }}\nselect * from {{ ref('a') }}\n",
    "models/c.sql": "select * from {{ source('raw', 'events') }}\n",
    "models/sources.yml": """\
        version: 2
        sources:
          - name: raw
            schema: "{{ target.schema }}_raw"
            tables:
              - name: events
        """,
}


def profiles(tmp_path):
    return textwrap.dedent(
        f"""\
        e2e:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{(tmp_path / "dev.duckdb").as_posix()}"
              schema: dev_schema
            prod:
              type: duckdb
              path: "{(tmp_path / "prod.duckdb").as_posix()}"
              schema: prod_schema
        """
    )


def modified(proj, state, *args):
    result = proj.run(
        "ls", "--state", str(state), "-s", "state:modified", "--output", "name", *args
    )
    assert result.exit_code == 0, result.output
    listed = {line.split()[-1] for line in result.stdout.splitlines() if line.strip()}
    return {name for name in listed if name in ("a", "b", "c", "raw.events")}


@pytest.fixture
def prod_state(project, tmp_path, monkeypatch):
    monkeypatch.setenv("KILN_FP_SCHEMA", "prod_analytics")
    monkeypatch.setenv("KILN_FP_ALIAS", "a_prod")
    proj = project({**FILES, "profiles.yml": profiles(tmp_path)})
    assert proj.run("parse", "--target", "prod").exit_code == 0
    state = tmp_path / "state"
    shutil.copytree(proj.root / "target", state)
    return proj, state


def test_switching_target_and_env_vars_is_not_a_change(prod_state, monkeypatch):
    proj, state = prod_state
    monkeypatch.setenv("KILN_FP_SCHEMA", "ci_analytics")
    monkeypatch.setenv("KILN_FP_ALIAS", "a_ci")
    assert modified(proj, state, "--target", "dev") == set()


def test_editing_the_config_expression_is_a_change(prod_state):
    proj, state = prod_state
    proj.write({"models/b.sql": "{{ config(schema=target.name ~ '_c') }}\nselect 1 as id\n"})
    assert modified(proj, state, "--target", "dev") == {"b"}


def test_editing_a_project_level_jinja_config_is_a_change(prod_state, monkeypatch):
    proj, state = prod_state
    text = (proj.root / "dbt_project.yml").read_text()
    proj.write({"dbt_project.yml": text.replace("KILN_FP_SCHEMA", "KILN_FP_OTHER")})
    # b sets its own schema, so the project-level one does not reach it
    assert modified(proj, state, "--target", "dev") == {"a", "c"}


def test_editing_a_source_location_is_a_change(prod_state):
    proj, state = prod_state
    text = (proj.root / "models/sources.yml").read_text()
    proj.write({"models/sources.yml": text.replace("_raw", "_landing")})
    assert modified(proj, state, "--target", "dev") == {"raw.events"}
