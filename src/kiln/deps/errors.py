"""The error `kiln deps` raises for anything wrong with a package or its source."""

from __future__ import annotations

from kiln.errors import KilnError


class DependencyError(KilnError):
    """A package cannot be declared, resolved, fetched or installed (dbt's DependencyError)."""
