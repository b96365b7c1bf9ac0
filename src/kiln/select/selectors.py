"""YAML selectors (`selectors.yml`) compiled to the same AST as CLI expressions.

A definition is one of:

* a string in CLI syntax (`"tag:nightly+"`);
* `{union: [...]}` or `{intersection: [...]}`, whose items are definitions and at most
  one `{exclude: [...]}`, which applies to the whole group (dbt's rule);
* `{method: ..., value: ..., parents: .., parents_depth: .., children: ..,
  children_depth: .., childrens_parents: .., indirect_selection: .., exclude: [...]}`;
* `{<method>: <value>}`, the short form of the above.

`method: selector` refers to another selector by name. Errors name the selector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from kiln.errors import SelectionError
from kiln.select.ast import (
    ALL,
    Criterion,
    Depth,
    Difference,
    IndirectSelection,
    Intersection,
    Node,
    Union,
    criterion_text,
)
from kiln.select.errors import unknown_choice
from kiln.select.grammar import method_problem, parse

CRITERION_KEYS = (
    "method", "value", "parents", "parents_depth", "children", "children_depth",
    "childrens_parents", "indirect_selection", "exclude",
)  # fmt: skip
SELECTOR_KEYS = ("name", "description", "definition", "default")


@dataclass(frozen=True, slots=True)
class SelectorEntry:
    """One raw `selectors:` entry, compiled on demand."""

    name: str
    definition: Any
    default: bool
    description: str


class SelectorLibrary:
    """The project's selectors by name; definitions are compiled on first use.

    Args:
        raw: the parsed `selectors.yml` (`{"selectors": [...]}`), or the manifest's
            `selectors` mapping (`{name: {"definition": ..., "default": ...}}`).

    Raises:
        SelectionError: an entry is malformed, names repeat, or several are default.
    """

    def __init__(self, raw: Mapping[str, Any] | None = None) -> None:
        self._entries = {entry.name: entry for entry in _entries(raw or {})}
        self._compiled: dict[str, Node] = {}
        defaults = [name for name, entry in self._entries.items() if entry.default]
        if len(defaults) > 1:
            raise SelectionError(f"several selectors have `default: true`: {', '.join(defaults)}")
        self.default_name: str | None = defaults[0] if defaults else None

    @property
    def names(self) -> tuple[str, ...]:
        """Every selector name, in file order."""
        return tuple(self._entries)

    def entry(self, name: str) -> SelectorEntry:
        """The raw entry `name`.

        Raises:
            SelectionError: no selector has that name.
        """
        if name not in self._entries:
            raise SelectionError(unknown_choice("selector", name, self._entries))
        return self._entries[name]

    def expression(self, name: str) -> Node:
        """The compiled definition of selector `name`.

        Raises:
            SelectionError: the selector is unknown or its definition is invalid.
        """
        if name not in self._compiled:
            entry = self.entry(name)
            self._compiled[name] = _Compiler(name, self.names).root(entry.definition)
        return self._compiled[name]


def _entries(raw: Mapping[str, Any]) -> list[SelectorEntry]:
    if "selectors" in raw and isinstance(raw["selectors"], list):
        items: Sequence[Any] = raw["selectors"]
    else:
        items = [{"name": name, **value} for name, value in raw.items() if isinstance(value, dict)]
    entries: list[SelectorEntry] = []
    for item in items:
        entry = _entry(item)
        if any(e.name == entry.name for e in entries):
            raise SelectionError(f"selector {entry.name!r} is defined twice")
        entries.append(entry)
    return entries


def _entry(item: Any) -> SelectorEntry:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise SelectionError(f"a selector needs a `name` and a `definition`, got {_show(item)}")
    name = item["name"]
    if "definition" not in item:
        raise SelectionError(f"selector {name!r} has no `definition`")
    unknown = [key for key in item if key not in SELECTOR_KEYS]
    if unknown:
        message = unknown_choice("key", unknown[0], SELECTOR_KEYS)
        raise SelectionError(f"selector {name!r}: {message}")
    default = item.get("default", False)
    if isinstance(default, str) and default.strip().lower() in ("true", "false"):
        default = default.strip().lower() == "true"
    if not isinstance(default, bool):
        raise SelectionError(f"selector {name!r}: `default` must be true or false, got {default!r}")
    return SelectorEntry(name, item["definition"], default, str(item.get("description") or ""))


def _show(definition: Any) -> str:
    """A definition as one line of flow-style YAML, for messages."""
    text = yaml.safe_dump(definition, default_flow_style=True, sort_keys=False, width=1000)
    return text.strip().removesuffix("...").strip()


class _Compiler:
    """Compiles one selector's definition; `self.name` goes into every error."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.origin = f"selector {name!r}"
        self.known = known

    def error(self, message: str, definition: Any) -> SelectionError:
        """An error naming the selector and showing the offending definition."""
        return SelectionError(f"{self.origin}: {message} (in {_show(definition)})")

    def root(self, definition: Any) -> Node:
        """A selector's top-level `definition`."""
        if isinstance(definition, dict) and len(definition) > 1:
            group = [key for key in ("union", "intersection") if key in definition]
            if group:
                message = f"a root-level `{group[0]}` must be the definition's only key"
                raise self.error(message, definition)
        return self.definition(definition)

    def definition(self, definition: Any) -> Node:
        """A string, a union/intersection, or a criterion mapping."""
        if isinstance(definition, str):
            return parse(definition, origin=self.origin)
        if not isinstance(definition, dict) or not definition:
            raise self.error("expected a string or a mapping", definition)
        for key in ("union", "intersection"):
            if key in definition:
                return self.group(key, definition)
        if "exclude" in definition and len(definition) == 1:
            raise self.error("`exclude` belongs in a union or intersection list", definition)
        return self.criterion(definition)

    def group(self, key: str, definition: dict[str, Any]) -> Node:
        """`union:`/`intersection:` with at most one `exclude` item for the whole group."""
        items = definition[key]
        if not isinstance(items, list) or not items:
            raise self.error(f"`{key}` needs a list of definitions", definition)
        include: list[Node] = []
        exclude: Node | None = None
        for item in items:
            if isinstance(item, dict) and "exclude" in item:
                if exclude is not None:
                    raise self.error(f"only one `exclude` per `{key}`", definition)
                if len(item) > 1:
                    raise self.error("`exclude` must stand alone in its list item", item)
                exclude = self.exclusions(item)
            else:
                include.append(self.definition(item))
        if not include:
            raise self.error(f"`{key}` has nothing to exclude from", definition)
        kind = Union if key == "union" else Intersection
        node: Node = include[0] if len(include) == 1 else kind(tuple(include))
        return node if exclude is None else Difference(node, exclude)

    def exclusions(self, holder: dict[str, Any]) -> Node:
        """The union of an `exclude:` list."""
        items = holder["exclude"]
        if not isinstance(items, list) or not items:
            raise self.error("`exclude` needs a list of definitions", holder)
        nodes = tuple(self.definition(item) for item in items)
        return nodes[0] if len(nodes) == 1 else Union(nodes)

    def criterion(self, definition: dict[str, Any]) -> Node:
        """A method/value mapping (or its `{method: value}` short form)."""
        fields = self.criterion_fields(definition)
        crit = self.build(definition, **fields)
        if "exclude" in definition:
            return Difference(crit, self.exclusions(definition))
        return crit

    def criterion_fields(self, definition: dict[str, Any]) -> dict[str, Any]:
        """The mapping's keys, checked, without `exclude`."""
        if "method" not in definition and len(definition) == 1:
            method, value = next(iter(definition.items()))
            return {"method": method, "value": value}
        unknown = [key for key in definition if key not in CRITERION_KEYS]
        if unknown:
            raise self.error(unknown_choice("key", str(unknown[0]), CRITERION_KEYS), definition)
        if "method" not in definition or "value" not in definition:
            raise self.error("expected `method` and `value` keys", definition)
        return {k: v for k, v in definition.items() if k != "exclude"}

    def build(self, definition: dict[str, Any], method: Any, value: Any, **ops: Any) -> Criterion:
        """The criterion for checked `method`, `value` and graph-operator keys."""
        if not isinstance(method, str):
            raise self.error(f"method must be a string, got {method!r}", definition)
        name, *args = method.split(".")
        problem = method_problem(name, args)
        if problem is not None:
            raise self.error(problem[0], definition)
        if value is None or isinstance(value, dict | list):
            raise self.error("`value` must be a string", definition)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if name == "selector" and text not in self.known:
            raise self.error(unknown_choice("selector", text, self.known), definition)
        crit = Criterion(
            name, tuple(args), text,
            parents=self.depth(definition, ops, "parents"),
            children=self.depth(definition, ops, "children"),
            childrens_parents=self.flag(definition, ops, "childrens_parents"),
            indirect=self.indirect(definition, ops.get("indirect_selection")),
            origin=self.origin,
        )  # fmt: skip
        if crit.childrens_parents and crit.children is not None:
            raise self.error("`childrens_parents` cannot be combined with `children`", definition)
        return _located(crit)

    def flag(self, definition: dict[str, Any], ops: dict[str, Any], key: str) -> bool:
        """A boolean key (`parents`, `children`, `childrens_parents`)."""
        value = ops.get(key, False)
        if not isinstance(value, bool):
            raise self.error(f"`{key}` must be true or false", definition)
        return value

    def depth(self, definition: dict[str, Any], ops: dict[str, Any], key: str) -> Depth | None:
        """`parents`/`children` with their optional `*_depth`."""
        # as in dbt, a depth counts only when its operator is switched on
        if not self.flag(definition, ops, key):
            return None
        depth = ops.get(f"{key}_depth")
        if depth is None:
            return ALL
        if isinstance(depth, bool) or not str(depth).isdigit():
            raise self.error(f"`{key}_depth` must be a whole number, got {depth!r}", definition)
        return int(depth)

    def indirect(self, definition: dict[str, Any], mode: Any) -> IndirectSelection | None:
        """The criterion's own `indirect_selection`, if set."""
        if mode is None:
            return None
        choices = [m.value for m in IndirectSelection]
        if mode not in choices:
            raise self.error(unknown_choice("indirect_selection", str(mode), choices), definition)
        return IndirectSelection(mode)


def _located(crit: Criterion) -> Criterion:
    """The criterion with its CLI spelling as source, so later errors can point into it."""
    source = criterion_text(crit)
    start = source.index(":") + 1
    return replace(
        crit, span=(0, len(source)), value_span=(start, start + len(crit.value)), source=source
    )
