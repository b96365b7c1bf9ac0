"""Replays every case of the conformance goldens' `selection.json` through `select_nodes`.

The goldens were recorded with `dbt ls` (dbt-core 1.11) on the real shop project; here
the same arguments run over the factory-built shop manifest, so a failure is either a
selection bug or a fixture that does not mirror the project.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from select_factories import short
from select_shop import CONFORMANCE

GOLDENS = CONFORMANCE / "expected" / "shop" / "selection.json"


def _cases() -> list[Any]:
    if not GOLDENS.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no goldens at {GOLDENS}"))]
    return [pytest.param(case, id=case["name"]) for case in json.loads(GOLDENS.read_text())]


@pytest.mark.parametrize("case", _cases())
def test_selection_golden(
    case: dict[str, Any], run_ls: Callable[[Sequence[str]], frozenset[str]]
) -> None:
    assert case["exit_code"] == 0, "only successful selections are recorded so far"
    actual = run_ls(case["args"])
    assert short(actual) == short(case["expected"])
    assert actual == set(case["expected"])
