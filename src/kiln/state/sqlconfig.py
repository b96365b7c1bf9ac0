"""Reading what a node's code says without rendering it: config() arguments, var names.

State comparison needs the *written* form of a few things that parsing records only in
rendered form: the Jinja expression behind `config(schema=env_var('S'))`, and the names
of the vars and env vars a node's code (or its macros) reads.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

# `var('x')` but not `env_var('x')` or `foo.var('x')`
_VAR_CALL = re.compile(r"(?<![\w.])var\s*\(\s*['\"]([^'\"]+)['\"]")
_ENV_VAR_CALL = re.compile(r"(?<![\w.])env_var\s*\(\s*['\"]([^'\"]+)['\"]")
_LITERAL_NAMES = frozenset({"true", "false", "none", "True", "False", "None"})


@lru_cache(maxsize=1)
def _lexer_environment() -> jinja2.Environment:
    import jinja2  # only config comparison needs it: writing the sidecar must not

    return jinja2.Environment(extensions=["jinja2.ext.do"])


def var_names(text: str) -> set[str]:
    """The names of vars read with a literal name in `text`.

    Example:
        >>> sorted(var_names("{{ var('a') }} {{ env_var('B') }} {{ var(\\"c\\", 1) }}"))
        ['a', 'c']
    """
    return set(_VAR_CALL.findall(text)) if "var" in text else set()


def env_var_names(text: str) -> set[str]:
    """The names of env vars read with a literal name in `text`.

    Example:
        >>> sorted(env_var_names("{{ env_var('B', 'x') }} {{ var('a') }}"))
        ['B']
    """
    return set(_ENV_VAR_CALL.findall(text)) if "env_var" in text else set()


def config_call_sources(code: str) -> dict[str, str]:
    """The Jinja text of each non-literal keyword argument of `config(...)` calls.

    Literal arguments are left out: their recorded value is already what was written.

    Example:
        >>> config_call_sources("{{ config(materialized='table', schema=env_var('S')) }}")
        {'schema': "{{ env_var('S') }}"}
    """
    import jinja2

    try:
        # raw tokens: operators come as ("operator", "("); key them by the operator itself
        tokens = [
            (value if kind == "operator" else kind, value)
            for _, kind, value in _lexer_environment().lex(code)
        ]
    except jinja2.TemplateSyntaxError:
        return {}
    found: dict[str, str] = {}
    for start in range(len(tokens)):
        if tokens[start] == ("name", "config") and _next_kind(tokens, start + 1) == "(":
            for key, expression in _keyword_arguments(tokens, start + 1):
                if not _is_literal(expression):
                    found[key] = "{{ " + "".join(v for _, v in expression).strip() + " }}"
    return found


Token = tuple[str, str]


def _next_kind(tokens: list[Token], index: int) -> str | None:
    while index < len(tokens) and tokens[index][0] == "whitespace":
        index += 1
    return tokens[index][0] if index < len(tokens) else None


def _keyword_arguments(tokens: list[Token], index: int) -> list[tuple[str, list[Token]]]:
    """(name, expression tokens) of the `name=...` arguments of the call opening near index."""
    depth, current, arguments = 0, list[Token](), list[list[Token]]()
    for kind, value in tokens[index:]:
        if kind in ("(", "[", "{"):
            depth += 1
            if depth == 1:
                continue
        elif kind in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                arguments.append(current)
                break
        elif kind == "," and depth == 1:
            arguments.append(current)
            current = []
            continue
        if depth >= 1:
            current.append((kind, value))
    out = []
    for argument in arguments:
        significant = [t for t in argument if t[0] != "whitespace"]
        if len(significant) > 2 and significant[0][0] == "name" and significant[1][0] == "=":
            rest = argument[argument.index(significant[1]) + 1 :]
            out.append((significant[0][1], rest))
    return out


def _is_literal(expression: list[Token]) -> bool:
    return not any(
        kind == "name" and value not in _LITERAL_NAMES or kind in ("~", "|")
        for kind, value in expression
    )
