"""Pure matching helpers: fnmatch globs, dbt's fqn rules, path globs, model versions.

Patterns are compiled once per distinct pattern (cached), never once per node.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from fnmatch import translate
from functools import lru_cache

_GLOB_CHARS = frozenset("*?[]")


def has_glob(text: str) -> bool:
    """Whether `text` holds an fnmatch wildcard.

    Example:
        >>> has_glob("stg_*"), has_glob("stg_orders")
        (True, False)
    """
    return not _GLOB_CHARS.isdisjoint(text)


@lru_cache(maxsize=1024)
def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-sensitive fnmatch test for `pattern` (plain equality without wildcards).

    Example:
        >>> glob_matcher("raw.*s")("raw.orders"), glob_matcher("a")("A")
        (True, False)
    """
    if not has_glob(pattern):
        return pattern.__eq__
    regex = re.compile(translate(pattern))
    return lambda text: regex.match(text) is not None


def glob_match(text: str, pattern: str) -> bool:
    """fnmatch `text` against `pattern`, case-sensitively.

    Example:
        >>> glob_match("pii_check", "pii*")
        True
    """
    return glob_matcher(pattern)(text)


def flatten_fqn(fqn: Sequence[str]) -> tuple[str, ...]:
    """The fqn with dotted segments split, as dbt compares it.

    Example:
        >>> flatten_fqn(["shop", "marts", "a.b"])
        ('shop', 'marts', 'a', 'b')
    """
    return tuple(part for segment in fqn for part in segment.split("."))


def _selected_by(fqn: Sequence[str], selector: str, versioned: bool) -> bool:
    parts = selector.split(".")
    if versioned and len(fqn) >= 2:
        # versioned models end in (name, "v2"): `name`, `name_v2` and `name.v2` all select
        if fqn[-2] == selector or "_".join(fqn[-2:]) == "_".join(parts[-2:]):
            return True
    elif fqn and glob_match(fqn[-1], selector):
        return True
    flat = flatten_fqn(fqn)
    if len(flat) < len(parts):
        return False
    for i, part in enumerate(parts):
        if has_glob(part):
            # from the first wildcard on, the rest of the fqn is matched as one string
            return glob_match(".".join(flat[i:]), ".".join(parts[i:]))
        if flat[i] != part:
            return False
    return True


def fqn_matches(fqn: Sequence[str], selector: str, *, versioned: bool = False) -> bool:
    """dbt's fqn rule: the selector names the leaf or a prefix, with or without package.

    A plain selector matches the node's name, or a dotted prefix of its fqn (the
    package may be left out); a wildcard part matches the rest of the fqn as a string.

    Example:
        >>> fqn = ["shop", "staging", "stg_orders"]
        >>> [fqn_matches(fqn, s) for s in ("stg_orders", "staging", "shop.staging", "stg_*")]
        [True, True, True, True]
        >>> [fqn_matches(fqn, s) for s in ("orders", "marts", "shop.staging.stg_p*")]
        [False, False, False]
    """
    if _selected_by(fqn, selector, versioned):
        return True
    return len(fqn) > 1 and _selected_by(fqn[1:], selector, versioned)


FqnMatcher = Callable[[Sequence[str], Sequence[str]], bool]


def fqn_glob_matcher(selector: str) -> FqnMatcher:
    """`fqn_matches` for one wildcard selector, compiled once for many unversioned nodes.

    The returned function takes a node's fqn and its flattened form.

    Example:
        >>> matches = fqn_glob_matcher("shop.staging.stg_p*")
        >>> fqn = ("shop", "staging", "stg_payments")
        >>> matches(fqn, fqn), matches(fqn[:2] + ("stg_orders",), fqn[:2] + ("stg_orders",))
        (True, False)
    """
    parts = selector.split(".")
    first = next(i for i, part in enumerate(parts) if has_glob(part))
    head, size = parts[:first], len(parts)
    leaf, rest = glob_matcher(selector), glob_matcher(".".join(parts[first:]))

    def prefixed(flat: Sequence[str]) -> bool:
        return len(flat) >= size and list(flat[:first]) == head and rest(".".join(flat[first:]))

    def matches(fqn: Sequence[str], flat: Sequence[str]) -> bool:
        return leaf(fqn[-1]) or prefixed(flat) or prefixed(flat[1:])

    return matches


def normalize_path_pattern(pattern: str) -> tuple[str, ...]:
    """A `path:` value as segments: `./` and trailing or doubled `/` removed.

    Example:
        >>> normalize_path_pattern("./models//staging/")
        ('models', 'staging')
        >>> normalize_path_pattern(".")
        ()
    """
    return tuple(part for part in pattern.replace("\\", "/").split("/") if part not in ("", "."))


def path_glob_match(path: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether a relative path matches a glob the way `Path.glob` matches it.

    `*`, `?` and `[...]` stay within one segment; `**` spans any number of them.

    Example:
        >>> p = ("models", "marts", "core", "fct_orders.sql")
        >>> path_glob_match(p, ("models", "marts", "*", "fct_*.sql"))
        True
        >>> path_glob_match(p, ("models", "*", "fct_*"))
        False
        >>> path_glob_match(p, ("models", "**", "fct_*.sql"))
        True
    """
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(path_glob_match(path[i:], rest) for i in range(len(path) + 1))
    return bool(path) and glob_match(path[0], head) and path_glob_match(path[1:], rest)


def version_key(version: str | int | float) -> tuple[int, float | str]:
    """A sort key for model versions: numbers numerically, before any other text.

    Example:
        >>> sorted(["10", "2", 1.5], key=version_key)
        [1.5, '2', '10']
    """
    try:
        return (0, float(version))
    except ValueError:
        return (1, str(version))
