"""Snapshots end to end: three runs over changing source rows, the exact SCD2 history.

One project holds a snapshot per strategy and hard-delete mode over the same seed; the seed
is rewritten between `kiln build` runs. Run 1 loads ids 1, 2, 3, 5; run 2 changes 1,
deletes 2, adds 4 and keeps 5's NULL name; run 3 brings 2 back unchanged, changes 3, gives
5 a name and deletes 4.
"""

from __future__ import annotations

import datetime as dt

import pytest

from .issue4_support import module_project

RUN_1 = """\
id,region,name,updated_at
1,x,a,2024-01-01 00:00:00
2,x,b,2024-01-01 00:00:00
3,x,c,2024-01-01 00:00:00
5,x,,2024-01-01 00:00:00
"""
RUN_2 = """\
id,region,name,updated_at
1,x,a2,2024-01-02 00:00:00
3,x,c,2024-01-01 00:00:00
4,x,d,2024-01-02 00:00:00
5,x,,2024-01-01 00:00:00
"""
RUN_3 = """\
id,region,name,updated_at
1,x,a2,2024-01-02 00:00:00
2,x,b,2024-01-01 00:00:00
3,x,c3,2024-01-03 00:00:00
5,x,e,2024-01-03 00:00:00
"""

PROJECT_YML = """\
name: e2e
version: "1.0.0"
config-version: 2
profile: e2e
seeds:
  e2e:
    src:
      +column_types: {updated_at: timestamp}
"""

SNAPSHOTS_YML = """\
snapshots:
  - name: ts_ignore
    relation: ref('src')
    config: {unique_key: id, strategy: timestamp, updated_at: updated_at}
    columns:
      - name: dbt_scd_id
        data_tests: [unique]
  - name: ts_invalidate
    relation: ref('src')
    config:
      unique_key: id
      strategy: timestamp
      updated_at: updated_at
      hard_deletes: invalidate
  - name: ts_new_record
    relation: ref('src')
    config:
      unique_key: id
      strategy: timestamp
      updated_at: updated_at
      hard_deletes: new_record
  - name: check_list
    relation: ref('src')
    config:
      unique_key: [id, region]
      strategy: check
      check_cols: [name]
      invalidate_hard_deletes: true
  - name: check_all
    relation: ref('src')
    config: {unique_key: id, strategy: check, check_cols: all, hard_deletes: new_record}
  - name: check_updated_at
    relation: ref('src')
    config: {unique_key: id, strategy: check, check_cols: [name], updated_at: updated_at}
  - name: custom_meta
    relation: ref('src')
    config:
      unique_key: id
      strategy: timestamp
      updated_at: updated_at
      hard_deletes: invalidate
      dbt_valid_to_current: "cast('9999-12-31' as timestamp)"
      snapshot_meta_column_names: {dbt_valid_from: start_at, dbt_valid_to: end_at}
"""

LEGACY_SNAPSHOT = """\
{% snapshot legacy_snap %}
{{ config(target_schema='snaps', unique_key='id', strategy='timestamp',
          updated_at='updated_at', invalidate_hard_deletes=True) }}
select * from {{ ref('src') }}
{% endsnapshot %}
"""

# (id, name, closed) for modes without deletion records
INVALIDATE_HISTORY = {
    (1, "a", True), (1, "a2", False),
    (2, "b", True), (2, "b", False),
    (3, "c", True), (3, "c3", False),
    (4, "d", True),
    (5, None, True), (5, "e", False),
}  # fmt: skip

# (id, name, closed, dbt_is_deleted) for hard_deletes: new_record
NEW_RECORD_HISTORY = {
    (1, "a", True, "False"), (1, "a2", False, "False"),
    (2, "b", True, "False"), (2, "b", True, "True"), (2, "b", False, "False"),
    (3, "c", True, "False"), (3, "c3", False, "False"),
    (4, "d", True, "False"), (4, "d", False, "True"),
    (5, None, True, "False"), (5, "e", False, "False"),
}  # fmt: skip


def ts(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The project after three build runs (built once for the whole module)."""
    files = {
        "dbt_project.yml": PROJECT_YML,
        "snapshots/snapshots.yml": SNAPSHOTS_YML,
        "snapshots/legacy.sql": LEGACY_SNAPSHOT,
    }
    for proj in module_project(tmp_path_factory, "snapshots", files):
        outputs = []
        for data in (RUN_1, RUN_2, RUN_3):
            proj.write({"seeds/src.csv": data})
            result = proj.run("build")
            assert result.exit_code == 0, result
            outputs.append(proj.statuses())
        yield proj, outputs


def closed_rows(proj, relation, valid_to="dbt_valid_to"):
    rows = proj.query(f"select id, name, {valid_to} is not null from {relation}")
    return set(rows)


def test_every_snapshot_run_succeeds(history):
    _, outputs = history
    for statuses in outputs:
        tests = {uid: s for uid, s in statuses.items() if uid.startswith("test.")}
        assert list(tests.values()) == ["pass"]  # the test on the snapshot's column
        assert {s for uid, s in statuses.items() if uid not in tests} == {"success"}
        assert "snapshot.e2e.legacy_snap" in statuses


def test_timestamp_ignore_keeps_deleted_rows_current(history):
    proj, _ = history
    assert closed_rows(proj, "ts_ignore") == {
        (1, "a", True), (1, "a2", False),
        (2, "b", False),
        (3, "c", True), (3, "c3", False),
        (4, "d", False),
        (5, None, True), (5, "e", False),
    }  # fmt: skip


def test_timestamp_closes_versions_at_the_new_updated_at(history):
    proj, _ = history
    rows = proj.query(
        "select id, name, dbt_valid_from, dbt_valid_to, dbt_updated_at from ts_ignore "
        "where id in (1, 3) order by id, dbt_valid_from"
    )
    assert rows == [
        (1, "a", ts(1), ts(2), ts(1)),
        (1, "a2", ts(2), None, ts(2)),
        (3, "c", ts(1), ts(3), ts(1)),
        (3, "c3", ts(3), None, ts(3)),
    ]


def test_timestamp_invalidate_closes_deleted_rows_and_reinserts_returning_ones(history):
    proj, _ = history
    assert closed_rows(proj, "ts_invalidate") == INVALIDATE_HISTORY
    assert closed_rows(proj, "snaps.legacy_snap") == INVALIDATE_HISTORY


def test_new_record_marks_deletions_and_reopens_returning_keys(history):
    proj, _ = history
    for name in ("ts_new_record", "check_all"):
        rows = proj.query(f"select id, name, dbt_valid_to is not null, dbt_is_deleted from {name}")
        assert sorted(rows, key=repr) == sorted(NEW_RECORD_HISTORY, key=repr), name
        assert len(rows) == len(NEW_RECORD_HISTORY)


def test_deletion_record_copies_the_row_and_starts_when_it_was_deleted(history):
    proj, _ = history
    (row,) = proj.query(
        "select name, updated_at, dbt_valid_from > timestamp '2024-06-01', dbt_scd_id "
        "from ts_new_record where id = 4 and dbt_is_deleted = 'True'"
    )
    assert row[:3] == ("d", ts(2), True)
    scd_ids = [r[0] for r in proj.query("select dbt_scd_id from ts_new_record")]
    assert len(scd_ids) - len(set(scd_ids)) == 1  # only the returning id 2 reuses its old id


def test_check_strategy_with_key_list_compares_nulls_as_equal(history):
    proj, _ = history
    assert closed_rows(proj, "check_list") == INVALIDATE_HISTORY
    # id 5's NULL name was unchanged in run 2: one version until run 3
    assert proj.query("select count(*) from check_list where id = 5") == [(2,)]


def test_check_strategy_with_updated_at_dates_versions_by_that_column(history):
    proj, _ = history
    rows = proj.query(
        "select name, dbt_valid_from, dbt_valid_to from check_updated_at where id = 1 "
        "order by dbt_valid_from"
    )
    assert rows == [("a", ts(1), ts(2)), ("a2", ts(2), None)]


def test_custom_meta_column_names_and_valid_to_current(history):
    proj, _ = history
    columns = [c for (c,) in proj.query("select column_name from (describe custom_meta)")]
    assert columns[-4:] == ["dbt_scd_id", "dbt_updated_at", "start_at", "end_at"]
    open_rows = proj.query(
        "select id, name from custom_meta where end_at = timestamp '9999-12-31' order by id"
    )
    assert open_rows == [(1, "a2"), (2, "b"), (3, "c3"), (5, "e")]
    assert proj.query("select count(*) from custom_meta where end_at is null") == [(0,)]


def test_snapshot_command_runs_only_snapshots(history):
    proj, _ = history
    result = proj.run("snapshot", "-s", "ts_ignore")
    assert result.exit_code == 0, result
    assert proj.statuses() == {"snapshot.e2e.ts_ignore": "success"}
    assert len(proj.query("select * from ts_ignore")) == 8  # nothing changed


def test_failed_snapshot_leaves_history_untouched(project):
    snapshot = (
        "{% snapshot snap %}\n{{ config(unique_key='id', strategy='check', check_cols=['v']) }}\n"
        "select id, cast(v as integer) as v from {{ ref('src') }}\n{% endsnapshot %}\n"
    )
    proj = project({"seeds/src.csv": "id,v\n1,10\n", "snapshots/snap.sql": snapshot})
    assert proj.run("build").exit_code == 0
    before = proj.query("select * from snap")
    proj.write({"seeds/src.csv": "id,v\n1,11\n2,oops\n"})
    assert proj.run("seed", "--full-refresh").exit_code == 0

    result = proj.run("snapshot")

    assert result.exit_code == 1, result
    (outcome,) = proj.run_results()["results"]
    assert outcome["status"] == "error"
    assert "oops" in outcome["message"]
    assert proj.query("select * from snap") == before


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{strategy: timestamp, updated_at: u}", "snapshot 'snap' needs a unique_key"),
        ("{unique_key: id}", "snapshot 'snap' needs strategy: timestamp or check"),
    ],
)
def test_snapshot_without_key_or_strategy_fails_the_parse(project, config, message):
    proj = project(
        {
            "seeds/src.csv": "id,u\n1,2024-01-01\n",
            "snapshots/snaps.yml": (
                f"snapshots:\n  - name: snap\n    relation: ref('src')\n    config: {config}\n"
            ),
        }
    )
    result = proj.run("build")
    assert result.exit_code == 2, result
    assert "snapshots/snaps.yml" in result.output
    assert message in result.output
    assert not proj.db_path.exists() or "src" not in proj.relations()


def test_check_cols_naming_a_missing_column_is_a_node_error_naming_the_file(project):
    proj = project(
        {
            "seeds/src.csv": "id,v\n1,a\n",
            "snapshots/snaps.yml": (
                "snapshots:\n  - name: snap\n    relation: ref('src')\n"
                "    config: {unique_key: id, strategy: check, check_cols: [v, nope]}\n"
            ),
        }
    )
    result = proj.run("build")
    assert result.exit_code == 1, result
    outcome = proj.run_results()["results"]
    (snap,) = [r for r in outcome if r["unique_id"] == "snapshot.e2e.snap"]
    assert snap["status"] == "error"
    assert "snapshot 'snap' (snapshots/snaps.yml)" in snap["message"]
    assert "nope" in snap["message"]
    assert "snap" not in proj.relations()
