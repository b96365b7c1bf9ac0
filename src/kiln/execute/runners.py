"""Running one node: models, seeds, tests, and the no-op kinds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiln.adapters.base import SchemaRef
from kiln.errors import KilnError
from kiln.events.bus import Level, emit
from kiln.events.format import describe_model, progress_line
from kiln.execute.compiler import Compiler, RelationResolver
from kiln.execute.result import NodeResult, Timing, utc_stamp
from kiln.manifest.nodes import Node, RefCall, UnitTest

if TYPE_CHECKING:
    from kiln.adapters.base import Adapter
    from kiln.materialize import BuildRequest
    from kiln.materialize.microbatch import BatchEvent
    from kiln.parse.load import Workspace


def _unit_label(unit: UnitTest | None) -> str:
    assert unit is not None
    return f"unit_test {unit.model}::{unit.name}"


def _describe(node: Node) -> str:
    """`sql table model`; dbt calls microbatch models `sql microbatch model`."""
    if node.materialized == "incremental" and node.config.get("incremental_strategy") == (
        "microbatch"
    ):
        return f"{node.language} microbatch model"
    return describe_model(node.materialized, node.language)


class NodeRunner:
    """Compiles and executes nodes; shared by the scheduler's threads."""

    def __init__(
        self,
        ws: Workspace,
        adapter: Adapter,
        numbering: dict[str, int],
        total: int,
        *,
        store_failures: bool = False,
    ) -> None:
        self.ws = ws
        self.adapter = adapter
        self.resolver = RelationResolver(ws)
        self.compiler = Compiler(ws, self.resolver)
        self.numbering = numbering
        self.total = total
        self.store_failures = store_failures
        self.full_refresh = ws.invocation.full_refresh

    # ---- entry points used by the scheduler ----------------------------------------------

    def run(self, uid: str) -> NodeResult:
        unit = self.ws.manifest.unit_tests.get(uid)
        if unit is not None:
            return self._run_unit(uid, unit)
        node = self.ws.manifest.nodes[uid]
        label = self._label(node)
        index = self.numbering.get(uid, 0)
        emit(
            "NodeStart",
            Level.INFO,
            progress_line(index, self.total, f"START {label}", "RUN"),
            unique_id=uid,
        )
        started = utc_stamp()
        t0 = time.perf_counter()
        result = self._guarded(node, started)
        result.execution_time = time.perf_counter() - t0
        result.thread_id = threading.current_thread().name
        if not result.timing:
            result.timing = [Timing("execute", started, utc_stamp())]
        self._report(node, result, index, label)
        return result

    def skip(self, uid: str, cause: str) -> NodeResult:
        unit = self.ws.manifest.unit_tests.get(uid)
        node = self.ws.manifest.nodes.get(uid)
        label = self._label(node, skip=True) if node is not None else _unit_label(unit)
        index = self.numbering.get(uid, 0)
        emit(
            "SkippingDetails",
            Level.INFO,
            progress_line(index, self.total, f"SKIP {label}", "SKIP"),
            unique_id=uid,
        )
        return NodeResult(
            unique_id=uid,
            status="skipped",
            message="SKIP",
            relation_name=node.relation_name if node is not None else None,
            thread_id="main",
        )

    # ---- dispatch ---------------------------------------------------------------------------

    def _guarded(self, node: Node, started: str) -> NodeResult:
        try:
            return self._execute(node)
        except KilnError as exc:
            status = "error"
            return NodeResult(
                unique_id=node.unique_id,
                status=status,
                message=exc.render(),
                relation_name=node.relation_name,
                timing=[Timing("execute", started, utc_stamp())],
            )

    def _execute(self, node: Node) -> NodeResult:
        handlers: dict[str, Callable[[Node], NodeResult]] = {
            "model": self._run_model,
            "seed": self._run_seed,
            "test": self._run_test,
            "snapshot": self._run_snapshot,
        }
        handler = handlers.get(node.resource_type)
        if handler is None:
            return NodeResult(node.unique_id, "success", "OK")
        # Every statement of the node, introspection and tests included, is attributed to it.
        with self.adapter.node_scope(node.unique_id, node.config):
            return handler(node)

    def _relation(self, node: Node) -> Any:
        return self.resolver.relation_of(node)

    # ---- models -----------------------------------------------------------------------------

    def _run_model(self, node: Node) -> NodeResult:
        from kiln.materialize import build_incremental, build_table, build_view

        relation = self._relation(node)
        mat = node.materialized
        full_refresh = self._full_refresh(node)
        incremental = False
        if mat == "incremental":
            existing = self.adapter.get_relation(
                relation.database, relation.schema, relation.identifier
            )
            incremental = existing is not None and existing.type == "table" and not full_refresh
        if mat == "incremental" and node.config.get("incremental_strategy") == "microbatch":
            return self._run_microbatch(node, relation, full_refresh, incremental)
        t_compile = utc_stamp()
        sql = self.compiler.compile(node, is_incremental=incremental)
        compiled_at = utc_stamp()
        self.adapter.create_schema(SchemaRef.of(relation))
        req = self._model_request(node, relation, sql, full_refresh, incremental)
        builders = {"view": build_view, "table": build_table, "incremental": build_incremental}
        builder = builders.get(mat)
        if builder is None:
            raise KilnError(
                f"materialization '{mat}' is not supported for model '{node.name}'",
                hint="use view, table, incremental or ephemeral",
            )
        started = utc_stamp()
        response = builder(self.adapter, req)
        return NodeResult(
            unique_id=node.unique_id,
            status="success",
            message=response.message,
            adapter_response=response.to_dict(),
            compiled_code=sql,
            relation_name=node.relation_name,
            timing=[
                Timing("compile", t_compile, compiled_at),
                Timing("execute", started, utc_stamp()),
            ],
        )

    def _model_request(
        self,
        node: Node,
        relation: Any,
        sql: str,
        full_refresh: bool,
        incremental: bool,
        **extra: Any,
    ) -> BuildRequest:
        from kiln.materialize import BuildRequest

        return BuildRequest(
            node_id=node.unique_id,
            relation=relation,
            sql=sql,
            config=node.config,
            full_refresh=full_refresh,
            incremental=incremental,
            pre_hooks=tuple(self.compiler.render_hooks(node, "pre-hook")),
            post_hooks=tuple(self.compiler.render_hooks(node, "post-hook")),
            event_time_start=self.ws.invocation.event_time_start,
            event_time_end=self.ws.invocation.event_time_end,
            **extra,
        )

    def _run_microbatch(
        self, node: Node, relation: Any, full_refresh: bool, incremental: bool
    ) -> NodeResult:
        """Build a microbatch model: each batch compiled and built on its own.

        The node is not compiled as a whole (dbt records `compiled: false` and no code);
        a failed batch makes a partial success (or an error when none succeeded).
        """
        from kiln.materialize import build_microbatch
        from kiln.materialize.microbatch import Batch

        def batch_sql(batch: Batch, is_incremental: bool) -> str:
            return self.compiler.compile(node, is_incremental=is_incremental, batch=batch)

        prior_run = self.ws.prior_run
        prior = prior_run.batches.get(node.unique_id) if prior_run is not None else None
        t_setup = utc_stamp()
        self.adapter.create_schema(SchemaRef.of(relation))
        req = self._model_request(
            node,
            relation,
            "",
            full_refresh,
            incremental,
            batch_sql=batch_sql,
            on_batch=lambda event: self._report_batch(node, event),
            batches=prior.failed if prior is not None else None,
            now=prior_run.started_at if prior_run is not None else None,
        )
        started = utc_stamp()
        run = build_microbatch(self.adapter, req)
        # As in dbt, the status counts this run's batches; a retry reports the batches
        # that had succeeded before as successful again.
        successful = [b.iso() for b in run.successful]
        successful += [[s.isoformat(), e.isoformat()] for s, e in prior.successful] if prior else []
        return NodeResult(
            unique_id=node.unique_id,
            status=run.status,
            message=run.message,
            failures=0,
            compiled=False,
            relation_name=node.relation_name,
            timing=[Timing("compile", t_setup, started), Timing("execute", started, utc_stamp())],
            batch_results={"successful": successful, "failed": [b.iso() for b in run.failed]},
        )

    def _report_batch(self, node: Node, event: BatchEvent) -> None:
        """dbt's console lines for one batch (`Batch 2 of 3 OK created batch ... of ...`)."""
        what = f"batch {event.batch.label} of {node.schema}.{node.alias}"
        uid = node.unique_id
        if event.status == "run":
            line = progress_line(event.index, event.total, f"START {what}", "RUN")
            emit("LogStartBatch", Level.INFO, f"Batch {line}", unique_id=uid)
            return
        secs = f"{event.elapsed:.2f}s"
        if event.status == "error":
            if event.error is not None:
                detail = f"Unhandled error while executing {what}\n{event.error.render()}"
                emit("GenericExceptionOnRun", Level.ERROR, detail, unique_id=uid)
            text, status, level = f"ERROR creating {what}", f"ERROR in {secs}", Level.ERROR
        elif event.status == "skipped":
            text, status, level = f"SKIP {what}", f"SKIPPED in {secs}", Level.INFO
        else:
            text, status, level = f"OK created {what}", f"{event.message} in {secs}", Level.INFO
        line = progress_line(event.index, event.total, text, status)
        emit("LogBatchResult", level, f"Batch {line}", unique_id=uid, status=event.status)

    def _full_refresh(self, node: Node) -> bool:
        configured = node.config.get("full_refresh")
        if configured is not None:
            return bool(configured)
        return self.full_refresh

    # ---- seeds ------------------------------------------------------------------------------

    def _run_seed(self, node: Node) -> NodeResult:
        from kiln.materialize import BuildRequest, load_seed
        from kiln.materialize.seed_csv import read_seed

        path = self.ws.project.root / node.original_file_path
        data = read_seed(
            path,
            column_types=node.config.get("column_types") or None,
            delimiter=str(node.config.get("delimiter") or ","),
            type_names=self.adapter.seed_type_names,
        )
        relation = self._relation(node)
        self.adapter.create_schema(SchemaRef.of(relation))
        req = BuildRequest(
            node_id=node.unique_id,
            relation=relation,
            sql="",
            config=node.config,
            full_refresh=self._full_refresh(node),
            incremental=False,
            pre_hooks=tuple(self.compiler.render_hooks(node, "pre-hook")),
            post_hooks=tuple(self.compiler.render_hooks(node, "post-hook")),
        )
        response = load_seed(self.adapter, req, data)
        return NodeResult(
            node.unique_id,
            "success",
            f"INSERT {len(data.rows)}",
            adapter_response=response.to_dict(),
            relation_name=node.relation_name,
        )

    # ---- tests ------------------------------------------------------------------------------

    def _run_test(self, node: Node) -> NodeResult:
        from kiln.materialize.test import run_data_test, store_failures_as

        sql = self.compiler.compile(node)
        kind = store_failures_as(node.config, self.store_failures)
        store_in = self._relation(node).incorporate(type=kind) if kind else None
        if store_in is not None:
            self.adapter.create_schema(SchemaRef.of(store_in))
        outcome = run_data_test(self.adapter, sql, node.config, store_in=store_in)
        return NodeResult(
            node.unique_id,
            outcome.status,
            outcome.message,
            failures=outcome.failures,
            compiled_code=sql,
            adapter_response=outcome.adapter_response,
            relation_name=store_in.render() if store_in is not None else None,
        )

    # ---- unit tests -------------------------------------------------------------------------

    def _run_unit(self, uid: str, unit: UnitTest) -> NodeResult:
        """Run one unit test with the same console lines and timing as a data test."""
        index = self.numbering.get(uid, 0)
        label = _unit_label(unit)
        emit("NodeStart", Level.INFO, progress_line(index, self.total, f"START {label}", "RUN"))
        started, t0 = utc_stamp(), time.perf_counter()
        try:
            result = self._execute_unit(unit)
        except KilnError as exc:
            result = NodeResult(uid, "error", exc.render())
        result.execution_time = time.perf_counter() - t0
        result.thread_id = threading.current_thread().name
        result.timing = [Timing("execute", started, utc_stamp())]
        word = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}[result.status]
        emit(
            "LogTestResult",
            Level.INFO if result.status == "pass" else Level.ERROR,
            progress_line(
                index,
                self.total,
                f"{word} {unit.model}::{unit.name}",
                f"{word} in {result.execution_time:.2f}s",
            ),
            unique_id=uid,
            status=result.status,
        )
        return result

    def _execute_unit(self, unit: UnitTest) -> NodeResult:
        """Compile the tested model against the given rows and compare with the expected."""
        from kiln.materialize.unit_test import run_unit_test

        model = self.ws.manifest.nodes[unit.depends_on_nodes[0]]
        sql = self._compile_unit(unit, model)
        outcome = run_unit_test(self.adapter, unit, sql, self._relation(model))
        return NodeResult(
            unit.unique_id,
            outcome.status,
            outcome.message,
            failures=outcome.failures,
            compiled_code=sql,
        )

    def _compile_unit(self, unit: UnitTest, model: Node) -> str:
        from kiln.execute.compiler import inject_ctes
        from kiln.materialize.unit_test import build_fixtures, context_overrides, lookup_overrides

        fixtures = build_fixtures(self.adapter, unit, self._input_relation)
        ctes: list[tuple[str, str]] = []
        values = context_overrides(unit, fixtures, ctes, self._relation(model))
        context = self.compiler.node_context(model, extra=values)
        context.update(lookup_overrides(unit, context["var"], context["env_var"]))
        sql = self.compiler.render(model, model.raw_code, context)
        return inject_ctes(sql, ctes)

    def _input_relation(self, key: tuple[str, ...]) -> Any:
        """The existing relation a unit-test input stands for (its columns type the rows)."""
        if key[0] == "ref":
            target = self.resolver.ref_node(RefCall(key[1]), self.ws.project.name)
            if target.is_ephemeral:
                return None
            relation = self._relation(target)
        elif key[0] == "source":
            relation = self.resolver.source_relation(key[1], key[2])
        else:
            return None
        return self.adapter.get_relation(relation.database, relation.schema, relation.identifier)

    # ---- snapshots --------------------------------------------------------------------------

    def _run_snapshot(self, node: Node) -> NodeResult:
        from kiln.materialize.snapshot import build_snapshot
        from kiln.materialize.table import run_hooks

        relation = self._relation(node)
        sql = self.compiler.compile(node)
        self.adapter.create_schema(SchemaRef.of(relation))
        where = f"snapshot '{node.name}' ({node.original_file_path})"
        run_hooks(self.adapter, self.compiler.render_hooks(node, "pre-hook"))
        response = build_snapshot(self.adapter, relation, sql, node.config, where=where)
        run_hooks(self.adapter, self.compiler.render_hooks(node, "post-hook"))
        return NodeResult(
            node.unique_id,
            "success",
            response.message,
            adapter_response=response.to_dict(),
            compiled_code=sql,
            relation_name=node.relation_name,
        )

    # ---- console ----------------------------------------------------------------------------

    def _label(self, node: Node, skip: bool = False) -> str:
        if node.resource_type == "test":
            return f"test {node.name}" if not skip else f"test {node.name}"
        what = _describe(node)
        name = f"{node.schema}.{node.alias}"
        return f"relation {name}" if skip else f"{what} {name}"

    def _report(self, node: Node, result: NodeResult, index: int, label: str) -> None:
        event, level, text, status_text = self._result_line(node, result)
        emit(event, level, progress_line(index, self.total, text, status_text),
             unique_id=node.unique_id, status=result.status)  # fmt: skip

    def _result_line(self, node: Node, result: NodeResult) -> tuple[str, Level, str, str]:
        """dbt's wording for a finished node: (event name, level, message, bracket text)."""
        secs = f"{result.execution_time:.2f}s"
        status = result.status
        if node.resource_type == "test":
            word = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR"}[status]
            count = f" {result.failures}" if status in ("warn", "fail") else ""
            level = Level.ERROR if status in ("fail", "error") else Level.INFO
            return "LogTestResult", level, f"{word}{count} {node.name}", f"{word}{count} in {secs}"
        what = f"{_describe(node)} {node.schema}.{node.alias}"
        if status == "error":
            return "LogModelResult", Level.ERROR, f"ERROR creating {what}", f"ERROR in {secs}"
        if status == "partial success":
            bracket = f"{result.message} in {secs}"
            return "LogModelResult", Level.INFO, f"PARTIALLY created {what}", bracket
        verb = {"seed": "loaded", "snapshot": "snapshotted"}.get(node.resource_type, "created")
        bracket = f"{result.message or 'OK'} in {secs}"
        return "LogModelResult", Level.INFO, f"OK {verb} {what}", bracket
