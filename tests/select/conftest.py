"""Shared fixtures of the selection tests: the shop manifest and a `run_ls` helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from select_args import selection_kwargs
from select_shop import shop_manifest

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Manifest
from kiln.select import select_nodes


@pytest.fixture(scope="session")
def shop() -> Manifest:
    """The conformance project `shop` as a manifest."""
    return shop_manifest()


@pytest.fixture(scope="session")
def shop_graph(shop: Manifest) -> Graph:
    """The shop manifest's graph."""
    return Graph.from_manifest(shop)


@pytest.fixture
def run_ls(shop: Manifest, shop_graph: Graph) -> Callable[[Sequence[str]], frozenset[str]]:
    """Select over the shop manifest from a command line such as `["ls", "--select", "x"]`."""

    def run(args: Sequence[str]) -> frozenset[str]:
        return select_nodes(shop, shop_graph, **selection_kwargs(args))

    return run
