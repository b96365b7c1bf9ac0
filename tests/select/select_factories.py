"""Factories for selection tests: records shaped as the parser makes them, in one line each.

make_manifest(
    make_model("stg_orders", folder="staging", depends_on=["seed.shop.orders"]),
    make_test("unique_stg_orders_order_id", "e3b841c71a", on="stg_orders"),
)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import Exposure, Manifest, Node, SourceDefinition, TestMetadata

PACKAGE = "shop"


def _folders(folder: str) -> list[str]:
    return [part for part in folder.split("/") if part]


def make_model(
    name: str,
    *,
    folder: str = "",
    depends_on: Sequence[str] = (),
    tags: Sequence[str] = (),
    config: dict[str, Any] | None = None,
    patch: str | None = None,
    raw_code: str = "select 1",
    package: str = PACKAGE,
    **fields: Any,
) -> Node:
    """A model in `models/<folder>/<name>.sql`; `patch` names its yml file."""
    rel = "/".join([*_folders(folder), f"{name}.sql"])
    version = fields.get("version")
    fqn = [package, *_folders(folder), name] + ([f"v{version}"] if version is not None else [])
    suffix = f".v{version}" if version is not None else ""
    return Node(
        unique_id=f"model.{package}.{name}{suffix}",
        resource_type="model",
        package_name=package,
        name=name,
        path=rel,
        original_file_path=f"models/{rel}",
        fqn=fqn,
        raw_code=raw_code,
        config={"enabled": True, "materialized": "view", "tags": list(tags), **(config or {})},
        depends_on_nodes=list(depends_on),
        patch_path=f"{package}://{patch}" if patch else None,
        access=fields.pop("access", "protected"),
        **fields,
    )


def make_seed(name: str, *, tags: Sequence[str] = (), config: dict[str, Any] | None = None) -> Node:
    """A seed `seeds/<name>.csv`."""
    return Node(
        unique_id=f"seed.{PACKAGE}.{name}",
        resource_type="seed",
        package_name=PACKAGE,
        name=name,
        path=f"{name}.csv",
        original_file_path=f"seeds/{name}.csv",
        fqn=[PACKAGE, name],
        config={"enabled": True, "materialized": "seed", "tags": list(tags), **(config or {})},
    )


def make_snapshot(
    name: str,
    *,
    yml: str,
    depends_on: Sequence[str],
    tags: Sequence[str] = (),
    config: dict[str, Any] | None = None,
) -> Node:
    """A snapshot defined in the YAML file `yml` (relative to the project)."""
    folders = list(PurePosixPath(yml).parent.parts)
    return Node(
        unique_id=f"snapshot.{PACKAGE}.{name}",
        resource_type="snapshot",
        package_name=PACKAGE,
        name=name,
        path=str(PurePosixPath(yml).relative_to(folders[0])),
        original_file_path=yml,
        patch_path=f"{PACKAGE}://{yml}",
        fqn=[PACKAGE, *folders[1:], name],
        raw_code="",
        config={"enabled": True, "materialized": "snapshot", "tags": list(tags), **(config or {})},
        depends_on_nodes=list(depends_on),
    )


def make_analysis(name: str, *, depends_on: Sequence[str]) -> Node:
    """An analysis `analyses/<name>.sql`."""
    return Node(
        unique_id=f"analysis.{PACKAGE}.{name}",
        resource_type="analysis",
        package_name=PACKAGE,
        name=name,
        path=f"analysis/{name}.sql",
        original_file_path=f"analyses/{name}.sql",
        fqn=[PACKAGE, "analysis", name],
        raw_code="select 1",
        config={"enabled": True, "materialized": "view", "tags": []},
        depends_on_nodes=list(depends_on),
    )


def make_test(
    name: str,
    hash_: str | None = None,
    *,
    depends_on: Sequence[str],
    yml: str | None = None,
    test_name: str | None = None,
    attached: str | None = None,
    tags: Sequence[str] = (),
    config: dict[str, Any] | None = None,
) -> Node:
    """A generic test from `yml` (with `hash_`), or a singular `tests/<name>.sql`."""
    uid = f"test.{PACKAGE}.{name}" + (f".{hash_}" if hash_ else "")
    ofp = yml or f"tests/{name}.sql"
    folders = list(PurePosixPath(ofp).parent.parts[1:])
    metadata = TestMetadata(name=test_name, kwargs={}) if test_name else None
    return Node(
        unique_id=uid,
        resource_type="test",
        package_name=PACKAGE,
        name=name,
        path=str(PurePosixPath(*PurePosixPath(ofp).parts[1:])),
        original_file_path=ofp,
        fqn=[PACKAGE, *folders, name],
        raw_code="select 1",
        config={
            "enabled": True,
            "materialized": "test",
            "severity": "ERROR",
            "tags": list(tags),
            **(config or {}),
        },
        depends_on_nodes=list(depends_on),
        test_metadata=metadata,
        attached_node=attached,
        file_key_name=f"models.{attached.split('.')[-1]}" if attached and yml else None,
    )


def make_source(source: str, table: str, *, yml: str, tags: Sequence[str] = ()) -> SourceDefinition:
    """A table of source `source` declared in `yml`."""
    folders = list(PurePosixPath(yml).parent.parts[1:])
    return SourceDefinition(
        unique_id=f"source.{PACKAGE}.{source}.{table}",
        package_name=PACKAGE,
        source_name=source,
        name=table,
        path=yml,
        original_file_path=yml,
        fqn=[PACKAGE, *folders, source, table],
        identifier=table,
        schema="main",
        tags=list(tags),
        config={"enabled": True},
    )


def make_exposure(name: str, *, yml: str, depends_on: Sequence[str]) -> Exposure:
    """An exposure declared in `yml`."""
    folders = list(PurePosixPath(yml).parent.parts[1:])
    return Exposure(
        unique_id=f"exposure.{PACKAGE}.{name}",
        name=name,
        package_name=PACKAGE,
        path=yml,
        original_file_path=yml,
        fqn=[PACKAGE, *folders, name],
        type="dashboard",
        owner={"name": "someone"},
        depends_on_nodes=list(depends_on),
    )


def make_manifest(*records: Node | SourceDefinition | Exposure, **fields: Any) -> Manifest:
    """A manifest holding `records`, each in its collection."""
    manifest = Manifest(project_name=PACKAGE, **fields)
    for record in records:
        if isinstance(record, SourceDefinition):
            manifest.sources[record.unique_id] = record
        elif isinstance(record, Exposure):
            manifest.exposures[record.unique_id] = record
        else:
            manifest.nodes[record.unique_id] = record
    return manifest


def graph_of(manifest: Manifest) -> Graph:
    """The manifest's graph."""
    return Graph.from_manifest(manifest)


def ids(*names: str, package: str = PACKAGE) -> set[str]:
    """Unique ids from `type:name` shorthands (`model:stg_orders`)."""
    return {f"{kind}.{package}.{name}" for kind, name in (n.split(":", 1) for n in names)}


def short(unique_ids: Iterable[str]) -> list[str]:
    """Ids without the package and the generic-test hash, sorted, for readable diffs."""
    out = []
    for uid in unique_ids:
        kind, _, rest = uid.split(".", 2)
        parts = rest.split(".")
        if kind == "test" and len(parts) == 2 and len(parts[1]) == 10:
            parts = parts[:1]
        out.append(f"{kind}:{'.'.join(parts)}")
    return sorted(out)
