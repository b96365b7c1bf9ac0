"""A scanner that reads literal `ref`/`source`/`config` calls without building a Jinja AST.

Most model files hold only `{{ ref('x') }}`, `{{ source('a', 'b') }}`, a literal
`{{ config(...) }}`, macro calls and `{% if is_incremental() %}` blocks. For those this
scanner gives the same answer as the AST walk in `static.py` several times faster; for
anything it does not fully understand it returns None and the caller uses the AST.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from kiln.manifest.nodes import RefCall
from kiln.parse.static import CONTEXT_NAMES, Extracted

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}|\{#.*?#\}", re.DOTALL)
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_STRING = r"""(?:'[^'\\]*'|"[^"\\]*")"""
_REF = re.compile(
    rf"ref\(\s*({_STRING})\s*(?:,\s*({_STRING})\s*)?"
    rf"(?:,\s*(?:v|version)\s*=\s*({_STRING}|\d+(?:\.\d+)?)\s*)?\)"
)
_LITERAL = rf"(?:{_STRING}|-?\d+(?:\.\d+)?|true|false|none|True|False|None)"
_SIMPLE_EXPRESSION = re.compile(
    rf"^[A-Za-z_][A-Za-z0-9_]*(?:\(\s*(?:(?:[A-Za-z_]+\s*=\s*)?{_LITERAL}"
    rf"(?:\s*,\s*(?:[A-Za-z_]+\s*=\s*)?{_LITERAL})*)?\s*\))?$"
)
# the bare name a `.method(` hangs off: `dbt_utils` in `dbt_utils.star(`, none in `a.b.c(`
_OWNER = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)$")
_SOURCE = re.compile(rf"source\(\s*({_STRING})\s*,\s*({_STRING})\s*\)")
# statements whose expressions are scanned like `{{ }}`; anything else needs the AST
_SIMPLE_STATEMENTS = re.compile(r"^\s*-?\s*(if|elif|else|endif)\b(.*?)-?\s*$", re.DOTALL)
_JINJA_CONSTANTS = {
    "true": True,
    "false": False,
    "none": None,
    "True": True,
    "False": False,
    "None": None,
}


class _Unsure(Exception):  # noqa: N818 - control flow
    """The scanner cannot answer; use the AST."""


def fast_extract(text: str) -> Extracted | None:
    """The literal calls of a template, or None when the AST walk must decide."""
    out = Extracted()
    depth = 0  # open `if` blocks: unbalanced ones are syntax errors the AST must report
    try:
        for match in _TAG.finditer(text):
            expression, statement = match.group(1), match.group(2)
            if expression is not None:
                _scan_expression(expression.strip("-").strip(), out)
            elif statement is not None:
                simple = _SIMPLE_STATEMENTS.match(statement)
                if simple is None:
                    raise _Unsure
                keyword = simple.group(1)
                depth += {"if": 1, "endif": -1}.get(keyword, 0)
                if depth < 0 or (keyword in ("elif", "else") and depth == 0):
                    raise _Unsure
                _scan_expression(simple.group(2).strip(), out)
        if depth:
            raise _Unsure
        rest = _TAG.sub("", text)
        if any(token in rest for token in ("{{", "{%", "}}", "%}", "{#")):
            raise _Unsure
    except (_Unsure, ValueError, SyntaxError):
        return None
    return out


def _scan_expression(expr: str, out: Extracted) -> None:
    if not expr:
        return
    if expr.count("'") % 2 or expr.count('"') % 2:
        raise _Unsure  # a quote spanning tags, e.g. '{{ this }}' inside a string
    # Jinja expressions of the simple kind are valid Python; others go to the Jinja parser,
    # which also reports real syntax errors with their line. A bare name or a call with
    # literal arguments is checked by a regex, which is much cheaper than compiling.
    if not _SIMPLE_EXPRESSION.match(expr):
        ast.parse(expr, mode="eval")
    for call in _CALL.finditer(expr):
        name = call.group(1)
        before = expr[: call.start()].rstrip()
        if before.endswith((".", "|")):
            owner = _OWNER.search(before[:-1].rstrip()) if before.endswith(".") else None
            if owner is not None and owner.group(1) == "exceptions":
                raise _Unsure  # dbt raises these while parsing: render
            if owner is not None and owner.group(1) not in CONTEXT_NAMES:
                out.add_call(f"{owner.group(1)}.{name}")  # `pkg.macro()`, or a method
            continue  # a method or a filter, not a call of a context name or macro
        if name == "ref":
            out.refs.append(_ref(expr, call.start()))
        elif name == "source":
            out.sources.append(_source(expr, call.start()))
        elif name == "config":
            out.configs.update(_config(expr, call.end() - 1))
        elif name == "is_incremental":
            out.uses_is_incremental = True
        elif name not in CONTEXT_NAMES:
            out.add_call(name)


def _ref(expr: str, start: int) -> RefCall:
    found = _REF.match(expr, start)
    if found is None:
        raise _Unsure
    first, second, version = found.group(1), found.group(2), found.group(3)
    ver = _literal(version) if version is not None else None
    if second is None:
        return RefCall(_literal(first), None, ver)
    return RefCall(_literal(second), _literal(first), ver)


def _source(expr: str, start: int) -> tuple[str, str]:
    found = _SOURCE.match(expr, start)
    if found is None:
        raise _Unsure
    return _literal(found.group(1)), _literal(found.group(2))


def _literal(text: str) -> Any:
    return ast.literal_eval(text)


def _config(expr: str, open_paren: int) -> dict[str, Any]:
    """The keyword arguments of `config(...)` when they are all literals."""
    close = _matching_paren(expr, open_paren)
    call = ast.parse("f" + expr[open_paren : close + 1], mode="eval").body
    if not isinstance(call, ast.Call) or call.args and len(call.args) > 1:
        raise _Unsure
    values: dict[str, Any] = {}
    for arg in call.args:
        value = _constant(arg)
        if not isinstance(value, dict):
            raise _Unsure
        values.update(value)
    for keyword in call.keywords:
        if keyword.arg is None:
            raise _Unsure
        values[keyword.arg] = _constant(keyword.value)
    return values


def _matching_paren(expr: str, open_paren: int) -> int:
    depth, quote = 0, ""
    for index in range(open_paren, len(expr)):
        char = expr[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index
    raise _Unsure


def _constant(node: ast.expr) -> Any:
    """A Jinja literal as Python (`true`/`none` spelled the Jinja way are accepted)."""
    if isinstance(node, ast.Name) and node.id in _JINJA_CONSTANTS:
        return _JINJA_CONSTANTS[node.id]
    if isinstance(node, ast.List):
        return [_constant(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise _Unsure
        return {_constant(k): _constant(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant(node.operand)
        if isinstance(value, int | float):
            return -value
    raise _Unsure
