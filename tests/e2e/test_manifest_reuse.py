"""manifest.json and kiln_state.json rewritten from the previous files when the parse is the
same: the result must be exactly what a full serialization writes."""

from __future__ import annotations

import json

import pytest

from kiln.artifacts import manifest_file
from kiln.artifacts.manifest_file import LAYOUT_FILE, _shifted

FILES = {
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select * from {{ ref('a') }}",
    "models/c.sql": "select id, '{{ var(\"label\", \"x\") }}' as label from {{ ref('b') }}",
    "models/schema.yml": """\
        version: 2
        models:
          - name: a
            columns:
              - name: id
                data_tests: [unique]
        """,
    "seeds/s.csv": "id\n1\n",
}
PER_RUN = ("generated_at", "invocation_id", "invocation_started_at", "run_started_at")


@pytest.fixture
def serializations(monkeypatch):
    """How many times the whole manifest was serialized."""
    calls = []
    real = manifest_file._serialize

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(manifest_file, "_serialize", counting)
    return calls


def _stable(document: dict) -> dict:
    meta = {k: v for k, v in document["metadata"].items() if k not in PER_RUN}
    return {**document, "metadata": meta}


def _full_rewrite(proj) -> dict:
    """manifest.json as a full serialization of the same parse writes it."""
    (proj.root / "target" / LAYOUT_FILE).unlink()
    assert proj.run("parse").exit_code == 0
    return proj.manifest()


def test_unchanged_parse_splices_new_metadata_into_the_same_document(project, serializations):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    first = proj.manifest()
    assert serializations == [1]

    assert proj.run("parse").exit_code == 0
    spliced = proj.manifest()

    assert serializations == [1]  # not serialized again
    assert spliced["metadata"]["invocation_id"] != first["metadata"]["invocation_id"]
    assert _stable(spliced) == _stable(first)
    assert _stable(_full_rewrite(proj)) == _stable(spliced)


def test_an_edited_body_is_re_serialized_in_place(project, serializations):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    proj.write({"models/b.sql": "select id, 'a much longer body' as note from {{ ref('a') }}"})

    assert proj.run("parse").exit_code == 0
    spliced = proj.manifest()
    assert serializations == [1]
    assert "a much longer body" in spliced["nodes"]["model.e2e.b"]["raw_code"]
    # Everything after the edited node moved; the document still reads back whole.
    assert _stable(_full_rewrite(proj)) == _stable(spliced)

    # A second parse re-patches the edit on top of the same cached parse.
    proj.write({"models/b.sql": "select id from {{ ref('a') }}"})
    assert proj.run("parse").exit_code == 0
    assert proj.manifest()["nodes"]["model.e2e.b"]["raw_code"] == "select id from {{ ref('a') }}"
    assert _stable(_full_rewrite(proj)) == _stable(proj.manifest())

    # A model with tests attached (its record lists what the tests need of it).
    proj.write({"models/a.sql": "select 1 as id -- edited"})
    assert proj.run("parse").exit_code == 0
    assert proj.manifest()["nodes"]["model.e2e.a"]["raw_code"].endswith("-- edited")
    assert _stable(_full_rewrite(proj)) == _stable(proj.manifest())


def test_a_file_rewritten_by_another_tool_is_serialized_again(project, serializations):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    path = proj.root / "target" / "manifest.json"
    document = json.loads(path.read_text())
    document["nodes"]["model.e2e.a"]["description"] = "written by someone else"
    path.write_text(json.dumps(document))

    assert proj.run("parse").exit_code == 0

    assert serializations == [1, 1]
    assert proj.manifest()["nodes"]["model.e2e.a"]["description"] == ""


def test_changed_selectors_are_serialized_again(project, serializations):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    proj.write({"selectors.yml": "selectors:\n  - name: only_a\n    definition: a\n"})

    assert proj.run("parse").exit_code == 0

    assert serializations == [1, 1]
    assert list(proj.manifest()["selectors"]) == ["only_a"]


def test_state_sidecar_reused_from_the_same_parse_matches_a_fresh_one(project):
    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    proj.write({"models/c.sql": FILES["models/c.sql"] + " -- edited"})
    assert proj.run("parse").exit_code == 0
    reused = proj.artifact("kiln_state.json")
    assert reused["patched"] == ["model.e2e.c"]

    (proj.root / "target" / "kiln_state.json").unlink()
    assert proj.run("parse").exit_code == 0
    fresh = proj.artifact("kiln_state.json")
    for key in ("digests", "vars", "env_vars", "sources", "generation"):
        assert reused[key] == fresh[key], key
    assert "model.e2e.c" in fresh["vars"]


def test_env_values_are_fingerprinted_anew_when_the_rest_is_reused(project, monkeypatch):
    # A hook is rendered only when the model runs: its env var is not a parse input.
    hooked = "{{ config(post_hook=\"select '{{ env_var('KILN_T_HOOK', 'd') }}'\") }}select 1 as id"
    proj = project({**FILES, "models/a.sql": hooked})
    monkeypatch.setenv("KILN_T_HOOK", "one")
    assert proj.run("parse").exit_code == 0
    first = proj.artifact("kiln_state.json")

    monkeypatch.setenv("KILN_T_HOOK", "two")
    assert proj.run("parse").exit_code == 0
    second = proj.artifact("kiln_state.json")

    assert second["generation"] == first["generation"]  # the same parse, reused
    fingerprints = [s["env_vars"]["model.e2e.a"]["KILN_T_HOOK"] for s in (first, second)]
    assert fingerprints[0] != fingerprints[1]


def test_shifted_moves_every_span_after_each_replacement():
    spans = {"m": (0, 4), "a": (5, 10), "b": (11, 20), "c": (21, 22)}
    fresh = {"m": b"12", "b": b"0123456789abc"}  # m shrinks by 2, b grows by 4
    assert _shifted(spans, fresh) == {"m": (0, 2), "a": (3, 8), "b": (9, 22), "c": (23, 24)}


def test_a_warm_parse_neither_renders_nor_imports_jinja(project, tmp_path):
    import subprocess
    import sys

    proj = project(FILES)
    assert proj.run("parse").exit_code == 0
    proj.write({"models/b.sql": "select id, 1 as edited from {{ ref('a') }}"})
    probe = (
        "import sys\n"
        "from kiln.cli.main import main\n"
        "sys.argv = ['kiln', 'parse']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as stop:\n"
        "    assert stop.code == 0, stop.code\n"
        "print('jinja2' in sys.modules)\n"
    )
    for _ in range(2):  # an edited body patched in, then nothing changed
        out = subprocess.run(
            [sys.executable, "-c", probe], cwd=proj.root, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().splitlines()[-1] == "False"
