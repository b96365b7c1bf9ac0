"""Kiln: a dbt-compatible SQL transformation engine."""

__version__ = "0.1.0"

# The dbt-core release whose behaviour Kiln matches; written as metadata.dbt_version in artifacts.
DBT_COMPAT_VERSION = "1.11.16"
