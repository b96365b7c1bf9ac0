"""The dbt Jinja context: what a model, macro, hook or test can call.

One `ContextFactory` per invocation holds what every node shares; `for_parse` and
`for_runtime` add the per-node functions (`ref`, `source`, `config`, `this`, ...).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from kiln import DBT_COMPAT_VERSION
from kiln.adapters.relation import Relation
from kiln.config.env import make_env_var
from kiln.config.yaml_io import dump_yaml
from kiln.errors import CompilationError
from kiln.events.bus import Level, emit
from kiln.jinja.adapter_proxy import JinjaAdapter
from kiln.jinja.macros import MacroRegistry, RenderScope
from kiln.jinja.table import Table
from kiln.manifest.nodes import RefCall

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.config.profiles import Target
    from kiln.config.project import Project

_MISSING = object()


@dataclass(slots=True)
class Recorder:
    """What rendering one node read: refs, sources, config() calls, vars and env vars."""

    refs: list[RefCall] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    configs: dict[str, Any] = field(default_factory=dict)
    vars_used: dict[str, Any] = field(default_factory=dict)
    env_vars_used: dict[str, Any] = field(default_factory=dict)


class VarResolver:
    """`var()`: --vars first, then the project's vars (package-scoped, then global)."""

    def __init__(
        self,
        project_vars: Mapping[str, Any],
        cli_vars: Mapping[str, Any],
        package_names: frozenset[str],
    ) -> None:
        self.cli_vars = dict(cli_vars)
        self.globals: dict[str, Any] = {}
        self.scoped: dict[str, dict[str, Any]] = {}
        for key, value in project_vars.items():
            if key in package_names and isinstance(value, dict):
                self.scoped[key] = value
            else:
                self.globals[key] = value

    def lookup(self, name: str, package: str, default: Any = _MISSING) -> Any:
        if name in self.cli_vars:
            return self.cli_vars[name]
        scoped = self.scoped.get(package, {})
        if name in scoped:
            return scoped[name]
        if name in self.globals:
            return self.globals[name]
        if default is not _MISSING:
            return default
        raise CompilationError(
            f"Required var '{name}' not found in config",
            hint=f"set it under vars: in dbt_project.yml or pass --vars '{{{name}: ...}}'",
        )

    def fingerprint(self) -> str:
        """A hash of every var value (part of the parse-cache key)."""
        blob = json.dumps([self.cli_vars, self.globals, self.scoped], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


class RefResolver(Protocol):
    """How `ref` and `source` turn into relations at run time."""

    def ref(self, call: RefCall) -> Relation | str: ...

    def source(self, source_name: str, table_name: str) -> Relation: ...


class ConfigObject:
    """`config`: callable to set configs (parse time), `.get`/`.require` to read them."""

    def __init__(self, values: Mapping[str, Any], recorder: Recorder | None) -> None:
        self._values = values
        self._recorder = recorder

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if self._recorder is not None:
            for arg in args:
                if isinstance(arg, dict):
                    self._recorder.configs.update(arg)
            self._recorder.configs.update(kwargs)
        return ""

    def _lookup(self, key: str) -> Any:
        if self._recorder is not None and key in self._recorder.configs:
            return self._recorder.configs[key]
        return self._values.get(key, _MISSING)

    def get(self, key: str, default: Any = None, validator: Any = None) -> Any:
        value = self._lookup(key)
        return default if value is _MISSING or value is None else value

    def require(self, key: str, validator: Any = None) -> Any:
        value = self._lookup(key)
        if value is _MISSING:
            raise CompilationError(f"config '{key}' is required but not set")
        return value

    def persist_relation_docs(self) -> bool:
        return bool((self.get("persist_docs") or {}).get("relation"))

    def persist_column_docs(self) -> bool:
        return bool((self.get("persist_docs") or {}).get("columns"))


def _raise_compiler_error(msg: str, node: Any = None) -> None:
    raise CompilationError(str(msg))


def _warn(msg: str, node: Any = None) -> str:
    emit("JinjaLogWarning", Level.WARN, f"[WARNING]: {msg}")
    return ""


def _log(msg: Any, info: bool = False) -> str:
    emit("JinjaLogInfo" if info else "JinjaLogDebug", Level.INFO if info else Level.DEBUG, str(msg))
    return ""


def _print(msg: Any) -> str:
    emit("PrintEvent", Level.INFO, str(msg), raw=True)
    return ""


def _return(value: Any) -> None:
    from kiln.jinja.environment import MacroReturn

    raise MacroReturn(value)


def _fromjson(text: str, default: Any = None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys, default=str)
    except (TypeError, ValueError):
        return default


def _fromyaml(text: str, default: Any = None) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return default


def _store(results: dict[str, Any], name: str, response: Any, table: Any) -> str:
    results[name] = {"response": response, "table": table}
    return ""


def _set_strict(value: Any) -> set[Any]:
    return set(value)


def _try_set(value: Any, default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


_MODULES = SimpleNamespace(datetime=_dt, re=re, itertools=itertools, json=json, hashlib=hashlib)
_EXCEPTIONS = SimpleNamespace(
    raise_compiler_error=_raise_compiler_error,
    warn=_warn,
    raise_not_implemented=lambda msg: _raise_compiler_error(f"not implemented: {msg}"),
    raise_contract_error=lambda *a: _raise_compiler_error("contract error"),
)


@dataclass
class ContextFactory:
    """Builds render contexts for one invocation."""

    project: Project
    target: Target
    registry: MacroRegistry
    vars: VarResolver
    invocation_id: str
    run_started_at: _dt.datetime
    flags: Mapping[str, Any]
    adapter: Adapter | None = None
    quote_char: str = '"'
    graph_provider: Callable[[], Any] | None = None
    # installed packages (dbt_packages/): their macros are in the registry
    packages: tuple[Project, ...] = ()
    _base: dict[str, Any] | None = None

    def _base_context(self) -> dict[str, Any]:
        """What every render context starts from (built on first render: jinja2 is only
        imported when something is rendered)."""
        if self._base is not None:
            return self._base
        from kiln.jinja.environment import get_environment

        env = get_environment()
        self._base = {
            **env.globals,
            "modules": _MODULES,
            "exceptions": _EXCEPTIONS,
            "fromjson": _fromjson,
            "tojson": _tojson,
            "fromyaml": _fromyaml,
            "toyaml": lambda value, default=None: dump_yaml(value),
            "zip": lambda *a: list(zip(*a, strict=False)),
            "zip_strict": lambda *a: list(zip(*a, strict=True)),
            "set": _try_set,
            "set_strict": _set_strict,
            "log": _log,
            "print": _print,
            "return": _return,
            "local_md5": lambda s: hashlib.md5(str(s).encode()).hexdigest(),
            "target": self.target.to_context(),
            "invocation_id": self.invocation_id,
            "run_started_at": self.run_started_at,
            "flags": SimpleNamespace(**{k.upper(): v for k, v in self.flags.items()}),
            "dbt_version": DBT_COMPAT_VERSION,
            "project_name": self.project.name,
            "schema": self.target.schema,
            "database": self.target.database,
            "api": SimpleNamespace(Relation=SimpleNamespace(create=self._create_relation)),
        }
        return self._base

    def _create_relation(
        self,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        **_: Any,
    ) -> Relation:
        return Relation(database, schema, identifier or "", type=type, quote_char=self.quote_char)

    def base_context(
        self, scope: RenderScope, package: str, recorder: Recorder | None, execute: bool
    ) -> dict[str, Any]:
        """Values every context has, bound to one scope and package."""
        adapter = JinjaAdapter(
            self.adapter if execute else None, self.target.type, scope, self.quote_char
        )
        values: dict[str, Any] = {
            "execute": execute,
            "adapter": adapter,
            "var": self._make_var(package, recorder),
            "env_var": make_env_var(record=recorder.env_vars_used if recorder else None),
        }
        values.update(self._statement_functions(adapter, execute))
        if self.graph_provider is not None:
            values["graph"] = _LazyGraph(self.graph_provider)
        return values

    def _make_var(self, package: str, recorder: Recorder | None) -> Any:
        resolver = self.vars

        class Var:
            def __call__(self, name: str, default: Any = _MISSING) -> Any:
                value = resolver.lookup(name, package, default)
                if recorder is not None:
                    recorder.vars_used[name] = value
                return value

            def has_var(self, name: str) -> bool:
                try:
                    resolver.lookup(name, package)
                except CompilationError:
                    return False
                return True

        return Var()

    def _statement_functions(self, adapter: JinjaAdapter, execute: bool) -> dict[str, Any]:
        results: dict[str, Any] = {}

        def statement(
            name: str | None = None,
            fetch_result: bool = False,
            auto_begin: bool = True,
            language: str = "sql",
            caller: Any = None,
        ) -> str:
            sql = caller() if caller is not None else ""
            if execute:
                response, table = adapter.execute(str(sql), fetch=fetch_result)
                if name is not None:
                    results[name] = {
                        "response": response,
                        "data": [list(r) for r in table.rows],
                        "table": table,
                    }
            return ""

        def load_result(name: str) -> Any:
            return results.get(name)

        def run_query(sql: str) -> Table | None:
            if not execute:
                return None
            _, table = adapter.execute(str(sql), fetch=True)
            return table

        return {
            "statement": statement,
            "load_result": load_result,
            "run_query": run_query,
            "store_result": lambda name, response, agate_table=None: _store(
                results, name, response, agate_table
            ),
            "noop_statement": lambda *a, **k: "",
        }

    def context(
        self, node_values: Mapping[str, Any], package: str, recorder: Recorder | None, execute: bool
    ) -> ChainMap[str, Any]:
        """A full context: node values over the macro scope over the shared values."""
        scope = RenderScope(self.registry)
        values = {**self.base_context(scope, package, recorder, execute), **node_values}
        chain: ChainMap[str, Any] = ChainMap(values, scope, self._base_context())  # type: ignore[arg-type]
        scope.bind(chain)
        return chain


class _LazyGraph(Mapping[str, Any]):
    """`graph` built only when a template reads it (it is large)."""

    def __init__(self, provider: Callable[[], Any]) -> None:
        self._provider = provider
        self._value: Mapping[str, Any] | None = None

    def _get(self) -> Mapping[str, Any]:
        if self._value is None:
            self._value = self._provider()
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Any:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def parse_ref_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RefCall:
    """`ref('name')`, `ref('pkg', 'name')`, `ref('name', v=2)` (also `version=`)."""
    version = kwargs.get("v", kwargs.get("version"))
    if len(args) == 1:
        return RefCall(str(args[0]), None, version)
    if len(args) == 2:
        return RefCall(str(args[1]), str(args[0]), version)
    raise CompilationError(f"ref() takes one or two arguments, got {len(args)}")
