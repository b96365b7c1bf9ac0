"""compiled_code is dbt's byte for byte: one trailing newline dropped, ephemeral CTEs spaced
as dbt-core 1.11.16 writes them (recorded from it on the same files)."""

from __future__ import annotations

FILES = {
    "models/e1.sql": "{{ config(materialized='ephemeral') }}\nselect 1 as id\n",
    "models/e2.sql": "{{ config(materialized='ephemeral') }}\nselect 2 as id\n",
    "models/plain.sql": "select * from {{ ref('e1') }} union all select * from {{ ref('e2') }}\n",
    "models/withy.sql": (
        "-- lead\nWITH x as (select * from {{ ref('e1') }}) select * from x, {{ ref('e2') }}\n"
    ),
    "models/simple.sql": "select 1 as id\n",
}


def test_compiled_code_is_byte_for_byte_dbts(project):
    proj = project(FILES)
    result = proj.run("compile")
    assert result.exit_code == 0, result
    code = {r["unique_id"]: r["compiled_code"] for r in proj.run_results()["results"]}
    assert code["model.e2e.simple"] == "select 1 as id"
    assert code["model.e2e.plain"] == (
        "with __dbt__cte__e1 as (\n\nselect 1 as id\n),  __dbt__cte__e2 as (\n\nselect 2 as id\n)"
        " select * from __dbt__cte__e1 union all select * from __dbt__cte__e2"
    )
    assert code["model.e2e.withy"] == (
        "-- lead\nWITH  __dbt__cte__e1 as (\n\nselect 1 as id\n),  __dbt__cte__e2 as (\n\n"
        "select 2 as id\n), x as (select * from __dbt__cte__e1) select * from x, __dbt__cte__e2"
    )
    written = proj.root / "target/compiled/e2e/models/simple.sql"
    assert written.read_text() == "select 1 as id"
