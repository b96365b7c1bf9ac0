"""The conformance project `shop` as a factory-built manifest.

Ids and `depends_on` are those of `expected/shop/manifest_subset.json` (dbt-core 1.11);
paths, fqns, tags and configs are what dbt derives from the project's files
(`projects/shop`): folder configs from dbt_project.yml, `config:` from the yml files
and `{{ config() }}` blocks. `test_shop_fixture.py` checks the ids and edges against
the goldens when the conformance folder is present.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from select_factories import (
    make_analysis,
    make_exposure,
    make_manifest,
    make_model,
    make_seed,
    make_snapshot,
    make_source,
    make_test,
)

from kiln.manifest.nodes import Manifest

CONFORMANCE = Path(
    os.environ.get(
        "KILN_CONFORMANCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "conformance"
    )
)
STAGING_YML = "models/staging/_staging.yml"
MARTS_YML = "models/marts/_marts.yml"
INTERMEDIATE_YML = "models/intermediate/_intermediate.yml"
SOURCES_YML = "models/staging/_sources.yml"

SELECTORS: dict[str, Any] = {
    "selectors": [
        {
            "name": "finance_nightly",
            "definition": {
                "union": [
                    {"method": "tag", "value": "finance", "parents": True},
                    {"exclude": [{"method": "tag", "value": "staging"}]},
                ]
            },
        },
        {
            "name": "core_tables",
            "definition": {
                "intersection": [
                    {"method": "path", "value": "models/marts/core"},
                    {"method": "config.materialized", "value": "table"},
                ]
            },
        },
        {
            "name": "orders_lineage",
            "definition": {
                "union": [
                    {"method": "fqn", "value": "fct_orders", "parents": True, "children": True},
                    {
                        "method": "source",
                        "value": "raw.orders",
                        "children": True,
                        "children_depth": 1,
                    },
                ]
            },
        },
        {
            "name": "customers_cautious",
            "definition": {
                "method": "fqn",
                "value": "dim_customers",
                "indirect_selection": "cautious",
            },
        },
    ]
}


def _m(name: str) -> str:
    return f"model.shop.{name}"


def _staging(name: str, seed: str | None, source: str | None, tags: tuple[str, ...] = ()) -> Any:
    deps = ([f"seed.shop.{seed}"] if seed else []) + (
        [f"source.shop.raw.{source}"] if source else []
    )
    return make_model(
        name, folder="staging", depends_on=deps, tags=("staging", *tags), patch=STAGING_YML
    )


def _models() -> list[Any]:
    core = {"persist_docs": {"relation": True, "columns": True}, "materialized": "table"}
    finance = ("marts", "finance")
    inc = {"materialized": "incremental"}
    return [
        _staging("stg_customers", "customers", "customers", ("pii",)),
        _staging("stg_orders", "orders", "orders"),
        _staging("stg_order_items", "order_items", "order_lines"),
        _staging("stg_payments", "payments", "payments"),
        _staging("stg_products", "products", None),
        make_model(
            "int_order_items_enriched", folder="intermediate", tags=("intermediate",),
            depends_on=[_m("stg_order_items"), _m("stg_products")], patch=INTERMEDIATE_YML,
            config={"materialized": "ephemeral"},
        ),
        make_model(
            "int_payments_pivoted", folder="intermediate", tags=("intermediate",),
            depends_on=[_m("stg_payments")], patch=INTERMEDIATE_YML,
        ),
        make_model(
            "dim_customers", folder="marts/core", tags=("marts",), config=core, patch=MARTS_YML,
            depends_on=[_m("fct_orders"), _m("stg_customers")],
        ),
        make_model(
            "dim_products", folder="marts/core", tags=("marts",), patch=MARTS_YML,
            config={**core, "alias": "product_catalog"},
            depends_on=[_m("int_order_items_enriched"), _m("stg_products")],
        ),
        make_model(
            "fct_orders", folder="marts/core", tags=("marts", "orders"), patch=MARTS_YML,
            config={**core, **inc, "unique_key": "order_id", "incremental_strategy": "merge"},
            depends_on=[_m(n) for n in ("int_order_items_enriched", "int_payments_pivoted",
                                        "stg_orders")],
        ),
        make_model(
            "fct_payments_log", folder="marts/finance", tags=finance, patch=MARTS_YML,
            config={**inc, "incremental_strategy": "append"}, depends_on=[_m("stg_payments")],
        ),
        make_model(
            "daily_revenue", folder="marts/finance", tags=finance, patch=MARTS_YML,
            config={**inc, "incremental_strategy": "delete+insert", "unique_key": "order_date",
                    "on_schema_change": "append_new_columns"},
            depends_on=[_m("fct_orders")],
        ),
        make_model(
            "category_revenue", folder="marts/finance", tags=finance, patch=MARTS_YML,
            config={"materialized": "table"},
            depends_on=[_m("fct_orders"), _m("int_order_items_enriched")],
        ),
    ]  # fmt: skip


def _seeds_and_friends() -> list[Any]:
    seeds = [
        make_seed(name, tags=("raw",))
        for name in ("customers", "order_items", "orders", "payments", "products")
    ]
    snapshots = [
        make_snapshot(
            "customers_snapshot", yml="snapshots/snapshots.yml", tags=("history",),
            depends_on=[_m("stg_customers")],
            config={"strategy": "timestamp", "unique_key": "customer_id",
                    "updated_at": "updated_at"},
        ),
        make_snapshot(
            "products_snapshot", yml="snapshots/snapshots.yml", tags=("history", "catalog"),
            depends_on=[_m("stg_products")],
            config={"strategy": "check", "unique_key": "product_id",
                    "check_cols": ["price", "is_active"]},
        ),
    ]  # fmt: skip
    sources = [
        make_source("raw", t, yml=SOURCES_YML)
        for t in ("customers", "orders", "order_lines", "payments")
    ]
    exposures = [
        make_exposure(
            "customer_health_dashboard",
            yml="models/marts/_exposures.yml",
            depends_on=[_m("dim_customers"), _m("fct_orders")],
        ),
        make_exposure(
            "finance_close_notebook",
            yml="models/marts/_exposures.yml",
            depends_on=[_m("daily_revenue"), _m("fct_payments_log"), "source.shop.raw.payments"],
        ),
    ]
    analysis = make_analysis("top_customers", depends_on=[_m("dim_customers")])
    return [*seeds, *snapshots, *sources, *exposures, analysis]


# (test name, hash, generic test, model (or source) the column belongs to, other parent)
GENERIC_TESTS = [
    ("unique_stg_customers_customer_id", "c7614daada", "unique", "stg_customers", None),
    ("not_null_stg_customers_customer_id", "e2cfb1f9aa", "not_null", "stg_customers", None),
    ("not_null_stg_customers_email", "d7cf761533", "not_null", "stg_customers", None),
    ("accepted_values_stg_customers_country_code__DE__FR__NL__SE__PL__ES__IT__unknown",
     "8265557354", "accepted_values", "stg_customers", None),
    ("unique_stg_orders_order_id", "e3b841c71a", "unique", "stg_orders", None),
    ("not_null_stg_orders_order_id", "81cfe2fe64", "not_null", "stg_orders", None),
    ("not_null_stg_orders_customer_id", "af79d5e4b5", "not_null", "stg_orders", None),
    ("relationships_stg_orders_customer_id__customer_id__ref_stg_customers_", "430bf21500",
     "relationships", "stg_orders", "stg_customers"),
    ("accepted_values_stg_orders_order_status__placed__shipped__completed__returned__cancelled",
     "251b643961", "accepted_values", "stg_orders", None),
    ("unique_stg_order_items_order_item_id", "90e333a108", "unique", "stg_order_items", None),
    ("not_null_stg_order_items_order_item_id", "26a7e2bc35", "not_null", "stg_order_items", None),
    ("relationships_stg_order_items_order_id__order_id__ref_stg_orders_", "dbe9930c54",
     "relationships", "stg_order_items", "stg_orders"),
    ("non_negative_stg_order_items_quantity", "3f02bdace1", "non_negative", "stg_order_items",
     None),
    ("unique_stg_payments_payment_id", "3744510712", "unique", "stg_payments", None),
    ("not_null_stg_payments_payment_id", "c19cc50075", "not_null", "stg_payments", None),
    ("legacy_payment_methods", "aba32e2286", "accepted_values", "stg_payments", None),
    ("non_negative_stg_payments_amount", "6ba704465a", "non_negative", "stg_payments", None),
    ("unique_stg_products_product_id", "7d950a1467", "unique", "stg_products", None),
    ("not_null_stg_products_product_id", "6373b0acf3", "not_null", "stg_products", None),
    ("accepted_values_stg_products_category__kitchen__garden__office__outdoor", "71adab4dcc",
     "accepted_values", "stg_products", None),
    ("unique_int_payments_pivoted_order_id", "0a300de676", "unique", "int_payments_pivoted", None),
    ("unique_dim_customers_customer_id", "15c9f1e2fd", "unique", "dim_customers", None),
    ("not_null_dim_customers_customer_id", "dd91cd1c8d", "not_null", "dim_customers", None),
    ("accepted_values_dim_customers_customer_tier__vip__loyal__regular__prospect", "9032424cff",
     "accepted_values", "dim_customers", None),
    ("non_negative_dim_customers_lifetime_value", "92e764d462", "non_negative", "dim_customers",
     None),
    ("unique_dim_products_product_id", "ef7b2a9985", "unique", "dim_products", None),
    ("not_null_dim_products_product_id", "c8aba288d1", "not_null", "dim_products", None),
    ("unique_fct_orders_order_id", "523ddb6ce5", "unique", "fct_orders", None),
    ("not_null_fct_orders_order_id", "4e687af8d0", "not_null", "fct_orders", None),
    ("relationships_fct_orders_customer_id__customer_id__ref_dim_customers_", "d5636051d4",
     "relationships", "fct_orders", "dim_customers"),
    ("unique_fct_payments_log_payment_id", "ddea7f4c46", "unique", "fct_payments_log", None),
    ("row_count_at_least_daily_revenue_10", "1d121a65dc", "row_count_at_least", "daily_revenue",
     None),
    ("unique_daily_revenue_order_date", "059107fd56", "unique", "daily_revenue", None),
    ("not_null_daily_revenue_order_date", "3c69a0ce71", "not_null", "daily_revenue", None),
    ("source_unique_raw_customers_customer_id", "3579d23017", "unique", "raw.customers", None),
    ("source_not_null_raw_customers_customer_id", "e869432dbb", "not_null", "raw.customers",
     None),
]  # fmt: skip

# configs set on single tests in the yml files
TEST_CONFIGS: dict[str, dict[str, Any]] = {
    "not_null_stg_customers_email": {"tags": ["pii_check"]},
    "accepted_values_stg_orders_order_status__placed__shipped__completed__returned__cancelled": {
        "tags": ["critical"]
    },
    "legacy_payment_methods": {"severity": "warn"},
    "non_negative_stg_payments_amount": {"tags": ["critical"]},
    "relationships_fct_orders_customer_id__customer_id__ref_dim_customers_": {"tags": ["critical"]},
}


def _yml_of(model: str) -> str:
    if model.startswith("raw."):
        return SOURCES_YML
    if model.startswith("stg_"):
        return STAGING_YML
    return INTERMEDIATE_YML if model.startswith("int_") else MARTS_YML


def _tests() -> list[Any]:
    tests = []
    for name, hash_, generic, owner, other in GENERIC_TESTS:
        attached = f"source.shop.{owner}" if owner.startswith("raw.") else _m(owner)
        parents = sorted({attached, *([_m(other)] if other else [])})
        config = TEST_CONFIGS.get(name, {})
        tests.append(
            make_test(
                name, hash_, depends_on=parents, yml=_yml_of(owner), test_name=generic,
                attached=attached, tags=config.get("tags", ()), config=config,
            )
        )  # fmt: skip
    singular = make_test("assert_completed_orders_fully_paid", depends_on=[_m("fct_orders")])
    return [*tests, singular]


@cache
def _shop() -> Manifest:
    disabled = make_model(
        "legacy_order_summary", folder="marts/core", tags=("marts",),
        config={"enabled": False}, depends_on=[_m("stg_orders")],
    )  # fmt: skip
    manifest = make_manifest(*_models(), *_seeds_and_friends(), *_tests(), selectors=SELECTORS)
    manifest.disabled[disabled.unique_id] = [disabled]
    return manifest


def shop_manifest() -> Manifest:
    """The shop manifest (built once; selection never mutates it)."""
    return _shop()
