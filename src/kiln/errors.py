"""The one exception hierarchy of Kiln.

Every error says what happened, where (file and line when known) and what to do.
The CLI turns a `KilnError` into one line and an exit code; nothing else prints tracebacks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a project file."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class KilnError(Exception):
    """Root of every error Kiln raises on purpose.

    Args:
        message: what happened.
        hint: what the user can do about it.
        location: the file (and line) the error is about.
    """

    exit_code = 2

    def __init__(
        self, message: str, *, hint: str | None = None, location: Location | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def render(self) -> str:
        """The one-line form shown to users."""
        where = f"{self.location}: " if self.location else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{type(self).__name__}: {where}{self.message}{hint}"


class ProjectError(KilnError):
    """dbt_project.yml is missing or invalid."""


class ProfileError(KilnError):
    """profiles.yml, the profile or the target is missing or invalid."""


class ConfigError(KilnError):
    """A config value is invalid."""


class ParseError(KilnError):
    """A project file cannot be parsed (Jinja syntax, YAML, unknown ref, cycle)."""


class CompilationError(KilnError):
    """A node cannot be compiled (Jinja runtime error, raise_compiler_error)."""


class SelectionError(KilnError):
    """A selection expression is invalid."""


class DatabaseError(KilnError):
    """The warehouse rejected a statement."""

    exit_code = 1


class ArtifactError(KilnError):
    """An artifact cannot be read or written."""


class IncompatibleArtifactError(ArtifactError):
    """An artifact has a schema version Kiln cannot read."""


class InternalError(KilnError):
    """A bug in Kiln."""


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """A hint naming the closest known value, or listing the known values.

    Example:
        >>> did_you_mean("tagg", ["tag", "path"])
        "did you mean 'tag'?"
    """
    options = sorted(set(known))
    close = difflib.get_close_matches(value, options, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid values: " + ", ".join(options)
