"""YAML loading with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kiln.errors import KilnError, Location, ParseError

try:  # the C loader is several times faster on large properties files
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def load_yaml_text(text: str, path: str, *, error: type[KilnError] = ParseError) -> Any:
    """Parse YAML text; a syntax error becomes one error naming the file and line.

    Example:
        >>> load_yaml_text("a: 1", "x.yml")
        {'a': 1}
    """
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(
            f"invalid YAML: {problem}",
            hint="fix the YAML syntax at that line",
            location=Location(path, line),
        ) from None


def load_yaml_file(path: Path, display: str | None = None) -> Any:
    """Read and parse a YAML file."""
    return load_yaml_text(path.read_text(encoding="utf-8"), display or str(path))


def dump_yaml(data: Any) -> str:
    """YAML text for `toyaml`."""
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
