"""What state comparison reads of a node, from either side of the comparison.

The current side is Kiln's own records (`kiln.manifest.nodes`); the prior side is a
manifest.json dict written by Kiln or by dbt. Both are turned into the same `Facts`
record so that every comparison in `compare.py` is one function over two `Facts`, with
no knowledge of where they came from. Only what some comparison reads is extracted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kiln.manifest.nodes import Exposure, Node, SourceDefinition

# dbt's generic tests compare only config and fqn in `same_contents`
GENERIC_TEST = "generic_test"


@dataclass(frozen=True, slots=True)
class Contract:
    """A model's contract: whether it is enforced, and what it promises.

    Attributes:
        enforced: `contract.enforced`.
        columns: (name, data_type, constraint types) per column, sorted by name.
        materialized: the materialization, where it decides whether constraints apply.
        versioned: the model has a version (dbt makes breaking changes errors there).
    """

    enforced: bool = False
    columns: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    materialized: str = ""
    versioned: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """The comparable view of one node, source or exposure.

    Attributes:
        unique_id: the id both sides share.
        kind: "node", "generic_test", "model", "source", "exposure" or "unit_test";
            decides which comparisons apply (dbt's `hasattr(node, "same_<x>")`).
        fqn: the fully qualified name.
        raw_code: the code as written (`same_body`).
        checksum: (name, value): how seeds are compared.
        unrendered_config: configs as written, before rendering.
        persist_docs: the rendered `persist_docs` config.
        description: the node's description.
        column_descriptions: description per column.
        contract: the contract (models only).
        macros: `depends_on.macros`.
        refs: (latest_version, access, deprecation_date) of models, which changes how
            refs to them resolve.
        location: unrendered (database, schema, alias or identifier) for relation checks.
        extra: per-kind facts compared as a whole (source quoting and freshness,
            exposure owner and url, ...).
    """

    unique_id: str
    kind: str
    fqn: tuple[str, ...] = ()
    raw_code: str = ""
    checksum: tuple[str, str] = ("none", "")
    unrendered_config: Mapping[str, Any] = field(default_factory=dict)
    persist_docs: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    contract: Contract = Contract()
    macros: tuple[str, ...] = ()
    refs: tuple[Any, ...] = ()
    location: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def digest(facts: Facts) -> str:
    """A hash of everything comparable about a node.

    Equal digests mean equal facts, so every comparison would find the node unchanged;
    kiln_state.json keeps one per node, which spares decoding unchanged prior nodes.
    """
    blob = msgspec.json.encode(facts, enc_hook=str, order="deterministic")
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


def canonical(value: Any) -> Any:
    """A JSON-shaped copy without None values or empty mappings, for tolerant equality.

    Kiln's records and manifest.json differ in how they spell "nothing" (a missing key,
    `null`, `{}`), and JSON turns tuples into lists and dates into strings.

    Example:
        >>> canonical({"a": None, "b": (1, 2), "c": {"d": None}})
        {'b': [1, 2]}
    """
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            item = canonical(item)
            if item is not None and item != {}:
                out[str(key)] = item
        return out
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _kind(resource_type: str, is_generic_test: bool) -> str:
    if resource_type == "test" and is_generic_test:
        return GENERIC_TEST
    if resource_type in ("model", "seed", "source", "exposure", "unit_test"):
        return resource_type
    return "node"


def _column_descriptions(columns: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: str((info or {}).get("description") or "")
        for name, info in columns.items()
        if isinstance(info, Mapping) or info is None
    }


def _contract_columns(columns: Mapping[str, Any]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    out = []
    for name, info in sorted(columns.items()):
        info = info or {}
        types = tuple(sorted(str(c.get("type")) for c in info.get("constraints") or []))
        out.append((str(name), str(info.get("data_type") or ""), types))
    return tuple(out)


def _contract(config: Mapping[str, Any], columns: Mapping[str, Any], version: Any) -> Contract:
    enforced = bool((config.get("contract") or {}).get("enforced"))
    if not enforced:
        return Contract(versioned=version is not None)
    materialized = str(config.get("materialized") or "")
    return Contract(
        True,
        _contract_columns(columns),
        materialized if materialized in ("table", "incremental") else "",
        version is not None,
    )


def _refs(latest_version: Any, access: Any, deprecation_date: Any) -> tuple[Any, ...]:
    # a model without `access` is protected (manifest.json spells it out, records may not)
    return (latest_version, access or "protected", deprecation_date)


def _location(unrendered: Mapping[str, Any]) -> tuple[Any, ...]:
    return (unrendered.get("database"), unrendered.get("schema"), unrendered.get("alias"))


# ---- the current side: Kiln records ----------------------------------------------------------


def from_node(node: Node) -> Facts:
    """The facts of a current model, seed, snapshot, test, analysis or operation."""
    generic = node.test_metadata is not None
    return Facts(
        unique_id=node.unique_id,
        kind=_kind(node.resource_type, generic),
        fqn=tuple(node.fqn),
        raw_code=node.raw_code,
        checksum=("sha256", node.checksum) if node.checksum else ("none", ""),
        unrendered_config=node.unrendered_config,
        persist_docs=node.config.get("persist_docs") or {},
        description=node.description,
        column_descriptions=_column_descriptions(node.columns),
        contract=_contract(node.config, node.columns, node.version)
        if node.resource_type == "model"
        else Contract(),
        macros=tuple(node.depends_on_macros),
        refs=_refs(node.latest_version, node.access, getattr(node, "deprecation_date", None)),
        location=_location(node.unrendered_config),
    )


def from_source(source: SourceDefinition, location: tuple[Any, Any] | None) -> Facts:
    """The facts of a current source table.

    Args:
        source: the record.
        location: the unrendered (database, schema) as written in its yml, when known;
            otherwise the rendered ones are compared (dbt's legacy behaviour).
    """
    database, schema = location if location is not None else (source.database, source.schema)
    return Facts(
        unique_id=source.unique_id,
        kind="source",
        fqn=tuple(source.fqn),
        unrendered_config=source.unrendered_config,
        location=(database, schema, source.identifier),
        extra=_source_extra(
            source.quoting,
            source.freshness,
            source.loaded_at_field,
            source.loaded_at_query,
            getattr(source, "external", None),
        ),
    )


def _source_extra(
    quoting: Any, freshness: Any, loaded_at_field: Any, loaded_at_query: Any, external: Any
) -> dict[str, Any]:
    return {
        "quoting": canonical(quoting or {}),
        "freshness": canonical(freshness or {}),
        "loaded_at_field": loaded_at_field,
        "loaded_at_query": loaded_at_query,
        "external": canonical(external or {}),
    }


def from_exposure(exposure: Exposure) -> Facts:
    """The facts of a current exposure."""
    return Facts(
        unique_id=exposure.unique_id,
        kind="exposure",
        fqn=tuple(exposure.fqn),
        unrendered_config=exposure.unrendered_config,
        macros=tuple(exposure.depends_on_macros),
        extra=_exposure_extra(
            exposure.type,
            exposure.owner,
            exposure.maturity,
            exposure.url,
            exposure.label,
            exposure.depends_on_nodes,
            exposure.description,
        ),
    )


def _exposure_extra(
    type_: Any, owner: Any, maturity: Any, url: Any, label: Any, depends_on: Any, description: Any
) -> dict[str, Any]:
    return {
        "type": type_,
        "description": description or "",
        "owner": canonical(owner or {}),
        "maturity": maturity,
        "url": url,
        "label": label,
        "depends_on": sorted(set(depends_on or ())),
    }


def from_record(record: Any, source_location: tuple[Any, Any] | None = None) -> Facts:
    """The facts of any current selectable record (unknown kinds compare by config only)."""
    if isinstance(record, Node):
        return from_node(record)
    if isinstance(record, SourceDefinition):
        return from_source(record, source_location)
    if isinstance(record, Exposure):
        return from_exposure(record)
    return Facts(
        unique_id=str(record.unique_id),
        kind=_kind(str(record.resource_type), False),
        fqn=tuple(getattr(record, "fqn", ()) or ()),
        unrendered_config=getattr(record, "unrendered_config", None) or {},
        macros=tuple(getattr(record, "depends_on_macros", ()) or ()),
    )


# ---- the prior side: manifest.json dicts -------------------------------------------------------


def from_artifact(data: Mapping[str, Any], source_location: tuple[Any, Any] | None = None) -> Facts:
    """The facts of a node, source or exposure of a prior manifest.json.

    Args:
        data: the record as manifest.json holds it.
        source_location: for a source, its (database, schema) as written in the yml
            when the state knows them; None compares the rendered ones.
    """
    resource_type = str(data.get("resource_type") or "")
    if resource_type == "source":
        return _source_from_artifact(data, source_location)
    if resource_type == "exposure":
        return _exposure_from_artifact(data)
    config = data.get("config") or {}
    unrendered = data.get("unrendered_config") or {}
    depends_on = data.get("depends_on") or {}
    checksum = data.get("checksum") or {}
    return Facts(
        unique_id=str(data.get("unique_id")),
        kind=_kind(resource_type, bool(data.get("test_metadata"))),
        fqn=tuple(data.get("fqn") or ()),
        raw_code=str(data.get("raw_code") or ""),
        checksum=(str(checksum.get("name") or "none"), str(checksum.get("checksum") or "")),
        unrendered_config=unrendered,
        persist_docs=config.get("persist_docs") or {},
        description=str(data.get("description") or ""),
        column_descriptions=_column_descriptions(data.get("columns") or {}),
        contract=_contract(config, data.get("columns") or {}, data.get("version"))
        if resource_type == "model"
        else Contract(),
        macros=tuple(depends_on.get("macros") or ()),
        refs=_refs(data.get("latest_version"), data.get("access"), data.get("deprecation_date")),
        location=_location(unrendered),
    )


def _source_from_artifact(data: Mapping[str, Any], location: tuple[Any, Any] | None) -> Facts:
    if location is None:
        location = (data.get("database"), data.get("schema"))
    return Facts(
        unique_id=str(data.get("unique_id")),
        kind="source",
        fqn=tuple(data.get("fqn") or ()),
        unrendered_config=data.get("unrendered_config") or {},
        location=(*location, data.get("identifier")),
        extra=_source_extra(
            data.get("quoting"),
            data.get("freshness"),
            data.get("loaded_at_field"),
            data.get("loaded_at_query"),
            data.get("external"),
        ),
    )


def _exposure_from_artifact(data: Mapping[str, Any]) -> Facts:
    depends_on = data.get("depends_on") or {}
    return Facts(
        unique_id=str(data.get("unique_id")),
        kind="exposure",
        fqn=tuple(data.get("fqn") or ()),
        unrendered_config=data.get("unrendered_config") or {},
        macros=tuple(depends_on.get("macros") or ()),
        extra=_exposure_extra(
            data.get("type"),
            data.get("owner"),
            data.get("maturity"),
            data.get("url"),
            data.get("label"),
            depends_on.get("nodes"),
            data.get("description"),
        ),
    )
