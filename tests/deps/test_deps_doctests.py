"""The `Example:` sections of the kiln.deps docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "kiln.deps.semver",
    "kiln.deps.lockfile",
    "kiln.deps.hub",
    "kiln.deps.fetch",
    "kiln.deps.sources",
    "kiln.deps.resolve",
    "kiln.deps.add",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
