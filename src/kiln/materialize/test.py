"""Running a data test: count failures and judge them against severity, warn_if, error_if.

With `store_failures` (or `--store-failures`) the failing rows are first saved as a table or
view named after the test in its audit schema (`<schema>_dbt_test__audit`), replacing what a
previous run stored, and the failures are then counted from there, as dbt does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.errors import ConfigError

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.adapters.relation import Relation

STORE_AS = ("table", "view", "ephemeral")


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


def store_failures_as(config: Mapping[str, Any], flag: bool) -> str | None:
    """Where a test's failing rows go: "table", "view", or None (not stored).

    `store_failures_as` wins over `store_failures`, which wins over the `--store-failures`
    flag; `ephemeral` means not stored.

    Example:
        >>> store_failures_as({"store_failures": True}, False)
        'table'
        >>> store_failures_as({"store_failures": False, "store_failures_as": "view"}, False)
        'view'
        >>> store_failures_as({}, True), store_failures_as({"store_failures": False}, True)
        ('table', None)

    Raises:
        ConfigError: `store_failures_as` is not table, view or ephemeral.
    """
    kind = config.get("store_failures_as")
    if kind is not None:
        kind = str(kind).lower()
        if kind not in STORE_AS:
            raise ConfigError(
                f"store_failures_as must be one of {', '.join(STORE_AS)}, got '{kind}'",
                hint="set store_failures_as: table (or view)",
            )
        return None if kind == "ephemeral" else kind
    configured = config.get("store_failures")
    store = flag if configured is None else bool(configured)
    return "table" if store else None


def run_data_test(
    adapter: Adapter,
    sql: str,
    config: Mapping[str, Any],
    *,
    store_in: Relation | None = None,
) -> TestOutcome:
    """Run a compiled test and judge its result.

    Args:
        adapter: the warehouse.
        sql: the test's compiled SQL (it selects the failing rows).
        config: the test's config (severity, fail_calc, warn_if, error_if, limit).
        store_in: where to store the failing rows (its `type` is table or view), or None.

    Raises:
        DatabaseError: the test query (or storing its rows) failed.
    """
    if store_in is not None:
        sql = _store_failures(adapter, sql, store_in)
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
    # dbt reports 0 failures for a passing test, whatever fail_calc counted.
    return TestOutcome(status, failures if status != "pass" else 0, message, response.to_dict())


def _store_failures(adapter: Adapter, sql: str, relation: Relation) -> str:
    """Replace the stored failures with this run's, atomically; the query to count them."""
    with adapter.transaction():
        adapter.drop_relation(relation.incorporate(type=None))
        if relation.type == "view":
            adapter.create_view_as(relation, sql)
        else:
            adapter.create_table_as(relation, sql)
    return f"select * from {relation}"


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)
