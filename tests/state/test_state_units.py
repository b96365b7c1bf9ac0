"""Unit tests of the state helpers: code scanning, macro closure, defer rules, the lazily
decoded prior manifest and its kiln_state.json shortcut, and dbt-written priors.
"""

from __future__ import annotations

import json

import msgspec
import pytest
from state_factories import (
    FixedVars,
    make_macro,
    make_manifest,
    make_model,
    make_state,
    make_test,
    pick,
)

from kiln.artifacts import manifest_dict
from kiln.state.defer import deferrable, deferred_ids, prior_relation
from kiln.state.facts import digest, from_node
from kiln.state.macros import MacroChanges, changed_macros
from kiln.state.prior import PriorArtifacts, PriorManifest, load_prior
from kiln.state.selector import CurrentProject, StateSelector
from kiln.state.sidecar import build_sidecar, node_fingerprints, read_sidecar, write_sidecar
from kiln.state.sqlconfig import config_call_sources, env_var_names, var_names

# ---- reading code without rendering it ---------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [
        ("{{ config(materialized='table') }}", {}),
        ("{{ config(schema=env_var('S')) }}", {"schema": "{{ env_var('S') }}"}),
        ("{{ config(alias='x_' ~ target.name) }}", {"alias": "{{ 'x_' ~ target.name }}"}),
        ("{{ config(tags=['a', var('t')]) }}", {"tags": "{{ ['a', var('t')] }}"}),
        ('{{ config(post_hook="grant {{ this }}") }}', {}),
        ("{{ config({'schema': env_var('S')}) }}", {}),
        ("{% set x = 1 %}{{ x }}", {}),
        ("{{ config(schema=", {}),
    ],
)
def test_config_call_sources(code, expected):
    assert config_call_sources(code) == expected


def test_var_and_env_var_names():
    text = "{{ var('a') }} {{ var(\"b\", 2) }} {{ env_var('C') }} {{ my.var('d') }} var x"
    assert var_names(text) == {"a", "b"}
    assert env_var_names(text) == {"C"}


# ---- macros ----------------------------------------------------------------------------------


def test_macro_closure_handles_diamonds_and_recursion():
    macros = {
        m.unique_id: m
        for m in (
            make_macro("top", calls=["left", "right"]),
            make_macro("left", calls=["bottom"]),
            make_macro("right", calls=["bottom", "right"]),
            make_macro("bottom"),
            make_macro("alone"),
        )
    }
    changes = MacroChanges(frozenset({"macro.p.bottom"}), macros)
    assert changes.reached(["macro.p.top"]) == ("macro.p.bottom",)
    assert changes.reached(["macro.p.right"]) == ("macro.p.bottom",)
    assert changes.reached(["macro.p.alone"]) == ()


def test_changed_macros_ignores_packages_and_reads_prior_sql():
    current = {"macro.p.a": make_macro("a", "new"), "macro.dbt.x": make_macro("x", "kiln")}
    current["macro.dbt.x"].package_name = "dbt"
    prior = {
        "macro.p.a": {"macro_sql": "NEW", "package_name": "p"},
        "macro.dbt.x": {"macro_sql": "dbt", "package_name": "dbt"},
        "macro.dbt.gone": {"macro_sql": "", "package_name": "dbt"},
    }
    assert changed_macros(current, prior, ("dbt",), str.lower) == frozenset()
    assert changed_macros(current, prior) == {"macro.p.a", "macro.dbt.x", "macro.dbt.gone"}


# ---- defer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "favor, builds, expected",
    [
        (False, True, {"missing"}),
        (True, True, {"missing", "present"}),
        (False, False, {"missing", "selected_missing"}),
        (True, False, {"missing", "present", "selected_missing"}),
    ],
)
def test_deferred_ids(favor, builds, expected):
    candidates = {"missing", "present", "selected_missing", "selected_present"}
    selected = {"selected_missing", "selected_present"}
    existing = {"present", "selected_present"}
    found = deferred_ids(candidates, selected, existing, favor_state=favor, builds_selected=builds)
    assert found == expected


def test_ephemeral_nodes_are_never_deferrable():
    eph = {"materialized": "ephemeral"}
    prior = make_manifest(make_model("a"), make_model("was_eph", config=eph), make_model("b"))
    current = make_manifest(make_model("a"), make_model("was_eph"), make_model("b", config=eph))
    document = PriorManifest.from_document(manifest_dict(prior))
    assert deferrable(document, current) == ["model.p.a"]


def test_prior_relation_uses_alias_and_kind():
    data = {"database": "prod", "schema": "s", "alias": "x", "name": "n", "config": {}}
    relation = prior_relation(data, quote_char='"', include_database=True)
    assert relation.render() == '"prod"."s"."x"' and relation.type == "table"


# ---- the prior manifest and kiln_state.json ------------------------------------------------------


def _kiln_state_folder(tmp_path, prior, **vars_):
    """A state folder holding `prior` as Kiln writes it: manifest.json and kiln_state.json."""
    document = manifest_dict(prior, invocation_id="inv-1")
    document["metadata"]["env"] = {"KILN_VERSION": "test"}
    (tmp_path / "manifest.json").write_bytes(msgspec.json.encode(document))
    write_sidecar(tmp_path, build_sidecar(prior, FixedVars(vars_), tmp_path, "inv-1"))
    return tmp_path


def test_unchanged_nodes_are_not_decoded_when_digests_match(tmp_path):
    nodes = [make_model(f"m{i}") for i in range(20)]
    prior = make_manifest(*nodes)
    folder = _kiln_state_folder(tmp_path, prior)
    current = make_manifest(*nodes[:-1], make_model("m19", "select 2"))
    state = StateSelector(
        load_prior(folder, "p"), CurrentProject(current, tmp_path, FixedVars({}), tmp_path)
    )
    assert pick(prior, current, "state:modified", state) == {"model.p.m19"}
    assert set(state.prior.manifest._decoded) == {"model.p.m19"}


def test_sidecar_of_another_invocation_is_ignored(tmp_path):
    prior = make_manifest(make_model("a"))
    folder = _kiln_state_folder(tmp_path, prior)
    data = json.loads((folder / "kiln_state.json").read_text())
    data["invocation_id"] = "another"
    (folder / "kiln_state.json").write_text(json.dumps(data))
    assert read_sidecar(folder) is not None
    assert load_prior(folder, "p").sidecar is None


def test_digest_is_stable_and_sensitive():
    assert digest(from_node(make_model("a"))) == digest(from_node(make_model("a")))
    assert digest(from_node(make_model("a"))) != digest(from_node(make_model("a", "select 2")))


def test_fingerprints_cover_code_hooks_and_macros():
    manifest = make_manifest(
        make_macro("m", "{{ var('in_macro') }} {{ env_var('E') }}"),
        make_model("a", "select {{ var('in_code') }}", depends_on_macros=["macro.p.m"]),
        make_model("b", config={"post-hook": ["select {{ var('in_hook') }}"]}),
    )
    vars_, env = node_fingerprints(manifest, FixedVars({"in_code": 1}))
    assert set(vars_["model.p.a"]) == {"in_code", "in_macro"}
    assert vars_["model.p.a"]["in_macro"] == "unset"
    assert set(vars_["model.p.b"]) == {"in_hook"}
    assert set(env["model.p.a"]) == {"E"}


# ---- a prior written by dbt-core ---------------------------------------------------------------


def _as_dbt_wrote_it(document):
    """What dbt-core writes differently from Kiln for the same project."""
    document["metadata"]["env"] = {}
    for node in document["nodes"].values():
        node["raw_code"] = node["raw_code"].strip()
        config = node["unrendered_config"]
        if "post_hook" in config:
            config["post-hook"] = config.pop("post_hook")
    document["macros"]["macro.dbt.only_in_dbt"] = {"macro_sql": "x", "package_name": "dbt"}
    document["macros"]["macro.p.test_positive"] = {
        "macro_sql": "{% test positive(model) %}x{% endtest %}",
        "package_name": "p",
    }
    return document


def test_a_dbt_written_prior_compares_without_false_positives(tmp_path):
    nodes = [
        make_macro("test_positive", "{% macro test_positive(model) %}x{% endmacro %}"),
        make_model(
            "a",
            "select 1\n",
            unrendered_config={"post_hook": "select 1"},
            depends_on_macros=["macro.dbt.only_in_dbt"],
        ),
        make_test("t", on="a"),
    ]
    manifest = make_manifest(*nodes)
    manifest.nodes["test.p.t"].depends_on_macros = ["macro.p.test_positive"]
    document = _as_dbt_wrote_it(manifest_dict(manifest))
    state = StateSelector(
        PriorArtifacts(tmp_path, PriorManifest.from_document(document)),
        CurrentProject(manifest, tmp_path, FixedVars({}), tmp_path),
    )
    assert not state.prior.written_by_kiln
    assert pick(manifest, manifest, "state:modified", state) == set()


def test_state_written_by_kiln_is_detected():
    state = make_state(make_manifest(), make_manifest())
    assert state.prior.written_by_kiln
