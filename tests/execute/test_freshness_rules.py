"""Freshness thresholds, statuses and timestamps, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from kiln.artifacts import SourceFreshnessResult
from kiln.errors import ConfigError
from kiln.execute.freshness import (
    as_utc,
    checkable_sources,
    freshness_exit_code,
    freshness_status,
    threshold_seconds,
)
from kiln.manifest.nodes import SourceDefinition

RULE = {
    "warn_after": {"count": 2, "period": "hour"},
    "error_after": {"count": 1, "period": "day"},
}


def source(name: str, **kw) -> SourceDefinition:
    return SourceDefinition(
        f"source.p.raw.{name}", "p", "raw", name, "models/src.yml", "models/src.yml",
        ["p", "raw", name], name, "main", **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("age_hours", "status"), [(1, "pass"), (2, "pass"), (2.01, "warn"), (24.5, "error")]
)
def test_status_is_error_then_warn_then_pass(age_hours, status):
    assert freshness_status(age_hours * 3600, RULE) == status


def test_a_threshold_without_count_is_ignored():
    assert threshold_seconds({"count": None, "period": "hour"}) is None
    assert freshness_status(10**9, {"warn_after": {"period": "hour"}}) == "pass"


def test_unknown_period_is_a_config_error():
    with pytest.raises(ConfigError, match="week"):
        threshold_seconds({"count": 1, "period": "week"})


def test_naive_timestamps_are_utc_and_aware_ones_are_converted():
    cet = dt.timezone(dt.timedelta(hours=1))
    assert as_utc(dt.datetime(2024, 1, 1, 12)) == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    assert as_utc(dt.datetime(2024, 1, 1, 12, tzinfo=cet)).hour == 11
    assert as_utc(dt.date(2024, 1, 2)) == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)


def test_only_sources_with_a_threshold_are_checked():
    picked = checkable_sources(
        [
            source("b", freshness=RULE, loaded_at_field="ts"),
            source("a", freshness={"filter": "x"}, loaded_at_field="ts"),
            source("c", freshness=RULE, loaded_at_query="select now()"),
            source("d"),
        ]
    )
    assert [s.name for s in picked] == ["b", "c"]


def test_threshold_without_loaded_at_field_names_the_file():
    with pytest.raises(ConfigError) as caught:
        checkable_sources([source("t", freshness=RULE)])
    assert "models/src.yml" in caught.value.render()
    assert "raw.t" in caught.value.message


def test_exit_code_fails_on_error_and_runtime_error_only():
    def result(status: str) -> SourceFreshnessResult:
        return SourceFreshnessResult("source.p.raw.t", status)

    assert freshness_exit_code([result("pass"), result("warn")]) == 0
    assert freshness_exit_code([result("warn"), result("error")]) == 1
    assert freshness_exit_code([result("runtime error")]) == 1
