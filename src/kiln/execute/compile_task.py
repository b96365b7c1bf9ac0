"""`kiln compile` and `kiln show`."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.errors import KilnError, SelectionError
from kiln.events.bus import Level, emit
from kiln.execute.compiler import Compiler, RelationResolver
from kiln.execute.hooks import compile_hook
from kiln.execute.result import NodeResult
from kiln.execute.tasks import runnable_ids

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kiln.parse.load import Workspace


def compile_nodes(ws: Workspace, selected: frozenset[str]) -> tuple[list[NodeResult], float]:
    """Compile the selected nodes into target/compiled/<package>/<path>."""
    t0 = time.perf_counter()
    compiler = Compiler(ws, RelationResolver(ws))
    writer = CompiledWriter(ws.target_dir / "compiled")
    results: list[NodeResult] = []
    for uid in runnable_ids(ws, selected, "compile"):
        node = ws.manifest.nodes[uid]
        is_hook = node.resource_type == "operation"
        if is_hook and not node.raw_code.strip():
            continue  # an empty project hook: dbt compiles nothing for it
        try:
            sql = compile_hook(ws, node) if is_hook else compiler.compile(node)
        except KilnError as exc:
            emit("CompileError", Level.ERROR, exc.render())
            results.append(NodeResult(uid, "error", exc.render()))
            continue
        writer.write(f"{node.package_name}/{_compiled_path(node)}", sql)
        results.append(
            NodeResult(uid, "success", None, compiled_code=sql, relation_name=node.relation_name)
        )
    writer.save_index()
    return results, time.perf_counter() - t0


class CompiledWriter:
    """Writes compiled SQL files, skipping those whose content is already on disk.

    An index of content hashes in the compiled folder avoids reopening thousands of
    unchanged files (opening files dominated `compile` on large projects); a file that
    is missing or has another size is always written.
    """

    INDEX = ".kiln_index.json"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index: dict[str, str] = {}
        try:
            loaded = json.loads((root / self.INDEX).read_text(encoding="utf-8"))
            self.index = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.index = {}
        self.made: set[Path] = set()

    def write(self, relative: str, sql: str) -> None:
        data = sql.encode("utf-8")
        digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        out = self.root / relative
        if self.index.get(relative) == digest:
            try:
                if out.stat().st_size == len(data):
                    return
            except OSError:
                pass
        if out.parent not in self.made:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(out.parent)
        out.write_bytes(data)
        self.index[relative] = digest

    def save_index(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / self.INDEX).write_text(json.dumps(self.index), encoding="utf-8")
        except OSError:
            pass  # only costs rewriting the files next time


def _compiled_path(node: object) -> str:
    original = getattr(node, "original_file_path", "")
    if getattr(node, "test_metadata", None) is not None:
        return f"{original}/{getattr(node, 'path', '')}"
    if getattr(node, "resource_type", None) == "operation":  # dbt_project.yml/hooks/<name>.sql
        return f"{original.removeprefix('./')}/{getattr(node, 'path', '')}"
    return str(original)


def show_rows(
    ws: Workspace, selected: frozenset[str], inline: str | None, limit: int, output: str
) -> Iterator[str]:
    """Preview rows of one node (or inline SQL) with a limit."""
    compiler = Compiler(ws, RelationResolver(ws))
    if inline:
        ctx = ws.factory.context(
            {
                "ref": lambda *a, **k: compiler.resolver.relation_of(
                    compiler.resolver.ref_node(
                        __import__("kiln.jinja.context", fromlist=["x"]).parse_ref_args(a, k),
                        ws.project.name,
                    )
                ),
                "source": compiler.resolver.source_relation,
            },
            ws.project.name,
            None,
            execute=True,
        )
        from kiln.jinja.environment import render_string

        sql, name = render_string(inline, ctx, "<inline>"), "inline"
    else:
        ids = [u for u in sorted(selected) if u in ws.manifest.nodes]
        if not ids:
            raise SelectionError("show needs --select naming one node, or --inline SQL")
        node = ws.manifest.nodes[ids[0]]
        sql, name = compiler.compile(node), node.name
    adapter = ws.open_adapter()
    try:
        _, table = adapter.execute(
            f"select * from (\n{sql}\n) as kiln_show limit {limit}", fetch=True
        )
    finally:
        adapter.close()
    assert table is not None
    if output == "json":
        rows = [dict(zip(table.column_names, r, strict=True)) for r in table.rows]
        yield json.dumps({"node": name, "show": rows}, default=str)
        return
    yield f"Previewing node '{name}':"
    widths = [
        max(len(str(c)), *(len(str(r[i])) for r in table.rows)) if table.rows else len(str(c))
        for i, c in enumerate(table.column_names)
    ]
    yield (
        "| "
        + " | ".join(str(c).ljust(w) for c, w in zip(table.column_names, widths, strict=True))
        + " |"
    )
    yield "| " + " | ".join("-" * w for w in widths) + " |"
    for row in table.rows:
        yield "| " + " | ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
