"""A whole `kiln build` through the CLI on each adapter, from a profiles.yml naming it."""

from __future__ import annotations

from .conftest import write

PROJECT = {
    "dbt_project.yml": """\
        name: contract
        version: "1.0.0"
        config-version: 2
        profile: contract
        models:
          contract:
            +materialized: view
        """,
    "seeds/raw_orders.csv": """\
        id,customer,amount,ordered_on
        1,ann,10,2024-01-01
        2,bob,20,2024-01-02
        3,ann,30,2024-01-02
        """,
    "models/stg_orders.sql": """\
        select id, customer, amount, ordered_on from {{ ref('raw_orders') }}
        """,
    "models/customers.sql": """\
        {{ config(materialized='table', partition_by='customer') }}
        select customer, count(*) as orders, sum(amount) as total
        from {{ ref('stg_orders') }}
        group by customer
        """,
    "models/fct_orders.sql": """\
        {{ config(
            materialized='incremental',
            unique_key='id',
            incremental_strategy=('append' if target.type == 'spark' else 'merge'),
            on_schema_change='append_new_columns'
        ) }}
        select id, customer, amount from {{ ref('stg_orders') }}
        {% if is_incremental() %}
        where id > (select max(id) from {{ this }})
        {% endif %}
        """,
    "models/schema.yml": """\
        version: 2
        models:
          - name: fct_orders
            columns:
              - name: id
                data_tests: [unique, not_null]
        """,
}


def test_kiln_build_twice_through_the_cli(warehouse, tmp_path, run_kiln):
    root = tmp_path / "project"
    write(root, {**PROJECT, "profiles.yml": warehouse.profiles_yml("contract")})
    warehouse.adapter.close()  # the CLI opens its own connections

    first = run_kiln(["build", "--profiles-dir", str(root)], cwd=root)
    assert first.exit_code == 0, first.output
    assert "PASS=" in first.output and "ERROR=0" in first.output
    assert warehouse.kind_of("stg_orders") == "view"
    assert warehouse.kind_of("customers") == "table"
    assert sorted(warehouse.rows("fct_orders")) == [(1, "ann", 10), (2, "bob", 20), (3, "ann", 30)]

    write(root, {"seeds/raw_orders.csv": PROJECT["seeds/raw_orders.csv"] + "4,cy,40,2024-01-03\n"})
    second = run_kiln(["build", "--profiles-dir", str(root)], cwd=root)
    assert second.exit_code == 0, second.output
    assert len(warehouse.rows("fct_orders")) == 4
    # Spark puts partition columns (here `customer`) last.
    order = warehouse.columns("customers")
    rows = [dict(zip(order, row, strict=True)) for row in warehouse.rows("customers")]
    totals = {row["customer"]: row["total"] for row in rows}
    assert totals == {"ann": 40, "bob": 20, "cy": 40}
    assert warehouse.leftovers() == []
