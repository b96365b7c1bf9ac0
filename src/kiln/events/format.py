"""dbt's console wording for node progress lines."""

from __future__ import annotations

LINE_WIDTH = 80


def progress_line(index: int, total: int, message: str, status: str) -> str:
    """`1 of 12 START sql view model main.x ....... [RUN]`, padded with dots like dbt.

    Example:
        >>> progress_line(1, 2, "START sql view model main.a", "RUN")[:36]
        '1 of 2 START sql view model main.a '
    """
    prefix = f"{index} of {total} {message} "
    dots = "." * max(3, LINE_WIDTH - len(prefix))
    return f"{prefix}{dots} [{status}]"


def describe_model(node_materialized: str, language: str = "sql") -> str:
    """`sql view model`, `sql incremental model`, `seed file`, ..."""
    if node_materialized == "seed":
        return "seed file"
    if node_materialized == "snapshot":
        return "snapshot"
    if node_materialized == "test":
        return "test"
    return f"{language} {node_materialized} model"


def plural(count: int, word: str) -> str:
    """`1 seed`, `2 seeds`, `3 view models`.

    Example:
        >>> plural(2, "table model")
        '2 table models'
    """
    if count == 1:
        return f"{count} {word}"
    if word.endswith("analysis"):
        return f"{count} {word[:-2]}es"
    return f"{count} {word}s"
