"""Snapshot config validation and the SQL helpers that do not need a database."""

from __future__ import annotations

import pytest

from kiln.errors import CompilationError
from kiln.materialize.snapshot import SnapshotSpec

BASE = {"strategy": "timestamp", "unique_key": "id", "updated_at": "updated_at"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"unique_key": "id"}, "needs strategy"),
        ({"strategy": "timestamp", "updated_at": "u"}, "needs a unique_key"),
        ({"strategy": "timestamp", "unique_key": "id"}, "has no updated_at"),
        ({"strategy": "check", "unique_key": "id"}, "has no check_cols"),
        ({**BASE, "hard_deletes": "drop"}, "hard_deletes: 'drop'"),
        ({**BASE, "hard_deletes": "ignore", "invalidate_hard_deletes": True}, "sets both"),
        ({**BASE, "snapshot_meta_column_names": {"dbt_valid_since": "x"}}, "dbt_valid_since"),
    ],
)
def test_invalid_configs_are_rejected_with_the_reason(config, message):
    with pytest.raises(CompilationError, match=message):
        SnapshotSpec.from_config(config, "snap")


def test_legacy_invalidate_hard_deletes_means_invalidate():
    spec = SnapshotSpec.from_config({**BASE, "invalidate_hard_deletes": True}, "snap")
    assert spec.hard_deletes == "invalidate"
    assert SnapshotSpec.from_config(BASE, "snap").hard_deletes == "ignore"


def test_key_list_check_cols_and_meta_names_are_normalised():
    spec = SnapshotSpec.from_config(
        {
            "strategy": "check",
            "unique_key": ["id", "region"],
            "check_cols": "name",
            "snapshot_meta_column_names": {"dbt_valid_to": "end_at"},
        },
        "snap",
    )
    assert spec.unique_key == ("id", "region")
    assert spec.check_cols == ("name",)
    assert spec.meta["dbt_valid_to"] == "end_at"
    assert spec.meta["dbt_scd_id"] == "dbt_scd_id"
