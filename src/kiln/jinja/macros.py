"""Macro registry, lazy macro namespaces and `adapter.dispatch` resolution.

A macro file is compiled once per process. Each render context binds macros lazily: a
macro's module is only instantiated (against that context) when the macro is first called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.errors import CompilationError

if TYPE_CHECKING:
    import jinja2.nodes

# jinja2 is imported where a macro is parsed or rendered, not with this module: a warm
# `parse` loads the registry from the cache and never needs it.

BUILTIN_PACKAGE = "dbt"

_MACRO_SPAN = re.compile(
    r"{%-?\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(.*?{%-?\s*endmacro\s*-?%}", re.DOTALL
)


@dataclass(slots=True)
class MacroDef:
    """One macro as found in a file."""

    name: str
    package: str
    path: str
    file_source: str
    macro_sql: str
    calls: frozenset[str]
    arguments: tuple[str, ...] = ()

    @property
    def unique_id(self) -> str:
        return f"macro.{self.package}.{self.name}"


@dataclass(slots=True)
class MacroRegistry:
    """Every macro of every package, by package and name."""

    root_package: str
    packages: dict[str, dict[str, MacroDef]] = field(default_factory=dict)
    dispatch_orders: dict[str, list[str]] = field(default_factory=dict)

    def add_file(
        self, package: str, path: str, source: str, rewritten: str | None = None
    ) -> list[MacroDef]:
        """Register the macros of one file and return them."""
        import jinja2.nodes

        from kiln.jinja.environment import parse_ast

        tree = parse_ast(source, path)
        spans = {m.group(1): m.group(0) for m in _MACRO_SPAN.finditer(rewritten or source)}
        found: list[MacroDef] = []
        for node in tree.find_all(jinja2.nodes.Macro):
            calls = frozenset(
                name for call in node.find_all(jinja2.nodes.Call) if (name := called_name(call))
            )
            macro = MacroDef(
                name=node.name,
                package=package,
                path=path,
                file_source=source,
                macro_sql=spans.get(node.name, ""),
                calls=calls | _dispatch_targets(node),
                arguments=tuple(arg.name for arg in node.args),
            )
            self.packages.setdefault(package, {})[node.name] = macro
            found.append(macro)
        return found

    def lookup(self, name: str, package: str | None = None) -> MacroDef | None:
        """Resolve a macro name: the root project, dbt's, then installed packages.

        As in dbt, only the root project overrides dbt's macros; a package's macros are
        reached unqualified only where neither defines the name (a package macro calling
        its own helpers), else through their namespace (`dbt_utils.star`).
        """
        if package is None and "." in name:
            package, name = name.split(".", 1)
        if package is not None:
            return self.packages.get(package, {}).get(name)
        for pkg in self._search_order():
            found = self.packages.get(pkg, {}).get(name)
            if found is not None:
                return found
        return None

    def _search_order(self) -> list[str]:
        others = [p for p in self.packages if p not in (self.root_package, BUILTIN_PACKAGE)]
        return [self.root_package, BUILTIN_PACKAGE, *others]

    def dispatch(self, name: str, adapter_type: str, namespace: str | None = None) -> MacroDef:
        """`adapter.dispatch`: `<adapter>__name`, then `default__name`, in dbt's order.

        A namespace that is a loaded package (dbt's own included) is searched after the
        root project, or in its `dispatch:` search order from dbt_project.yml, package by
        package: every candidate name in one package before the next. Without one, each
        candidate name is looked up as an unqualified macro name is.
        """
        order = self.dispatch_orders.get(namespace) if namespace else None
        if order:
            groups = [[pkg] for pkg in order]
        elif namespace and namespace in self.packages:
            groups = [[pkg] for pkg in dict.fromkeys((self.root_package, namespace))]
        else:
            groups = [self._search_order()]
        for group in groups:
            for prefix in (adapter_type, "default"):
                for pkg in group:
                    found = self.packages.get(pkg, {}).get(f"{prefix}__{name}")
                    if found is not None:
                        return found
        where = f" in namespace '{namespace}'" if namespace else ""
        raise CompilationError(
            f"adapter.dispatch found no macro '{adapter_type}__{name}' or 'default__{name}'{where}",
            hint="define one of them, or check the macro name",
        )

    def macro_calls(self, names: Iterable[str]) -> list[str]:
        """The called names that are macros: `x.y()` is one only where `x` is a package
        (else it is a method of a variable, like `model.get()`)."""
        return [n for n in names if "." not in n or n.split(".", 1)[0] in self.packages]

    def depends_on(self, names: frozenset[str] | set[str]) -> list[str]:
        """Unique ids of the macros that a set of called names resolves to."""
        out = []
        for name in sorted(self.macro_calls(names)):
            found = self.lookup(name)
            if found is not None:
                out.append(found.unique_id)
        return out

    def all_macros(self) -> Iterator[MacroDef]:
        for macros in self.packages.values():
            yield from macros.values()


def called_name(call: jinja2.nodes.Call) -> str | None:
    """`name` for `name()`, `owner.name` for `owner.name()`, None for deeper calls."""
    import jinja2.nodes

    target = call.node
    if isinstance(target, jinja2.nodes.Name):
        return target.name
    if isinstance(target, jinja2.nodes.Getattr) and isinstance(target.node, jinja2.nodes.Name):
        return f"{target.node.name}.{target.attr}"
    return None


def _dispatch_targets(node: jinja2.nodes.Node) -> frozenset[str]:
    """Names dispatched with `adapter.dispatch('x')`: the macro depends on `default__x`."""
    import jinja2.nodes

    out = set()
    for call in node.find_all(jinja2.nodes.Call):
        target = call.node
        if (
            isinstance(target, jinja2.nodes.Getattr)
            and target.attr == "dispatch"
            and call.args
            and isinstance(call.args[0], jinja2.nodes.Const)
        ):
            out.add(f"default__{call.args[0].value}")
    return frozenset(out)


class MacroProxy:
    """A macro bound to one render context; calling it renders the macro there."""

    __slots__ = ("_macro", "_scope")

    def __init__(self, macro: MacroDef, scope: RenderScope) -> None:
        self._macro = macro
        self._scope = scope

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from kiln.jinja.environment import MacroReturn

        jinja_macro = self._scope.module_for(self._macro)
        try:
            return jinja_macro(*args, **kwargs)
        except MacroReturn as ret:
            return ret.value

    @property
    def name(self) -> str:
        return self._macro.name

    def __repr__(self) -> str:
        return f"<macro {self._macro.unique_id}>"


class PackageNamespace:
    """`dbt.foo()` or `my_package.foo()`: the macros of one package by attribute."""

    def __init__(self, package: str, scope: RenderScope) -> None:
        self._package = package
        self._scope = scope

    def __getattr__(self, name: str) -> Any:
        macro = self._scope.registry.lookup(name, self._package)
        if macro is None:
            raise AttributeError(f"package '{self._package}' has no macro '{name}'")
        return self._scope.proxy(macro)

    def __contains__(self, name: str) -> bool:
        return self._scope.registry.lookup(name, self._package) is not None


class RenderScope(Mapping[str, Any]):
    """The macro part of one render context: macro names and package namespaces."""

    def __init__(self, registry: MacroRegistry) -> None:
        self.registry = registry
        self.context: Mapping[str, Any] = {}
        self._modules: dict[str, Any] = {}
        self._proxies: dict[str, MacroProxy] = {}

    def bind(self, context: Mapping[str, Any]) -> None:
        """Attach the full context that macro modules are instantiated against."""
        self.context = context

    def proxy(self, macro: MacroDef) -> MacroProxy:
        key = macro.unique_id
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = MacroProxy(macro, self)
        return found

    def module_for(self, macro: MacroDef) -> Any:
        key = f"{macro.package}:{macro.path}"
        module = self._modules.get(key)
        if module is None:
            from kiln.jinja.environment import compile_template

            template = compile_template(macro.file_source, macro.path)
            module = template.make_module(vars=self.context, shared=True)  # type: ignore[arg-type]
            self._modules[key] = module
        return getattr(module, macro.name)

    def __getitem__(self, name: str) -> Any:
        if name in self.registry.packages:
            return PackageNamespace(name, self)
        macro = self.registry.lookup(name)
        if macro is None:
            raise KeyError(name)
        return self.proxy(macro)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self.registry.packages or self.registry.lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        names = {m.name for m in self.registry.all_macros()}
        return iter(sorted(names | set(self.registry.packages)))

    def __len__(self) -> int:
        return sum(1 for _ in self)
