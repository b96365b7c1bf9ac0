"""The Jinja environment Kiln renders dbt templates with.

dbt's extra block tags (`{% test %}`, `{% materialization %}`, `{% snapshot %}`) are rewritten
to plain macros before compilation, keeping line numbers, so errors point at the user's line.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.runtime

from kiln.errors import CompilationError, KilnError, Location, ParseError
from kiln.jinja import simple
from kiln.jinja.code_cache import CODE_CACHE

_TEST_OPEN = re.compile(r"{%(-?)\s*test\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_TEST_CLOSE = re.compile(r"{%(-?)\s*endtest\s*(-?)%}")
_MAT_OPEN = re.compile(
    r"{%(-?)\s*materialization\s+([A-Za-z_][A-Za-z0-9_]*)\s*,\s*"
    r"(?:adapter\s*=\s*)?['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?\s*(?:,[^%]*)?(-?)%}"
)
_MAT_CLOSE = re.compile(r"{%(-?)\s*endmaterialization\s*(-?)%}")


class MacroReturn(Exception):  # noqa: N818 - control flow, not an error
    """Raised by `return()` inside a macro; carries the value back to the caller."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def rewrite_dbt_tags(source: str) -> str:
    """Turn dbt's `test` and `materialization` blocks into macros (same line count).

    Example:
        >>> rewrite_dbt_tags("{% test positive(model) %}x{% endtest %}")
        '{% macro test_positive(model) %}x{% endmacro %}'
    """
    if "test" in source:
        source = _TEST_OPEN.sub(
            lambda m: "{%" + m.group(1) + " macro test_" + m.group(2) + "(", source
        )
        source = _TEST_CLOSE.sub(
            lambda m: "{%" + m.group(1) + " endmacro " + m.group(2) + "%}", source
        )
    if "materialization" in source:
        source = _MAT_OPEN.sub(
            lambda m: (
                "{%"
                + m.group(1)
                + f" macro materialization_{m.group(2)}_{m.group(3)}() "
                + m.group(4)
                + "%}"
            ),
            source,
        )
        source = _MAT_CLOSE.sub(
            lambda m: "{%" + m.group(1) + " endmacro " + m.group(2) + "%}", source
        )
    return source


class _Undefined(jinja2.Undefined):
    """Undefined names render as empty text and can be attribute-accessed, as in dbt."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise jinja2.UndefinedError(f"'{self._undefined_name}' is undefined")


@lru_cache(maxsize=1)
def get_environment() -> jinja2.Environment:
    """The shared environment (templates compile once and are reused across nodes)."""
    env = jinja2.Environment(
        extensions=[jinja2.ext.do, jinja2.ext.loopcontrols],
        undefined=_Undefined,
        # dbt's environment drops one trailing newline of every template, so do we: it shows
        # in compiled_code and in target/compiled/.
        keep_trailing_newline=False,
        autoescape=False,
        cache_size=0,
    )
    env.filters["as_bool"] = _as_bool
    env.filters["as_number"] = _as_number
    env.filters["as_text"] = lambda v: "" if v is None else str(v)
    env.filters["as_native"] = lambda v: v
    return env


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _as_number(value: Any) -> int | float:
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


_TEMPLATE_CACHE: dict[str, jinja2.Template] = {}


def compile_template(source: str, path: str = "<string>") -> jinja2.Template:
    """Compile (and cache by text) a template; syntax errors name the file and line."""
    cached = _TEMPLATE_CACHE.get(source)
    if cached is not None:
        return cached
    env = get_environment()
    try:
        code = CODE_CACHE.lookup(source)
        if code is None:
            code = env.compile(rewrite_dbt_tags(source))
            CODE_CACHE.store(source, code)
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc, path) from None
    _TEMPLATE_CACHE[source] = template
    return template


def _syntax_error(exc: jinja2.TemplateSyntaxError, path: str) -> ParseError:
    return ParseError(
        f"Jinja syntax error: {exc.message}",
        hint="fix the template at that line",
        location=Location(path, exc.lineno),
    )


def parse_ast(source: str, path: str) -> jinja2.nodes.Template:
    """The Jinja AST of a template (for static extraction)."""
    try:
        return get_environment().parse(rewrite_dbt_tags(source))
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc, path) from None


def render_string(source: str, context: Mapping[str, Any], path: str = "<string>") -> str:
    """Render a template string.

    The context is shared, not copied: a `ChainMap` context keeps its lazy macro scope, so
    a render only instantiates the macros it calls. Templates of the common simple shape
    are rendered without compiling them (`kiln.jinja.simple`).
    """
    env = get_environment()
    if not isinstance(context, ChainMap):
        context = ChainMap(dict(context), env.globals)
    segments = simple.plan(source)
    if segments is not None:
        try:
            simple.check_names(segments, context, env.getattr)
        except Exception:  # noqa: BLE001 - a name Jinja resolves its own way: let it render
            pass
        else:
            return _render_simple(segments, context, path)
    template = compile_template(source, path)
    ctx = template.new_context(context, shared=True)  # type: ignore[arg-type]
    return _guarded(
        lambda: str(env.concat(template.root_render_func(ctx))),  # type: ignore[attr-defined]
        path,
        lambda exc: _template_line(template, exc),
    )


def _render_simple(
    segments: tuple[simple.Segment, ...], context: Mapping[str, Any], path: str
) -> str:
    env = get_environment()
    ctx = jinja2.runtime.new_context(env, path, {}, context, shared=True)  # type: ignore[arg-type]
    renderer = simple.Renderer(context, env.getattr, ctx.call)
    out: list[str] = []

    def run() -> str:
        renderer.render(segments, out)
        return "".join(out)

    return _guarded(run, path, lambda exc: renderer.line)


def _guarded(
    render: Callable[[], str], path: str, line_of: Callable[[BaseException], int | None]
) -> str:
    """Run a render; errors become Kiln errors naming the file and line."""
    try:
        return render()
    except MacroReturn as ret:
        return str(ret.value)
    except KilnError as exc:
        if exc.location is None:
            exc.location = Location(path, line_of(exc))
        raise
    except Exception as exc:  # anything raised while rendering is the template's fault
        message = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
        raise CompilationError(
            f"{type(exc).__name__}: {message}"
            if not isinstance(exc, jinja2.TemplateError)
            else str(message),
            location=Location(path, line_of(exc)),
        ) from None


def _template_line(template: jinja2.Template, exc: BaseException) -> int | None:
    """The template line an exception was raised from (innermost template frame)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            try:
                line = template.get_corresponding_lineno(tb.tb_lineno)
            except (AttributeError, IndexError):
                line = None
        tb = tb.tb_next
    lineno = getattr(exc, "lineno", None)
    return line if line is not None else (lineno if isinstance(lineno, int) else None)
