"""Rendering the common template shape without compiling it with Jinja.

Most model files are SQL text with `{{ ref('x') }}`, `{{ config(...) }}`, macro calls with
literal arguments and `{% if is_incremental() %}` blocks. Every file is a different
template, so Jinja's lexing, parsing, code generation and Python compilation ran once per
node and were most of a cold `compile` (a 1,000-model project: 1.9 of 2.7 s).

`plan` reads such a template into segments: text, an expression, or an if/else block.
It accepts only what it can evaluate exactly as Jinja would: names, attribute chains and
calls whose arguments are literals (strings without escapes, integers, floats, booleans,
None, lists and tuples of those), names, calls, or one `**mapping`. Anything else (other
tags, comments, whitespace control, filters, operators, a `{` or `}` inside an expression,
`\\r`) returns None, and the template goes through Jinja.

`check_names` resolves every name and attribute chain before anything is called: one the
context lacks sends the template to Jinja (which renders an undefined name its own way),
and nothing has run twice. `Renderer` then reads each value when it is used, writes it
with `str()` and tests conditions with `bool()`, as the code Jinja generates for this
environment does (no autoescape, no finalize), and calls through Jinja's `Context.call`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}|\{#", re.DOTALL)
_IF = re.compile(r"\s+if\s+(.+?)\s+")
_LITERAL_TEXT = re.compile(r"'[^'\\]*'|\"[^\"\\]*\"|\d+(\.\d+)?")
_JINJA_CONSTANTS = {"true": True, "false": False, "none": None, "True": True,
                    "False": False, "None": None}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Const:
    """A literal argument."""

    value: Any


@dataclass(frozen=True, slots=True)
class Expr:
    """A name or attribute chain, called when `args` is not None (`f(a, k=b, **c)`)."""

    path: tuple[str, ...]
    args: tuple[Arg, ...] | None
    kwargs: tuple[tuple[str, Arg], ...]
    splat: Expr | None
    line: int


Arg = Const | Expr


@dataclass(frozen=True, slots=True)
class If:
    """`{% if test %} body {% else %} orelse {% endif %}`."""

    test: Expr
    body: tuple[Segment, ...]
    orelse: tuple[Segment, ...]


Segment = str | Expr | If


class _NotSimple(Exception):
    pass


_PLANS: dict[str, tuple[Segment, ...] | None] = {}


def plan(source: str) -> tuple[Segment, ...] | None:
    """The template as segments, or None when Jinja must render it (cached by text)."""
    if source in _PLANS:
        return _PLANS[source]
    try:
        result: tuple[Segment, ...] | None = _Reader(source).read()
    except _NotSimple:
        result = None
    _PLANS[source] = result
    return result


class _Reader:
    def __init__(self, source: str) -> None:
        if "\r" in source:
            raise _NotSimple  # Jinja normalises newlines in text
        if source.endswith("\n"):
            source = source[:-1]  # as Jinja does with keep_trailing_newline off (dbt's setting)
        self.source = source
        self.matches = list(_TAG.finditer(source))
        self.index = 0
        self.position = 0

    def read(self) -> tuple[Segment, ...]:
        segments, end = self._block()
        if end is not None:
            raise _NotSimple
        return segments

    def _block(self) -> tuple[tuple[Segment, ...], str | None]:
        """Segments up to an `else`/`endif` tag (returned) or the end of the text."""
        out: list[Segment] = []
        while self.index < len(self.matches):
            match = self.matches[self.index]
            self.index += 1
            if match.start() > self.position:
                out.append(self._text(self.position, match.start()))
            self.position = match.end()
            expression, statement = match.group(1), match.group(2)
            if expression is not None:
                out.append(self._expr(expression, match.start()))
                continue
            if statement is None:
                raise _NotSimple  # a comment
            words = statement.split()
            if words in (["else"], ["endif"]) and statement[:1].isspace():
                if not statement[-1:].isspace():
                    raise _NotSimple
                return tuple(out), words[0]
            out.append(self._if(statement, match.start()))
        if self.position < len(self.source):
            out.append(self._text(self.position, len(self.source)))
            self.position = len(self.source)
        return tuple(out), None

    def _text(self, start: int, end: int) -> str:
        text = self.source[start:end]
        if "{{" in text or "{%" in text:
            raise _NotSimple  # an unclosed tag: Jinja reports the syntax error
        return text

    def _if(self, statement: str, start: int) -> If:
        found = _IF.fullmatch(statement)
        if found is None:
            raise _NotSimple
        test = self._parse(found.group(1), start)
        body, end = self._block()
        orelse: tuple[Segment, ...] = ()
        if end == "else":
            orelse, end = self._block()
        if end != "endif":
            raise _NotSimple
        return If(test, body, orelse)

    def _expr(self, text: str, start: int) -> Expr:
        # Whitespace control (`{{-`, `+}}`) and nested braces are left to Jinja.
        if not text[:1].isspace() or not text[-1:].isspace():
            raise _NotSimple
        return self._parse(text.strip(), start)

    def _parse(self, text: str, start: int) -> Expr:
        if "{" in text or "}" in text:
            raise _NotSimple
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError:
            raise _NotSimple from None
        return _expr(tree, text, self.source.count("\n", 0, start) + 1)


def _expr(tree: ast.expr, text: str, line: int) -> Expr:
    if not isinstance(tree, ast.Call):
        return Expr(_path(tree), None, (), None, line)
    args = tuple(_arg(a, text, line) for a in tree.args)
    kwargs = tuple((k.arg, _arg(k.value, text, line)) for k in tree.keywords if k.arg)
    splats = [k.value for k in tree.keywords if k.arg is None]
    if len(splats) > 1 or (splats and tree.keywords[-1].arg is not None):
        raise _NotSimple  # Jinja takes one `**mapping`, after the keywords
    splat = _expr(splats[0], text, line) if splats else None
    return Expr(_path(tree.func), args, kwargs, splat, line)


def _arg(node: ast.expr, text: str, line: int) -> Arg:
    if isinstance(node, ast.Name | ast.Attribute | ast.Call) and not (
        isinstance(node, ast.Name) and node.id in _JINJA_CONSTANTS
    ):
        return _expr(node, text, line)
    return Const(_literal(node, text))


def _path(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Name) and node.id not in _JINJA_CONSTANTS:
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*_path(node.value), node.attr)
    raise _NotSimple


def _literal(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Constant):
        segment = ast.get_source_segment(text, node) or ""
        if isinstance(node.value, bool | type(None)) or _LITERAL_TEXT.fullmatch(segment):
            return node.value
        raise _NotSimple  # escapes, prefixes, implicit concatenation, hex, underscores
    if isinstance(node, ast.Name) and node.id in _JINJA_CONSTANTS:
        return _JINJA_CONSTANTS[node.id]
    if isinstance(node, ast.List):
        return [_literal(e, text) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, text) for e in node.elts)
    raise _NotSimple  # dict literals never get here: braces inside an expression go to Jinja


class Unresolved(Exception):
    """A name the context does not have: Jinja renders the template instead."""


def check_names(segments: Sequence[Segment], context: Mapping[str, Any], getattr_: Any) -> None:
    """Raise `Unresolved` unless every name and attribute chain resolves (nothing is run).

    Values are looked up again when they are used, as Jinja does, so a call that changes
    what a later expression reads is seen.
    """
    for segment in segments:
        if isinstance(segment, Expr):
            _check_expr(segment, context, getattr_)
        elif isinstance(segment, If):
            _check_expr(segment.test, context, getattr_)
            check_names(segment.body, context, getattr_)
            check_names(segment.orelse, context, getattr_)


def _check_expr(expr: Expr, context: Mapping[str, Any], getattr_: Any) -> None:
    import jinja2

    head = expr.path[0]
    if head not in context:
        raise Unresolved(head)
    if isinstance(_lookup(expr, context, getattr_), jinja2.Undefined):
        raise Unresolved(".".join(expr.path))
    inner = [*(expr.args or ()), *(v for _, v in expr.kwargs), expr.splat]
    for arg in inner:
        if isinstance(arg, Expr):
            _check_expr(arg, context, getattr_)


def _lookup(expr: Expr, context: Mapping[str, Any], getattr_: Any) -> Any:
    value = context[expr.path[0]]
    for name in expr.path[1:]:
        value = getattr_(value, name)
    return value


@dataclass(slots=True)
class Renderer:
    """One render: the context, Jinja's `getattr` and `Context.call`, the line being run."""

    context: Mapping[str, Any]
    getattr_: Any
    call: Any
    line: int = 1

    def render(self, segments: Sequence[Segment], out: list[str]) -> None:
        """Append the rendered text to `out`."""
        for segment in segments:
            if isinstance(segment, str):
                out.append(segment)
            elif isinstance(segment, Expr):
                out.append(str(self.evaluate(segment)))
            elif self.evaluate(segment.test):
                self.render(segment.body, out)
            else:
                self.render(segment.orelse, out)

    def evaluate(self, expr: Expr) -> Any:
        self.line = expr.line
        target = _lookup(expr, self.context, self.getattr_)
        if expr.args is None:
            return target
        args = [self._value(a) for a in expr.args]
        kwargs = {k: self._value(v) for k, v in expr.kwargs}
        splat = self.evaluate(expr.splat) if expr.splat is not None else {}
        return self.call(target, *args, **kwargs, **splat)

    def _value(self, arg: Arg) -> Any:
        # Fresh literal values per call, as Jinja builds them: a callee may keep a list.
        return _fresh(arg.value) if isinstance(arg, Const) else self.evaluate(arg)


def _fresh(value: Any) -> Any:
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_fresh(v) for v in value)
    return value
