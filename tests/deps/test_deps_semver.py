"""Hub version requirements: parsing, matching, intersecting, picking the newest."""

from __future__ import annotations

import pytest

from kiln.deps.semver import (
    Version,
    constraint_range,
    contains,
    highest_match,
    installable,
    intersect,
    parse_constraint,
    parse_version,
    precedence,
    split_requirements,
)


def _range(*texts: str):
    ranges = []
    for text in texts:
        constraint = parse_constraint(text)
        assert constraint is not None, text
        ranges.append(constraint_range(constraint))
    return intersect(ranges)


def _v(text: str) -> Version:
    version = parse_version(text)
    assert version is not None, text
    return version


def test_version_parts_are_parsed_and_printed_back():
    version = _v("1.12.3-rc.1+build.7")
    assert (version.major, version.minor, version.patch) == (1, 12, 3)
    assert version.prerelease == ("rc", "1")
    assert version.build == "build.7"
    assert str(version) == "1.12.3-rc.1+build.7"


@pytest.mark.parametrize("text", ["1.2", "1", "01.2.3", "1.2.3.4", "v1.2.3", "latest", ""])
def test_malformed_versions_are_rejected(text):
    assert parse_version(text) is None


@pytest.mark.parametrize(
    ("text", "op", "version"),
    [
        ("1.2.3", "=", "1.2.3"),
        ("=1.2.3", "=", "1.2.3"),
        (">1.2.3", ">", "1.2.3"),
        (">=1.2.3", ">=", "1.2.3"),
        ("<2.0.0", "<", "2.0.0"),
        ("<= 2.0.0-b1", "<=", "2.0.0-b1"),
    ],
)
def test_constraints_have_an_operator_defaulting_to_exact(text, op, version):
    constraint = parse_constraint(text)
    assert constraint is not None
    assert (constraint.op, str(constraint.version)) == (op, version)


@pytest.mark.parametrize("text", ["~1.2.3", "^1.0.0", ">=1.0", "=>1.0.0", "1.0.0 - 2.0.0"])
def test_malformed_constraints_are_rejected(text):
    assert parse_constraint(text) is None


@pytest.mark.parametrize(
    ("raw", "texts"),
    [
        ("1.1.1", ["1.1.1"]),
        (">=1.0.0,<2.0.0", [">=1.0.0", "<2.0.0"]),
        (">=1.0.0, <2.0.0", [">=1.0.0", "<2.0.0"]),
        ([">=1.0.0", "<2.0.0"], [">=1.0.0", "<2.0.0"]),
        ([">=1.0.0,<1.5.0", "!"], [">=1.0.0", "<1.5.0", "!"]),
        (1.0, ["1.0"]),
    ],
)
def test_version_values_split_into_single_requirements(raw, texts):
    assert split_requirements(raw) == texts


def test_precedence_follows_semver_org_example_order():
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    assert sorted(ordered[::-1], key=lambda t: precedence(_v(t))) == ordered


def test_build_metadata_does_not_order():
    assert precedence(_v("1.0.0+a")) == precedence(_v("1.0.0+b"))


def test_ranges_intersect_to_the_tightest_bounds():
    allowed = _range(">=1.0.0", "<2.0.0", ">1.2.0", "<=1.9.0")
    assert str(allowed) == ">1.2.0, <=1.9.0"


def test_an_exact_version_inside_a_range_intersects_to_itself():
    assert str(_range(">=1.0.0", "1.4.0", "<2.0.0")) == "=1.4.0"


@pytest.mark.parametrize(
    "texts",
    [(">=2.0.0", "<1.0.0"), ("1.0.0", "1.1.0"), (">1.0.0", "<1.0.0"), (">=1.0.0", "<1.0.0")],
)
def test_conflicting_requirements_intersect_to_nothing(texts):
    assert _range(*texts) is None


def test_no_requirement_allows_any_version():
    allowed = intersect([])
    assert allowed is not None
    assert str(allowed) == "ANY"
    assert contains(allowed, _v("99.0.0"))


@pytest.mark.parametrize(
    ("texts", "version", "inside"),
    [
        ((">=1.0.0", "<2.0.0"), "1.0.0", True),
        ((">=1.0.0", "<2.0.0"), "1.99.99", True),
        ((">=1.0.0", "<2.0.0"), "2.0.0", False),
        ((">1.0.0",), "1.0.0", False),
        (("<=2.0.0",), "2.0.0", True),
        (("1.2.3",), "1.2.3+build", True),
        # dbt keeps an exclusive release bound's own prereleases out
        (("<2.0.0",), "2.0.0-rc1", False),
        (("<2.0.0",), "1.9.0-rc1", True),
        ((">=2.0.0-rc1",), "2.0.0-rc2", True),
    ],
)
def test_contains(texts, version, inside):
    allowed = _range(*texts)
    assert allowed is not None
    assert contains(allowed, _v(version)) is inside


def test_prereleases_are_installable_only_when_allowed():
    offered = ["1.0.0", "1.1.0-rc1", "1.0.1", "not-a-version"]
    assert installable(offered, allow_prerelease=False) == ["1.0.0", "1.0.1"]
    assert installable(offered, allow_prerelease=True) == ["1.0.0", "1.0.1", "1.1.0-rc1"]


def test_highest_match_picks_the_newest_allowed_version():
    allowed = _range(">=1.0.0", "<1.10.0")
    assert allowed is not None
    assert highest_match(allowed, ["1.0.0", "1.2.0", "1.9.3", "1.10.0", "0.9.0"]) == "1.9.3"


def test_highest_match_returns_none_when_nothing_fits():
    allowed = _range(">=3.0.0")
    assert allowed is not None
    assert highest_match(allowed, ["1.0.0", "2.0.0"]) is None


def test_highest_match_keeps_the_hubs_spelling_of_the_version():
    allowed = _range(">=1.0.0")
    assert allowed is not None
    assert highest_match(allowed, ["1.0.0", "1.1.0+meta"]) == "1.1.0+meta"
