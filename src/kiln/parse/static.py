"""Static extraction of `ref`, `source` and `config` calls from a template's Jinja AST.

Most models call these with literal arguments; reading them off the AST avoids rendering.
When anything is not literal, `extract` returns None and the caller renders the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.manifest.nodes import RefCall

if TYPE_CHECKING:
    import jinja2.nodes

# jinja2 is imported by the functions that walk an AST: the literal scanner (fast_scan)
# shares this module's names on paths that never build one.

# Names that are context functions, not macro calls.
CONTEXT_NAMES = frozenset(
    {
        "ref",
        "source",
        "config",
        "var",
        "env_var",
        "is_incremental",
        "log",
        "print",
        "return",
        "run_query",
        "statement",
        "load_result",
        "fromjson",
        "tojson",
        "fromyaml",
        "toyaml",
        "zip",
        "set",
        "set_strict",
        "range",
        "dict",
        "list",
        "doc",
        "adapter",
        "exceptions",
        "modules",
        "this",
        "target",
        "caller",
        "local_md5",
        "zip_strict",
        "lipsum",
        "cycler",
        "joiner",
        "namespace",
        "api",
        "store_result",
        "noop_statement",
    }
)


@dataclass(slots=True)
class Extracted:
    """What a template calls, read without rendering."""

    refs: list[RefCall] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    configs: dict[str, Any] = field(default_factory=dict)
    # macro names as called: `name`, or `owner.name` for `pkg.macro()` (which may also be
    # a method of a variable: the parser keeps those whose owner is a package)
    macro_calls: list[str] = field(default_factory=list)
    uses_is_incremental: bool = False

    def add_call(self, name: str) -> None:
        if name not in self.macro_calls:
            self.macro_calls.append(name)


class NotStatic(Exception):  # noqa: N818 - control flow
    """The template needs rendering."""


def extract(tree: jinja2.nodes.Template) -> Extracted | None:
    """Literal calls of a template, or None when something must be rendered."""
    import jinja2.nodes

    out = Extracted()
    if any(True for _ in tree.find_all((jinja2.nodes.Macro, jinja2.nodes.CallBlock))):
        return None
    try:
        for call in tree.find_all(jinja2.nodes.Call):
            _visit_call(call, out)
    except NotStatic:
        return None
    return out


def _visit_call(call: jinja2.nodes.Call, out: Extracted) -> None:
    import jinja2.nodes

    target = call.node
    if (
        isinstance(target, jinja2.nodes.Getattr)
        and isinstance(target.node, jinja2.nodes.Name)
        and target.node.name == "exceptions"
    ):
        raise NotStatic  # dbt raises these while parsing: render to surface them
    if isinstance(target, jinja2.nodes.Getattr) and isinstance(target.node, jinja2.nodes.Name):
        owner = target.node.name
        if owner not in CONTEXT_NAMES:  # `pkg.macro()`, or a method of a variable
            out.add_call(f"{owner}.{target.attr}")
        return
    if not isinstance(target, jinja2.nodes.Name):
        return
    name = target.name
    if name == "ref":
        args = [_literal(a) for a in call.args]
        kwargs = {k.key: _literal(k.value) for k in call.kwargs}
        version = kwargs.get("v", kwargs.get("version"))
        if len(args) == 1:
            out.refs.append(RefCall(str(args[0]), None, version))
        elif len(args) == 2:
            out.refs.append(RefCall(str(args[1]), str(args[0]), version))
        else:
            raise NotStatic
    elif name == "source":
        args = [_literal(a) for a in call.args]
        if len(args) != 2 or call.kwargs:
            raise NotStatic
        out.sources.append((str(args[0]), str(args[1])))
    elif name == "config":
        if call.dyn_args is not None or call.dyn_kwargs is not None:
            raise NotStatic
        for arg in call.args:
            value = _literal(arg)
            if not isinstance(value, dict):
                raise NotStatic
            out.configs.update(value)
        for kw in call.kwargs:
            out.configs[kw.key] = _literal(kw.value)
    elif name == "is_incremental":
        out.uses_is_incremental = True
    elif name not in CONTEXT_NAMES:
        out.add_call(name)


def _literal(node: jinja2.nodes.Node) -> Any:
    import jinja2.nodes

    try:
        return node.as_const()  # type: ignore[attr-defined]
    except (jinja2.nodes.Impossible, AttributeError):
        raise NotStatic from None
