"""Selection errors that point at the bad token, sqlglot-style.

A `SelectionError` from this package carries the expression and a caret line under
the offending span in its message, so the one line the CLI prints is enough to fix it:

    unknown selection method 'tagg': did you mean 'tag'?
      tagg:nightly
      ^^^^
"""

from __future__ import annotations

from collections.abc import Iterable

from kiln.errors import SelectionError, did_you_mean
from kiln.select.ast import Span


class MethodError(Exception):
    """Raised by a method function when its value is invalid.

    Methods know nothing of spans; the evaluator turns this into a `SelectionError`
    with a caret under the criterion's value.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def render_caret(source: str, span: Span) -> str:
    """The source line holding `span`, indented, with carets under the span.

    Example:
        >>> print(render_caret("tag:a tagg:b", (6, 10)))
          tag:a tagg:b
                ^^^^
        >>> print(render_caret("x+", (2, 2)))
          x+
            ^
    """
    start, end = span
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", start)
    line = source[line_start : len(source) if line_end == -1 else line_end]
    col = start - line_start
    width = max(1, min(end, line_start + len(line)) - start)
    return f"  {line}\n  {' ' * col}{'^' * width}"


def error_at(message: str, source: str, span: Span, *, origin: str | None = None) -> SelectionError:
    """A `SelectionError` whose message shows `source` with a caret under `span`.

    Args:
        message: what is wrong, without the location.
        source: the expression the span points into.
        span: the offending token.
        origin: where the expression came from (e.g. "selector 'nightly'"), prefixed.

    Example:
        >>> print(error_at("bad", "a,,b", (2, 2)).message)
        bad
          a,,b
            ^
    """
    prefix = f"{origin}: " if origin else ""
    return SelectionError(f"{prefix}{message}\n{render_caret(source, span)}")


def unknown_choice(kind: str, value: str, known: Iterable[str]) -> str:
    """A message for a value outside a fixed set, with a did-you-mean and the choices.

    Example:
        >>> unknown_choice("selection method", "tagg", ["tag", "path"])
        "unknown selection method 'tagg': did you mean 'tag'? (valid: path, tag)"
    """
    options = sorted(set(known))
    hint = did_you_mean(value, options)
    if hint.startswith("valid values"):
        return f"unknown {kind} {value!r} ({hint.replace('valid values', 'valid')})"
    return f"unknown {kind} {value!r}: {hint} (valid: {', '.join(options)})"
