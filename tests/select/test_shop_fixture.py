"""The factory-built shop manifest matches the conformance goldens and project files."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from select_shop import CONFORMANCE, SELECTORS

from kiln.manifest.nodes import Manifest

SUBSET = CONFORMANCE / "expected" / "shop" / "manifest_subset.json"
PROJECT = CONFORMANCE / "projects" / "shop"

needs_goldens = pytest.mark.skipif(not SUBSET.exists(), reason=f"no goldens at {SUBSET}")


@pytest.fixture(scope="module")
def subset() -> dict[str, Any]:
    return dict(json.loads(SUBSET.read_text()))


@needs_goldens
def test_nodes_and_edges_match_the_manifest_subset(shop: Manifest, subset: dict[str, Any]) -> None:
    expected = {uid: sorted(node["depends_on"]) for uid, node in subset["nodes"].items()}
    assert {uid: sorted(n.depends_on_nodes) for uid, n in shop.nodes.items()} == expected


@needs_goldens
def test_materializations_match_the_manifest_subset(shop: Manifest, subset: dict[str, Any]) -> None:
    expected = {uid: node["materialized"] for uid, node in subset["nodes"].items()}
    assert {uid: n.config["materialized"] for uid, n in shop.nodes.items()} == expected


@needs_goldens
def test_sources_exposures_disabled_match(shop: Manifest, subset: dict[str, Any]) -> None:
    assert sorted(shop.sources) == sorted(subset["sources"])
    exposures = {uid: sorted(e.depends_on_nodes) for uid, e in shop.exposures.items()}
    assert exposures == {uid: sorted(deps) for uid, deps in subset["exposures"].items()}
    assert sorted(shop.disabled) == sorted(subset["disabled"])


@needs_goldens
def test_selectors_match_the_project_file() -> None:
    raw = yaml.safe_load((PROJECT / "selectors.yml").read_text())
    for entry in raw["selectors"]:
        entry.pop("description", None)
    assert raw == SELECTORS


@needs_goldens
def test_every_node_file_exists_in_the_project(shop: Manifest) -> None:
    records = [*shop.nodes.values(), *shop.sources.values(), *shop.exposures.values()]
    missing = {
        r.original_file_path for r in records if not (PROJECT / r.original_file_path).exists()
    }
    assert missing == set()
