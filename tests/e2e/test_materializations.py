"""Materializations, seeds, hooks and naming configs, run through the whole CLI on DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

# An incremental source whose size and label come from vars, so a second run can add rows.
NUMBERS = (
    "select range as id, '{{ var(\"tag\", \"first\") }}' as tag from range(1, {{ var('n', 4) }})"
)


def _incremental(strategy_config: str, body: str) -> str:
    """An incremental model: `{{ config(materialized='incremental', <strategy_config>) }}`."""
    return "{{ config(materialized='incremental', " + strategy_config + ") }}\n" + body


def test_view_model_is_created_as_a_view_with_its_rows(project):
    proj = project({"models/v.sql": "{{ config(materialized='view') }} select 1 as id, 'x' as s"})

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations() == {"v": "VIEW"}
    assert proj.query("select id, s from main.v") == [(1, "x")]


def test_table_model_is_created_as_a_table_with_its_rows(project):
    proj = project(
        {"models/t.sql": "{{ config(materialized='table') }} select * from range(3) r(id)"}
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations() == {"t": "BASE TABLE"}
    assert proj.query("select id from main.t order by id") == [(0,), (1,), (2,)]


def test_nested_ephemeral_models_are_inlined_as_ctes_and_never_created(project):
    proj = project(
        {
            "models/e1.sql": (
                "{{ config(materialized='ephemeral') }} select 1 as id union all select 2"
            ),
            "models/e2.sql": (
                "{{ config(materialized='ephemeral') }} select id * 10 as id from {{ ref('e1') }}"
            ),
            # starts with its own WITH: the ephemeral CTEs must be merged into it
            "models/final.sql": (
                "{{ config(materialized='table') }}\n"
                "with base as (select id from {{ ref('e2') }})\n"
                "select id + 1 as id from base"
            ),
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select id from main.final order by id") == [(11,), (21,)]
    assert proj.relations() == {"final": "BASE TABLE"}
    compiled = proj.run_results()["results"][0]["compiled_code"]
    assert "__dbt__cte__e1" in compiled
    assert "__dbt__cte__e2" in compiled
    assert [r["unique_id"] for r in proj.run_results()["results"]] == ["model.e2e.final"]


def test_incremental_append_second_run_adds_only_new_rows_via_is_incremental_and_this(project):
    proj = project(
        {
            "models/numbers.sql": NUMBERS,
            "models/inc.sql": _incremental(
                "incremental_strategy='append'",
                "select id, tag from {{ ref('numbers') }}\n"
                "{% if is_incremental() %} where id > (select max(id) from {{ this }}) "
                "{% endif %}",
            ),
        }
    )
    assert proj.run("run").exit_code == 0

    result = proj.run("run", "--vars", "{n: 6, tag: second}")

    assert result.exit_code == 0, result
    assert proj.query("select id, tag from main.inc order by id") == [
        (1, "first"),
        (2, "first"),
        (3, "first"),
        (4, "second"),
        (5, "second"),
    ]


def test_incremental_merge_updates_matching_unique_key_and_inserts_new_rows(project):
    proj = project(
        {
            "models/numbers.sql": NUMBERS,
            "models/inc.sql": _incremental(
                "incremental_strategy='merge', unique_key='id'",
                "select id, tag from {{ ref('numbers') }}"
                "{% if is_incremental() %} where id >= 2 {% endif %}",
            ),
        }
    )
    assert proj.run("run").exit_code == 0

    result = proj.run("run", "--vars", "{n: 5, tag: second}")

    assert result.exit_code == 0, result
    assert proj.query("select id, tag from main.inc order by id") == [
        (1, "first"),
        (2, "second"),
        (3, "second"),
        (4, "second"),
    ]


def test_incremental_delete_insert_with_single_unique_key_replaces_matching_rows(project):
    proj = project(
        {
            "models/numbers.sql": NUMBERS,
            "models/inc.sql": _incremental(
                "incremental_strategy='delete+insert', unique_key='id'",
                "select id, tag from {{ ref('numbers') }}"
                "{% if is_incremental() %} where id >= 3 {% endif %}",
            ),
        }
    )
    assert proj.run("run").exit_code == 0

    result = proj.run("run", "--vars", "{n: 6, tag: second}")

    assert result.exit_code == 0, result
    assert proj.query("select id, tag from main.inc order by id") == [
        (1, "first"),
        (2, "first"),
        (3, "second"),
        (4, "second"),
        (5, "second"),
    ]


def test_incremental_delete_insert_with_composite_unique_key_matches_on_all_columns(project):
    model = (
        "{{ config(materialized='incremental', incremental_strategy='delete+insert',"
        " unique_key=['k1', 'k2']) }}\n"
        "{% if not is_incremental() %}\n"
        "select * from (values (1, 'a', 'old'), (1, 'b', 'old'), (2, 'a', 'old')) t(k1, k2, v)\n"
        "{% else %}\n"
        "select * from (values (1, 'a', 'new'), (2, 'b', 'new')) t(k1, k2, v)\n"
        "{% endif %}"
    )
    proj = project({"models/inc.sql": model})
    assert proj.run("run").exit_code == 0

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select k1, k2, v from main.inc order by k1, k2") == [
        (1, "a", "new"),
        (1, "b", "old"),
        (2, "a", "old"),
        (2, "b", "new"),
    ]


def test_incremental_merge_with_composite_unique_key_updates_only_full_matches(project):
    model = (
        "{{ config(materialized='incremental', incremental_strategy='merge',"
        " unique_key=['k1', 'k2']) }}\n"
        "{% if not is_incremental() %}\n"
        "select * from (values (1, 'a', 'old'), (1, 'b', 'old')) t(k1, k2, v)\n"
        "{% else %}\n"
        "select * from (values (1, 'b', 'new'), (2, 'a', 'new')) t(k1, k2, v)\n"
        "{% endif %}"
    )
    proj = project({"models/inc.sql": model})
    assert proj.run("run").exit_code == 0

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select k1, k2, v from main.inc order by k1, k2") == [
        (1, "a", "old"),
        (1, "b", "new"),
        (2, "a", "new"),
    ]


def test_full_refresh_rebuilds_an_incremental_model_from_scratch(project):
    proj = project(
        {
            "models/numbers.sql": NUMBERS,
            "models/inc.sql": _incremental(
                "incremental_strategy='append'",
                "select id, tag, {{ is_incremental() }} as was_incremental"
                " from {{ ref('numbers') }}",
            ),
        }
    )
    assert proj.run("run").exit_code == 0
    assert proj.run("run").exit_code == 0
    assert proj.query("select count(*) from main.inc") == [(6,)]

    result = proj.run("run", "--full-refresh", "--vars", "{n: 3, tag: rebuilt}")

    assert result.exit_code == 0, result
    assert proj.query("select id, tag, was_incremental from main.inc order by id") == [
        (1, "rebuilt", False),
        (2, "rebuilt", False),
    ]


SEED_CSV = """\
id,price,active,born,name
1,9.99,true,2024-01-31,ann
2,10.5,false,2023-12-01,bob
"""


def _column_types(proj, relation: str) -> dict[str, str]:
    rows = proj.query(
        "select column_name, data_type from information_schema.columns "
        f"where table_name = '{relation}' order by ordinal_position"
    )
    return dict(rows)


def test_seed_infers_integer_decimal_boolean_date_and_text_types(project):
    proj = project({"seeds/people.csv": SEED_CSV})

    result = proj.run("seed")

    assert result.exit_code == 0, result
    types = _column_types(proj, "people")
    assert types["id"] in ("INTEGER", "BIGINT")
    assert types["price"] == "DOUBLE" or types["price"].startswith("DECIMAL")
    assert types["active"] == "BOOLEAN"
    assert types["born"] == "DATE"
    assert types["name"] == "VARCHAR"
    rows = proj.query("select id, price, active, born, name from main.people order by id")
    assert rows[0][0] == 1
    assert Decimal(str(rows[0][1])) == Decimal("9.99")
    assert rows[0][2:] == (True, dt.date(2024, 1, 31), "ann")
    assert rows[1][2:] == (False, dt.date(2023, 12, 1), "bob")


def test_seed_column_types_in_dbt_project_override_inference(project):
    proj = project(
        {
            "seeds/people.csv": SEED_CSV,
            "dbt_project.yml": """\
            name: e2e
            version: "1.0.0"
            config-version: 2
            profile: e2e
            seeds:
              e2e:
                people:
                  +column_types:
                    id: varchar
                    price: decimal(10, 3)
            """,
        }
    )

    result = proj.run("seed")

    assert result.exit_code == 0, result
    types = _column_types(proj, "people")
    assert types["id"] == "VARCHAR"
    assert types["price"] == "DECIMAL(10,3)"
    assert types["active"] == "BOOLEAN"
    assert proj.query("select id, price from main.people order by id") == [
        ("1", Decimal("9.990")),
        ("2", Decimal("10.500")),
    ]


def test_seed_rerun_replaces_rows_and_full_refresh_recreates_with_new_columns(project):
    proj = project({"seeds/s.csv": "id,name\n1,a\n2,b\n"})
    assert proj.run("seed").exit_code == 0
    assert proj.run("seed").exit_code == 0
    assert proj.query("select count(*) from main.s") == [(2,)]

    proj.write({"seeds/s.csv": "id,name,extra\n7,z,x\n"})
    result = proj.run("seed", "--full-refresh")

    assert result.exit_code == 0, result
    assert _column_types(proj, "s") == {"id": "INTEGER", "name": "VARCHAR", "extra": "VARCHAR"}
    assert proj.query("select id, name, extra from main.s") == [(7, "z", "x")]


def test_pre_and_post_hooks_run_in_order_and_post_hook_can_update_this(project):
    proj = project(
        {
            "models/hooked.sql": """\
            {{ config(
                materialized='table',
                pre_hook=["create table if not exists main.audit (step int, msg varchar)",
                          "insert into main.audit values (1, 'pre')"],
                post_hook=["insert into main.audit values (2, 'post {{ this.identifier }}')",
                           "update {{ this }} set v = v * 10"],
            ) }}
            select 1 as v union all select 2
            """
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select v from main.hooked order by v") == [(10,), (20,)]
    assert proj.query("select step, msg from main.audit order by step") == [
        (1, "pre"),
        (2, "post hooked"),
    ]


def test_alias_names_the_relation_and_the_manifest_node(project):
    proj = project(
        {"models/a.sql": "{{ config(materialized='table', alias='renamed') }} select 1 as id"}
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations() == {"renamed": "BASE TABLE"}
    node = proj.manifest()["nodes"]["model.e2e.a"]
    assert node["alias"] == "renamed"
    assert node["relation_name"] == '"proj"."main"."renamed"'


def test_custom_schema_is_appended_to_the_target_schema(project):
    proj = project(
        {"models/a.sql": "{{ config(materialized='table', schema='staging') }} select 1 as id"}
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations("main_staging") == {"a": "BASE TABLE"}
    assert proj.relations("main") == {}
    assert proj.manifest()["nodes"]["model.e2e.a"]["schema"] == "main_staging"


def test_project_generate_schema_name_macro_overrides_the_default(project):
    proj = project(
        {
            "models/a.sql": "{{ config(materialized='table', schema='staging') }} select 1 as id",
            "models/b.sql": "{{ config(materialized='table') }} select 2 as id",
            "macros/schema.sql": """\
            {% macro generate_schema_name(custom_schema_name, node) -%}
                {%- if custom_schema_name is none -%}{{ target.schema }}
                {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
            {%- endmacro %}
            """,
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations("staging") == {"a": "BASE TABLE"}
    assert proj.relations("main") == {"b": "BASE TABLE"}
    assert proj.manifest()["nodes"]["model.e2e.a"]["schema"] == "staging"


def test_tags_and_meta_appear_in_the_manifest(project):
    proj = project(
        {
            "models/a.sql": "{{ config(tags=['nightly'], meta={'owner': 'ann'}) }} select 1 as id",
            "models/schema.yml": """\
            version: 2
            models:
              - name: a
                description: the a model
                config:
                  tags: ['finance']
            """,
        }
    )

    result = proj.run("parse")

    assert result.exit_code == 0, result
    node = proj.manifest()["nodes"]["model.e2e.a"]
    assert sorted(node["tags"]) == ["finance", "nightly"]
    assert sorted(node["config"]["tags"]) == ["finance", "nightly"]
    assert node["config"]["meta"] == {"owner": "ann"}
    assert node["meta"] == {"owner": "ann"}
    assert node["description"] == "the a model"


def test_disabled_model_is_not_built_and_is_listed_under_disabled_in_manifest(project):
    proj = project(
        {
            "models/on.sql": "select 1 as id",
            "models/off.sql": "{{ config(enabled=false) }} select 1 as id",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations() == {"on": "VIEW"}
    manifest = proj.manifest()
    assert "model.e2e.off" not in manifest["nodes"]
    disabled = manifest["disabled"]["model.e2e.off"]
    assert len(disabled) == 1
    assert disabled[0]["config"]["enabled"] is False
    assert disabled[0]["name"] == "off"
    assert [r["unique_id"] for r in proj.run_results()["results"]] == ["model.e2e.on"]


def test_seed_empty_fields_are_null_and_quoted_delimiters_are_kept(project):
    proj = project({"seeds/s.csv": 'id,name,note\n1,"Smith, J",\n2,,x\n3,"say ""hi""",y\n'})

    result = proj.run("seed")

    assert result.exit_code == 0, result
    assert proj.query("select id, name, note from main.s order by id") == [
        (1, "Smith, J", None),
        (2, None, "x"),
        (3, 'say "hi"', "y"),
    ]


def test_changing_materialization_replaces_a_view_with_a_table_and_back(project):
    proj = project({"models/m.sql": "select 1 as id"})
    assert proj.run("run").exit_code == 0
    assert proj.relations() == {"m": "VIEW"}

    proj.write({"models/m.sql": "{{ config(materialized='table') }} select 2 as id"})
    assert proj.run("run").exit_code == 0
    assert proj.relations() == {"m": "BASE TABLE"}
    assert proj.query("select id from main.m") == [(2,)]

    proj.write({"models/m.sql": "{{ config(materialized='view') }} select 3 as id"})
    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.relations() == {"m": "VIEW"}
    assert proj.query("select id from main.m") == [(3,)]


def test_snapshot_check_strategy_closes_changed_rows_on_the_second_run(project):
    snapshot = """\
    {% snapshot snap %}
    {{ config(target_schema='main', unique_key='id', strategy='check', check_cols=['v']) }}
    select * from (values (1, '{{ var("v1", "a") }}'), (2, 'b')) t(id, v)
    {% endsnapshot %}
    """
    proj = project({"snapshots/snap.sql": snapshot})
    assert proj.run("snapshot").exit_code == 0

    result = proj.run("snapshot", "--vars", "{v1: changed}")

    assert result.exit_code == 0, result
    rows = proj.query(
        "select id, v, dbt_valid_to is null as is_current from main.snap order by id, v"
    )
    assert rows == [(1, "a", False), (1, "changed", True), (2, "b", True)]


def test_on_run_start_and_on_run_end_project_hooks_run_around_the_nodes(project):
    proj = project(
        {
            "dbt_project.yml": """\
            name: e2e
            version: "1.0.0"
            config-version: 2
            profile: e2e
            on-run-start:
              - create table if not exists main.runlog (n int, ev varchar)
              - insert into main.runlog values (1, 'start')
            on-run-end:
              - "insert into main.runlog values (2, 'end {{ results | length }}')"
            """,
            "models/m.sql": "select 1 as id",
            "models/n.sql": "select 2 as id",
        }
    )

    result = proj.run("run")

    assert result.exit_code == 0, result
    assert proj.query("select n, ev from main.runlog order by n") == [(1, "start"), (2, "end 2")]


def test_microbatch_event_time_flags_limit_the_batches_processed(project):
    proj = project(
        {
            "seeds/events.csv": "id,ts\n1,2024-01-01 10:00:00\n2,2024-01-02 10:00:00\n"
            "3,2024-01-03 10:00:00\n",
            # the batch reads only its window of an upstream that has an event_time
            "seeds/events.yml": "version: 2\nseeds:\n  - name: events\n"
            "    config:\n      event_time: ts\n",
            "models/daily.sql": (
                "{{ config(materialized='incremental', incremental_strategy='microbatch',"
                " event_time='ts', batch_size='day', begin='2024-01-01') }}"
                "select id, ts from {{ ref('events') }}"
            ),
        }
    )
    assert proj.run("seed").exit_code == 0
    result = proj.run(
        "run", "-s", "daily", "--event-time-start", "2024-01-02", "--event-time-end", "2024-01-03"
    )
    assert result.exit_code == 0, result
    assert proj.query("select id from main.daily order by id") == [(2,)]
