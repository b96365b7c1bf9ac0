"""Fixtures of the e2e suite: artifact validation against dbt's vendored JSON Schemas."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SCHEMAS = Path(__file__).parent.parent / "fixtures" / "schemas"


@functools.cache
def _validator(schema_name: str) -> Any:
    import jsonschema

    schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def assert_valid(document: Any, schema_name: str) -> None:
    """Fail with every violation of `tests/fixtures/schemas/<schema_name>.json`."""
    errors = sorted(_validator(schema_name).iter_errors(document), key=lambda e: list(e.path))
    problems = [f"{'/'.join(map(str, e.path))}: {e.message[:300]}" for e in errors]
    assert not problems, f"{len(problems)} violations of {schema_name}:\n" + "\n".join(problems)


SCHEMA_OF = {"manifest.json": "manifest_v12", "run_results.json": "run_results_v6"}


@pytest.fixture
def artifact_check() -> Callable[[str, dict[str, Any]], None]:
    """Every manifest.json and run_results.json an e2e run writes must follow dbt's schema."""

    def check(name: str, document: dict[str, Any]) -> None:
        assert_valid(document, SCHEMA_OF[name])

    return check


@pytest.fixture
def valid_against() -> Callable[[Any, str], None]:
    """`valid_against(document, "manifest_v12")` asserts the document follows the schema."""
    return assert_valid


def journal_results(proj: Any) -> list[dict[str, Any]]:
    """The `kind: result` records of `target/run_results.jsonl`, in finishing order."""
    from kiln.execute.journal import read_journal

    return read_journal(proj.root / "target")
