"""run_results.json: NodeResults written in dbt's schema v6 and read back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_artifacts_parser.parser import parse_run_results

from kiln import __version__
from kiln.artifacts import RUN_RESULTS_SCHEMA, read_run_results, write_run_results
from kiln.errors import ArtifactError, IncompatibleArtifactError

from .factories import make_result

META: dict[str, Any] = {
    "invocation_id": "6f1c1d4e-7a43-4b9a-9a53-2f6f3f0f6b11",
    "generated_at": datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
    "invocation_started_at": datetime(2024, 5, 1, 12, 30, 0, tzinfo=UTC),
    "elapsed_time": 4.5,
    "args": {"which": "build", "select": ["orders+"], "invocation_command": "kiln build"},
}

# (unique_id, status, extra NodeResult fields): every status the schema knows.
RESULTS = [
    ("seed.shop.raw_orders", "success", {"message": "INSERT 100"}),
    (
        "model.shop.orders",
        "success",
        {
            "message": "OK",
            "compiled_code": "select 1",
            "relation_name": '"shop_dev"."main"."orders"',
            "adapter_response": {"_message": "OK", "rows_affected": 3},
        },
    ),
    ("model.shop.broken", "error", {"message": "Binder Error: column x not found"}),
    ("model.shop.downstream", "skipped", {"message": "SKIP"}),
    (
        "model.shop.events",
        "partial success",
        {"batch_results": {"successful": [("2024-05-01", "2024-05-02")], "failed": []}},
    ),
    ("exposure.shop.dashboard", "no-op", {"message": "NO-OP", "failures": 0}),
    ("test.shop.unique_orders_id.0123456789", "pass", {"failures": 0, "compiled_code": "select"}),
    ("test.shop.not_null_orders_id.0123456789", "fail", {"failures": 2, "message": "Got 2"}),
    ("test.shop.accepted_values_status.0123456789", "warn", {"failures": 1}),
    ("source.shop.raw.orders", "runtime error", {"message": "freshness query failed"}),
]


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Any]:
    results = [make_result(uid, status, **fields) for uid, status, fields in RESULTS]
    path = write_run_results(tmp_path / "run_results.json", results, **META)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_run_results_follow_published_schema(written, valid_against):
    valid_against(written, "run_results_v6")


def test_run_results_load_with_dbt_artifacts_parser(written):
    parsed = parse_run_results(written)

    assert type(parsed).__name__ == "RunResultsV6"
    assert [r.unique_id for r in parsed.results] == [uid for uid, _, _ in RESULTS]


def test_metadata_names_schema_and_plain_dbt_version(written):
    metadata = written["metadata"]

    assert metadata["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/run-results/v6.json"
    assert metadata["dbt_schema_version"] == RUN_RESULTS_SCHEMA.url
    assert re.fullmatch(r"\d+\.\d+\.\d+", metadata["dbt_version"])
    assert metadata["generated_at"] == "2024-05-01T12:30:05.000000Z"
    assert metadata["invocation_started_at"] == "2024-05-01T12:30:00.000000Z"
    assert metadata["env"] == {"KILN_VERSION": __version__}
    assert written["elapsed_time"] == 4.5


def test_each_status_is_written_as_given(written):
    assert [r["status"] for r in written["results"]] == [status for _, status, _ in RESULTS]


def test_compiled_is_true_only_for_results_with_compiled_code(written):
    by_id = {r["unique_id"]: r for r in written["results"]}

    assert by_id["model.shop.orders"]["compiled"] is True
    assert by_id["model.shop.orders"]["compiled_code"] == "select 1"
    assert by_id["model.shop.orders"]["relation_name"] == '"shop_dev"."main"."orders"'
    assert by_id["seed.shop.raw_orders"]["compiled"] is None
    assert by_id["seed.shop.raw_orders"]["compiled_code"] is None


def test_result_records_timing_failures_and_adapter_response(written):
    by_id = {r["unique_id"]: r for r in written["results"]}
    model = by_id["model.shop.orders"]

    assert [t["name"] for t in model["timing"]] == ["compile", "execute"]
    assert model["timing"][1]["completed_at"] == "2024-05-01T12:00:01.000000Z"
    assert model["adapter_response"] == {"_message": "OK", "rows_affected": 3}
    assert model["thread_id"] == "Thread-1"
    assert by_id["test.shop.not_null_orders_id.0123456789"]["failures"] == 2
    assert by_id["model.shop.events"]["batch_results"] == {
        "successful": [["2024-05-01", "2024-05-02"]],
        "failed": [],
    }


def test_args_are_written_with_sorted_keys(written):
    assert list(written["args"]) == ["invocation_command", "select", "which"]
    assert written["args"]["select"] == ["orders+"]


def test_unknown_status_is_rejected_with_a_suggestion(tmp_path: Path):
    results = [make_result("model.shop.orders", "sucess")]

    with pytest.raises(ArtifactError, match="'sucess' is not a dbt run-results status") as info:
        write_run_results(tmp_path / "run_results.json", results, **META)

    assert info.value.hint == "did you mean 'success'?"

    assert not (tmp_path / "run_results.json").exists()


def test_read_run_results_returns_what_was_written(tmp_path: Path, written):
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(written))

    assert read_run_results(path) == written


def test_read_run_results_upgrades_v4(tmp_path: Path, written, valid_against):
    v4 = {**written, "metadata": {**written["metadata"]}}
    v4["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/run-results/v4.json"
    v4["results"] = [
        {k: v for k, v in r.items() if k not in ("compiled", "compiled_code", "relation_name")}
        for r in written["results"]
    ]
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(v4))

    upgraded = read_run_results(path)

    assert upgraded["metadata"]["dbt_schema_version"] == RUN_RESULTS_SCHEMA.url
    assert all(r["compiled"] is None for r in upgraded["results"])
    valid_against(upgraded, "run_results_v6")


@pytest.mark.parametrize(
    "schema_version",
    [
        "https://schemas.getdbt.com/dbt/run-results/v7.json",
        "https://schemas.getdbt.com/dbt/run-results/v3.json",
        "https://schemas.getdbt.com/dbt/manifest/v12.json",
    ],
)
def test_read_run_results_rejects_unknown_versions(tmp_path: Path, written, schema_version):
    written["metadata"]["dbt_schema_version"] = schema_version
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(written))

    with pytest.raises(IncompatibleArtifactError, match="Kiln reads .*run-results/v6"):
        read_run_results(path)


def test_paths_in_args_are_written_as_strings(tmp_path: Path):
    meta = {**META, "args": {"project_dir": tmp_path / "shop"}}

    path = write_run_results(tmp_path / "run_results.json", [], **meta)

    assert json.loads(path.read_text())["args"] == {"project_dir": str(tmp_path / "shop")}
