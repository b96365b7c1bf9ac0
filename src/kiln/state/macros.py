"""Which macros changed, and which of them a node reaches through `depends_on.macros`.

The set of changed macros is computed once per invocation; what each macro reaches is
memoized, so a 10,000-node project walks every macro edge at most once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from kiln.manifest.nodes import Macro


def changed_macros(
    current: Mapping[str, Macro],
    prior: Mapping[str, Mapping[str, Any]],
    ignore_packages: Collection[str] = (),
    prior_sql: Callable[[str], str] = str,
) -> frozenset[str]:
    """Macros added, removed, or whose SQL differs (dbt's `_macros_modified`).

    Args:
        current: the current manifest's macros.
        prior: the prior manifest.json's `macros`.
        ignore_packages: packages not compared, e.g. the built-in `dbt` macros when the
            prior manifest was written by dbt-core, whose implementation differs from
            Kiln's by construction.
        prior_sql: how to read a prior macro's SQL the way Kiln records it (dbt keeps
            `{% test %}` blocks as written, Kiln as the macros they define).

    Example:
        >>> m = Macro("macro.p.a", "a", "p", "m.sql", "m.sql", "select 1")
        >>> sorted(changed_macros({"macro.p.a": m}, {"macro.p.a": {"macro_sql": "x"}}))
        ['macro.p.a']
    """
    ignored = frozenset(ignore_packages)
    changed = {
        uid
        for uid, macro in current.items()
        if macro.package_name not in ignored
        and (uid not in prior or prior_sql(str(prior[uid].get("macro_sql"))) != macro.macro_sql)
    }
    changed.update(
        uid
        for uid, data in prior.items()
        if uid not in current and data.get("package_name") not in ignored
    )
    return frozenset(changed)


class MacroChanges:
    """Answers "which changed macros does this node use", transitively.

    Args:
        changed: the changed macro ids (`changed_macros`).
        current: the current macros, for their own `depends_on.macros`.
    """

    def __init__(self, changed: frozenset[str], current: Mapping[str, Macro]) -> None:
        self.changed = changed
        self._current = current
        self._reach: dict[str, frozenset[str]] = {}

    def reached(self, macro_ids: Iterable[str]) -> tuple[str, ...]:
        """The changed macros among `macro_ids` and the macros they call, sorted."""
        if not self.changed:
            return ()
        found: set[str] = set()
        for uid in macro_ids:
            found |= self._reached_from(uid)
        return tuple(sorted(found))

    def _reached_from(self, start: str) -> frozenset[str]:
        known = self._reach.get(start)
        if known is not None:
            return known
        # post-order walk without recursion (macro chains can be deep); a macro already
        # on the path is skipped, so recursive macros terminate
        stack = [(start, iter(self._deps(start)))]
        on_path = {start}
        while stack:
            uid, deps = stack[-1]
            for dep in deps:
                if dep not in self._reach and dep not in on_path:
                    on_path.add(dep)
                    stack.append((dep, iter(self._deps(dep))))
                    break
            else:
                stack.pop()
                on_path.discard(uid)
                found = {uid} & self.changed
                for dep in self._deps(uid):
                    found |= self._reach.get(dep, frozenset())
                self._reach[uid] = frozenset(found)
        return self._reach[start]

    def _deps(self, uid: str) -> list[str]:
        macro = self._current.get(uid)
        return macro.depends_on_macros if macro is not None else []
