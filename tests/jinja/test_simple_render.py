"""Templates rendered without Jinja's compiler give exactly what Jinja gives."""

from __future__ import annotations

from collections import ChainMap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.errors import CompilationError, KilnError
from kiln.jinja import simple
from kiln.jinja.environment import compile_template, get_environment, render_string


class Namespace:
    """A package's macros, reached as `pkg.macro(...)`."""

    def __init__(self, **functions: Any) -> None:
        self.__dict__.update(functions)


def _context(calls: list[str]) -> ChainMap[str, Any]:
    def ref(*parts: str, **kw: Any) -> str:
        calls.append(f"ref{parts}")
        return '"db"."main"."' + parts[-1] + '"'

    def where(relation: str) -> str:
        return f"(select * from {relation} where 1 = 1)"

    def fmt(*args: Any, **kwargs: Any) -> str:
        return repr(args) + repr(sorted(kwargs.items()))

    values = {
        "ref": ref,
        "where": where,
        "fmt": fmt,
        "flag": True,
        "off": False,
        "nothing": None,
        "number": 7,
        "this": '"db"."main"."me"',
        "pkg": Namespace(fmt=fmt, inner=Namespace(value=3)),
        "kwargs_": {"a": 1, "b": "two"},
        "is_incremental": lambda: True,
        "is_full": lambda: False,
    }
    return ChainMap(values, get_environment().globals)


def _jinja(source: str, context: ChainMap[str, Any]) -> str:
    """The same template through Jinja's compiled code (the path before the fast one)."""
    template = compile_template(source)
    ctx = template.new_context(context, shared=True)  # type: ignore[arg-type]
    return "".join(template.root_render_func(ctx))  # type: ignore[attr-defined]


TEXT = st.sampled_from(
    ["select 1", "\n", " ", "from x", "-- c { d", "}", "a.b", "'q'", "where y > 2\n  and z"]
)
LITERAL = st.sampled_from(
    ["'s'", '"d q"', "1", "2.5", "true", "False", "none", "['a', 1]", "('t',)", "['x', ['y']]"]
)
NAME = st.sampled_from(["this", "flag", "off", "nothing", "number", "pkg.inner.value"])


@st.composite
def call(draw: st.DrawFn) -> str:
    func = draw(st.sampled_from(["ref", "fmt", "pkg.fmt", "where"]))
    if func == "where":
        return f"where(ref('{draw(st.sampled_from(['a', 'b']))}'))"
    if func == "ref":
        return f"ref('{draw(st.sampled_from(['orders', 'x']))}')"
    args = draw(st.lists(LITERAL | NAME, max_size=3))
    kwargs = draw(st.lists(LITERAL, max_size=2))
    parts = args + [f"k{i}={v}" for i, v in enumerate(kwargs)]
    if draw(st.booleans()):
        parts.append("**kwargs_")
    return f"{func}({', '.join(parts)})"


EXPRESSION = NAME | call()
CONDITION = st.sampled_from(["flag", "off", "is_incremental()", "is_full()", "number"])


@st.composite
def template(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "expr", "if"] if depth < 2 else ["text", "expr"]))
        if kind == "text":
            pieces.append(draw(TEXT))
        elif kind == "expr":
            pieces.append("{{ " + draw(EXPRESSION) + " }}")
        else:
            body = draw(template(depth + 1))
            orelse = draw(st.none() | template(depth + 1))
            tail = "" if orelse is None else "{% else %}" + orelse
            pieces.append("{% if " + draw(CONDITION) + " %}" + body + tail + "{% endif %}")
    return "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(template())
def test_simple_templates_render_as_jinja_renders_them(source: str) -> None:
    assert simple.plan(source) is not None
    expected = _jinja(source, _context([]))
    assert render_string(source, _context([])) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{- ref('a') }}",  # whitespace control
        "{{ ref('a') -}}\n",
        "{# comment #}{{ ref('a') }}",
        "{{ ref('a') | upper }}",
        "{{ number + 1 }}",
        "{% if flag %}x{% elif off %}y{% endif %}",
        "{% set z = 1 %}{{ z }}",
        "{{ ref('a\\nb') }}",  # an escape in a string
        "{{ fmt(0x10) }}",
        "{{ fmt({'k': [1]}) }}",  # braces inside an expression
        "{{ fmt('a' 'b') }}",
        "line\r\n{{ ref('a') }}",
        "{{ missing_name }}",  # undefined: Jinja renders it
        "{{ pkg.absent }}",
    ],
)
def test_other_templates_go_through_jinja(source: str) -> None:
    calls: list[str] = []
    expected = _jinja(source, _context([]))
    assert render_string(source, _context(calls)) == expected


def test_a_template_with_an_unknown_name_runs_each_call_once() -> None:
    calls: list[str] = []
    source = "{{ ref('a') }} {{ ref('b') }} {{ undefined_macro_name }}"
    assert simple.plan(source) is not None
    render_string(source, _context(calls))
    assert calls == ["ref('a',)", "ref('b',)"]


def test_literal_lists_are_fresh_on_every_render() -> None:
    kept: list[list[str]] = []
    context = ChainMap({"keep": lambda tags: kept.append(tags) or ""}, {})
    for _ in range(2):
        render_string("{{ keep(['a']) }}", context)
    kept[0].append("mutated")
    assert kept[1] == ["a"]


def test_errors_name_the_file_and_the_line_of_the_call() -> None:
    def fail(name: str) -> str:
        raise KilnError(f"no model named {name!r}")

    context = ChainMap({"ref": fail}, {})
    with pytest.raises(KilnError) as raised:
        render_string("select 1\nfrom {{ ref('ghost') }}", context, "models/m.sql")
    assert raised.value.location is not None
    assert (raised.value.location.path, raised.value.location.line) == ("models/m.sql", 2)

    def broken() -> str:
        raise ValueError("bad value")

    with pytest.raises(CompilationError, match="ValueError: bad value") as failed:
        render_string("a\nb\n{{ broken() }}", ChainMap({"broken": broken}, {}), "models/n.sql")
    assert failed.value.location is not None
    assert failed.value.location.line == 3


def test_values_are_read_when_used_as_jinja_reads_them() -> None:
    state = Namespace(value=1)

    def bump() -> str:
        state.value = 2
        return ""

    source = "{{ state.value }} {{ bump() }}{{ state.value }}"
    assert simple.plan(source) is not None
    assert render_string(source, ChainMap({"state": state, "bump": bump}, {})) == "1 2"
