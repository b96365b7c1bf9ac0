"""`state:modified.vars` and the `kiln_state_modified_includes_vars` opt-in.

By default `state:modified` keeps dbt's behaviour (a changed var is not a change); the
`.vars` sub-selector, and `state:modified` in a project that opts in, see it. Values are
compared through kiln_state.json, written next to manifest.json.
"""

from __future__ import annotations

import json
import shutil

import pytest

PROJECT = """\
name: e2e
version: "1.0.0"
config-version: 2
profile: e2e
vars:
  threshold: 10
  region: eu
"""
OPT_IN = "flags:\n  kiln_state_modified_includes_vars: true\n"

FILES = {
    "dbt_project.yml": PROJECT,
    "macros/limit.sql": "{% macro region_filter() %}region = '{{ var('region') }}'{% endmacro %}",
    "models/direct.sql": "select {{ var('threshold') }} as t\n",
    "models/via_macro.sql": "select 1 as id where {{ region_filter() }}\n",
    "models/hooked.sql": (
        "{{ config(post_hook=\"select {{ var('threshold') }}\") }}\nselect 1 as id\n"
    ),
    "models/plain.sql": "select 1 as id\n",
}


@pytest.fixture
def prod_state(project, tmp_path):
    def make(opt_in: bool = False):
        files = dict(FILES)
        if opt_in:
            files["dbt_project.yml"] = PROJECT + OPT_IN
        proj = project(files)
        assert proj.run("parse").exit_code == 0
        state = tmp_path / "state"
        shutil.copytree(proj.root / "target", state)
        return proj, state

    return make


def names(proj, state, selector, *args):
    result = proj.run("ls", "--state", str(state), "-s", selector, "--output", "name", *args)
    assert result.exit_code == 0, result.output
    # names are single words; anything else is a log line ("No nodes selected! ...")
    return {line.strip() for line in result.stdout.splitlines() if " " not in line.strip()} - {""}


def set_project_var(proj, old, new, opt_in=False):
    text = (PROJECT + (OPT_IN if opt_in else "")).replace(old, new)
    proj.write({"dbt_project.yml": text})


def test_sidecar_is_written_next_to_the_manifest(prod_state):
    proj, state = prod_state()
    data = json.loads((state / "kiln_state.json").read_text())
    assert set(data["vars"]) == {"model.e2e.direct", "model.e2e.via_macro", "model.e2e.hooked"}
    assert set(data["vars"]["model.e2e.via_macro"]) == {"region"}
    # fingerprints, never values
    assert "10" not in json.dumps(data["vars"])


def test_changed_var_is_not_modified_by_default(prod_state):
    proj, state = prod_state()
    set_project_var(proj, "threshold: 10", "threshold: 20")
    assert names(proj, state, "state:modified") == set()


def test_vars_sub_selector_sees_the_changed_var(prod_state):
    proj, state = prod_state()
    set_project_var(proj, "threshold: 10", "threshold: 20")
    assert names(proj, state, "state:modified.vars") == {"direct", "hooked"}


def test_var_read_in_a_macro_counts(prod_state):
    proj, state = prod_state()
    set_project_var(proj, "region: eu", "region: us")
    assert names(proj, state, "state:modified.vars") == {"via_macro"}


def test_cli_vars_count_too(prod_state):
    proj, state = prod_state()
    assert names(proj, state, "state:modified.vars", "--vars", "{threshold: 11}") == {
        "direct",
        "hooked",
    }
    assert names(proj, state, "state:modified.vars", "--vars", "{threshold: 10}") == set()


def test_opted_in_project_counts_vars_in_state_modified(prod_state):
    proj, state = prod_state(opt_in=True)
    set_project_var(proj, "threshold: 10", "threshold: 20", opt_in=True)
    assert names(proj, state, "state:modified") == {"direct", "hooked"}
    assert names(proj, state, "state:modified+") == {"direct", "hooked"}


def test_opted_in_project_without_change_selects_nothing(prod_state):
    proj, state = prod_state(opt_in=True)
    assert names(proj, state, "state:modified") == set()


def test_explain_names_the_var(prod_state):
    proj, state = prod_state(opt_in=True)
    set_project_var(proj, "threshold: 10", "threshold: 20", opt_in=True)
    result = proj.run("ls", "--state", str(state), "-s", "state:modified", "--explain")
    assert "model.e2e.direct: state:modified: var threshold" in result.stdout


def test_state_without_sidecar_warns_and_selects_nothing(prod_state):
    proj, state = prod_state()
    (state / "kiln_state.json").unlink()
    set_project_var(proj, "threshold: 10", "threshold: 20")
    result = proj.run("ls", "--state", str(state), "-s", "state:modified.vars")
    assert result.exit_code == 0
    assert "no kiln_state.json" in result.output
