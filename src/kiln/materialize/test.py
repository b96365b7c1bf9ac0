"""Running a data test: count failures and judge them against severity, warn_if, error_if."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """pass / warn / fail, with the failure count."""

    status: str
    failures: int
    message: str | None
    adapter_response: dict[str, Any] = field(default_factory=dict)

    __test__ = False  # not a pytest class


def wrap_test_sql(sql: str, config: Mapping[str, Any]) -> str:
    """The query that turns a test's failing rows into failures/should_warn/should_error.

    Example:
        >>> print(wrap_test_sql("select 1", {"limit": 5}).splitlines()[0])
        select
    """
    fail_calc = config.get("fail_calc") or "count(*)"
    warn_if = config.get("warn_if") or "!= 0"
    error_if = config.get("error_if") or "!= 0"
    limit = config.get("limit")
    limit_sql = f"\nlimit {int(limit)}" if limit is not None else ""
    return (
        "select\n"
        f"    {fail_calc} as failures,\n"
        f"    {fail_calc} {warn_if} as should_warn,\n"
        f"    {fail_calc} {error_if} as should_error\n"
        f"from (\n{sql}{limit_sql}\n) dbt_internal_test"
    )


def judge(failures: int, should_warn: bool, should_error: bool, severity: str) -> str:
    """dbt's rule: error severity fails on error_if, else warns on warn_if.

    Example:
        >>> judge(1, True, True, "warn")
        'warn'
    """
    if severity.upper() == "ERROR" and should_error:
        return "fail"
    if should_warn:
        return "warn"
    return "pass"


def run_data_test(adapter: Adapter, sql: str, config: Mapping[str, Any]) -> TestOutcome:
    """Run a compiled test and judge its result."""
    response, table = adapter.execute(wrap_test_sql(sql, config), fetch=True)
    row = table.rows[0] if table is not None and table.rows else (0, False, False)
    failures = int(row[0] or 0)
    status = judge(
        failures, _truthy(row[1]), _truthy(row[2]), str(config.get("severity") or "ERROR")
    )
    message = None
    if status != "pass":
        condition = config.get("warn_if" if status == "warn" else "error_if") or "!= 0"
        plural = "s" if failures != 1 else ""
        message = f"Got {failures} result{plural}, configured to {status} if {condition}"
    return TestOutcome(status, failures, message, response.to_dict())


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)
