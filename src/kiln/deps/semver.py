"""Semantic versions, hub version requirements and the ranges they intersect to.

Pure functions only: callers turn a `None` (no match, conflicting ranges) into an error
that names the package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_NUMBER = r"0|[1-9]\d*"
_IDENTIFIER = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_VERSION = (
    rf"(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-?(?P<pre>{_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_VERSION_RE = re.compile(rf"^{_VERSION}$")
_CONSTRAINT_RE = re.compile(rf"^(?P<op>>=|<=|>|<|=)?\s*{_VERSION}$")

OPERATORS = ("=", ">", ">=", "<", "<=")

# semver precedence: core numbers, release-after-prerelease flag, prerelease identifiers
PrecedenceKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


@dataclass(frozen=True, slots=True)
class Version:
    """A `major.minor.patch[-prerelease][+build]` version; build data never orders."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    def __str__(self) -> str:
        pre = "-" + ".".join(self.prerelease) if self.prerelease else ""
        build = "+" + self.build if self.build else ""
        return f"{self.major}.{self.minor}.{self.patch}{pre}{build}"

    @property
    def core(self) -> tuple[int, int, int]:
        """(major, minor, patch), without prerelease or build."""
        return (self.major, self.minor, self.patch)


@dataclass(frozen=True, slots=True)
class Constraint:
    """One requirement such as `>=1.0.0`: an operator and a version."""

    op: str
    version: Version

    def __str__(self) -> str:
        return f"{self.op}{self.version}"


@dataclass(frozen=True, slots=True)
class VersionRange:
    """The versions between two optional bounds, each inclusive or not."""

    lower: Version | None = None
    lower_inclusive: bool = True
    upper: Version | None = None
    upper_inclusive: bool = True

    def __str__(self) -> str:
        if self.lower is None and self.upper is None:
            return "ANY"
        if self.lower is not None and self.lower == self.upper:
            return f"={self.lower}"
        parts = []
        if self.lower is not None:
            parts.append(f"{'>=' if self.lower_inclusive else '>'}{self.lower}")
        if self.upper is not None:
            parts.append(f"{'<=' if self.upper_inclusive else '<'}{self.upper}")
        return ", ".join(parts)


def precedence(version: Version) -> PrecedenceKey:
    """The semver ordering key: a release sorts after its prereleases.

    Numeric prerelease identifiers sort before alphanumeric ones, numerically; a longer
    prerelease sorts after its own prefix (semver.org rule 11).

    Example:
        >>> precedence(parse_version("1.0.0-rc.1")) < precedence(parse_version("1.0.0"))
        True
    """
    if not version.prerelease:
        return (*version.core, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.prerelease)
    return (*version.core, 0, ids)


def parse_version(text: str) -> Version | None:
    """A version from its text, or None if it is not `major.minor.patch[...]`.

    Example:
        >>> str(parse_version("1.2.3-rc.1+build5"))
        '1.2.3-rc.1+build5'
        >>> parse_version("1.2") is None
        True
    """
    match = _VERSION_RE.match(text.strip())
    return _version_of(match) if match else None


def _version_of(match: re.Match[str]) -> Version:
    pre = match.group("pre")
    return Version(
        int(match.group("major")),
        int(match.group("minor")),
        int(match.group("patch")),
        tuple(pre.split(".")) if pre else (),
        match.group("build") or "",
    )


def parse_constraint(text: str) -> Constraint | None:
    """One requirement (`>=1.0.0`, `1.2.3`, `<2.0.0`), or None if it is malformed.

    Example:
        >>> str(parse_constraint(">= 1.0.0"))
        '>=1.0.0'
    """
    match = _CONSTRAINT_RE.match(text.strip())
    if match is None:
        return None
    return Constraint(match.group("op") or "=", _version_of(match))


def split_requirements(raw: object) -> list[str]:
    """A hub `version:` value (string, number or list; strings may hold commas) as texts.

    Example:
        >>> split_requirements(">=1.0.0, <2.0.0")
        ['>=1.0.0', '<2.0.0']
        >>> split_requirements([">=1.0.0", "<2.0.0"])
        ['>=1.0.0', '<2.0.0']
    """
    items = raw if isinstance(raw, list) else [raw]
    texts: list[str] = []
    for item in items:
        texts.extend(part.strip() for part in str(item).split(",") if part.strip())
    return texts


def constraint_range(constraint: Constraint) -> VersionRange:
    """The range of versions one requirement allows."""
    v, op = constraint.version, constraint.op
    if op == "=":
        return VersionRange(v, True, v, True)
    if op in (">", ">="):
        return VersionRange(lower=v, lower_inclusive=op == ">=")
    return VersionRange(upper=v, upper_inclusive=op == "<=")


def _tighter(
    a: Version | None, a_inc: bool, b: Version | None, b_inc: bool, *, lower: bool
) -> tuple[Version | None, bool]:
    """The stricter of two bounds of the same side (None means unbounded)."""
    if a is None:
        return b, b_inc
    if b is None:
        return a, a_inc
    ka, kb = precedence(a), precedence(b)
    if ka == kb:
        return a, a_inc and b_inc
    a_wins = ka > kb if lower else ka < kb
    return (a, a_inc) if a_wins else (b, b_inc)


def intersect(ranges: Iterable[VersionRange]) -> VersionRange | None:
    """The versions every range allows, or None when they cannot all hold.

    Example:
        >>> a = constraint_range(parse_constraint(">=1.0.0"))
        >>> b = constraint_range(parse_constraint("<2.0.0"))
        >>> str(intersect([a, b]))
        '>=1.0.0, <2.0.0'
    """
    lower: Version | None = None
    upper: Version | None = None
    lower_inc = upper_inc = True
    for r in ranges:
        lower, lower_inc = _tighter(lower, lower_inc, r.lower, r.lower_inclusive, lower=True)
        upper, upper_inc = _tighter(upper, upper_inc, r.upper, r.upper_inclusive, lower=False)
    if lower is not None and upper is not None:
        low, high = precedence(lower), precedence(upper)
        if low > high or (low == high and not (lower_inc and upper_inc)):
            return None
    return VersionRange(lower, lower_inc, upper, upper_inc)


def contains(allowed: VersionRange, version: Version) -> bool:
    """Whether `version` lies in the range.

    Like dbt, an exclusive release upper bound (`<1.3.0`) also keeps out that release's
    prereleases (`1.3.0-rc1`), which semver would otherwise order below it.

    Example:
        >>> r = constraint_range(parse_constraint("<1.3.0"))
        >>> contains(r, parse_version("1.2.9")), contains(r, parse_version("1.3.0-rc1"))
        (True, False)
    """
    key = precedence(version)
    if allowed.lower is not None:
        low = precedence(allowed.lower)
        if key < low or (key == low and not allowed.lower_inclusive):
            return False
    if allowed.upper is not None:
        high = precedence(allowed.upper)
        if key > high or (key == high and not allowed.upper_inclusive):
            return False
        upper = allowed.upper
        if (
            not allowed.upper_inclusive
            and not upper.prerelease
            and version.prerelease
            and version.core == upper.core
        ):
            return False
    return True


def installable(available: Iterable[str], allow_prerelease: bool) -> list[str]:
    """The valid versions among `available`, oldest first, prereleases only if allowed.

    Example:
        >>> installable(["1.2.0", "1.10.0", "2.0.0-b1", "junk"], allow_prerelease=False)
        ['1.2.0', '1.10.0']
    """
    parsed = [(text, parse_version(text)) for text in available]
    kept = [
        (text, v) for text, v in parsed if v is not None and (allow_prerelease or not v.prerelease)
    ]
    return [text for text, v in sorted(kept, key=lambda pair: precedence(pair[1]))]


def highest_match(allowed: VersionRange, candidates: Sequence[str]) -> str | None:
    """The newest of `candidates` (valid version texts) inside the range, if any.

    Example:
        >>> r = constraint_range(parse_constraint("<2.0.0"))
        >>> highest_match(r, ["1.0.0", "1.5.0", "2.0.0"])
        '1.5.0'
    """
    best: tuple[PrecedenceKey, str] | None = None
    for text in candidates:
        version = parse_version(text)
        if version is None or not contains(allowed, version):
            continue
        key = precedence(version)
        if best is None or key > best[0]:
            best = (key, text)
    return best[1] if best else None
