"""`state:`, `result:` and `source_status:` over a prior state: the `PriorState` hook.

`StateSelector.select` is what `kiln.select` calls for those three methods. Results are
kept per value, so `state:modified state:modified+` compares the manifests once, and the
facts of each node are extracted once whichever sub-selectors ask for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.events.bus import Level, emit
from kiln.manifest.nodes import Manifest
from kiln.select.errors import MethodError, unknown_choice
from kiln.state.compare import (
    MODIFIED_CHECKS,
    CompareContext,
    breaking_changes,
    explain_changes,
)
from kiln.state.facts import Facts, digest, from_artifact, from_record
from kiln.state.macros import MacroChanges, changed_macros
from kiln.state.prior import PriorArtifacts, StateError
from kiln.state.sidecar import Fingerprints, VarLookup, node_fingerprints, source_locations

if TYPE_CHECKING:
    from kiln.select.context import SelectionContext

# every status dbt writes to run_results.json
RESULT_STATUSES = (
    "success",
    "error",
    "fail",
    "warn",
    "skipped",
    "pass",
    "runtime error",
    "no-op",
    "partial success",
)
SOURCE_STATUSES = ("fresher",)


@dataclass(frozen=True)
class CurrentProject:
    """The current side of the comparison.

    Attributes:
        manifest: the manifest just parsed.
        root: the project folder (source yml files are read from it).
        var_lookup: how vars resolve now.
        target_dir: the target folder (for the current sources.json).
        include_vars: `state:modified` counts var changes (project opt-in).
    """

    manifest: Manifest
    root: Path
    var_lookup: VarLookup
    target_dir: Path
    include_vars: bool = False


class StateSelector:
    """The prior state of one invocation, answering the selection methods that need it."""

    def __init__(self, prior: PriorArtifacts, current: CurrentProject) -> None:
        self.prior = prior
        self.current = current
        self._answers: dict[tuple[str, str], frozenset[str]] = {}
        self._old: dict[str, Facts | None] = {}
        self._new: dict[str, Facts] = {}

    # ---- the PriorState protocol ------------------------------------------------------------

    def select(self, method: str, value: str, ctx: SelectionContext) -> Iterable[str]:
        """The current unique ids matching `method:value` (see `PriorState`)."""
        key = (method, value)
        if key not in self._answers:
            if method == "state":
                found = self._state(value, ctx.index.members)
            elif method == "result":
                found = self._result(value)
            elif method == "source_status":
                found = self._source_status(value)
            else:
                raise MethodError(unknown_choice("prior-state method", method, ["state"]))
            self._answers[key] = frozenset(found)
        return self._answers[key]

    def _state(self, value: str, members: Mapping[str, Any]) -> set[str]:
        check = MODIFIED_CHECKS.get(value)
        if check is None:
            raise MethodError(unknown_choice("state selector", value, MODIFIED_CHECKS))
        if value in ("modified.vars", "modified.env_vars"):
            self._warn_without_sidecar(value)
        ctx = self.compare_context
        found = {uid for uid, record in members.items() if check(*self.facts(uid, record), ctx)}
        if value in ("modified", "modified.contract"):
            self._warn_breaking_contracts(found)
        return found

    def changes(self, uid: str, record: Any) -> list[str]:
        """What differs for `uid` from the prior state, in words (for `ls --explain`)."""
        return explain_changes(*self.facts(uid, record), self.compare_context)

    # ---- facts of both sides ----------------------------------------------------------------

    def facts(self, uid: str, record: Any) -> tuple[Facts | None, Facts]:
        """(prior, current) facts of a current record; prior is None for a new node."""
        new = self.new(uid, record)
        return self.old(uid, new), new

    def old(self, uid: str, new: Facts | None = None) -> Facts | None:
        """The prior node's facts, None when it did not exist.

        When kiln_state.json records the same digest as `new` has, the prior facts are
        `new`'s, and the prior record is not even decoded.
        """
        if uid not in self._old:
            if new is not None and self._same_digest(uid, new):
                self._old[uid] = new
                return new
            data = self._prior_record(uid)
            location = self._prior_source_location(uid, data) if data is not None else None
            self._old[uid] = None if data is None else from_artifact(data, location)
        return self._old[uid]

    def _same_digest(self, uid: str, new: Facts) -> bool:
        sidecar = self.prior.sidecar
        known = sidecar.digests.get(uid) if sidecar is not None else None
        return known is not None and known == digest(new)

    def new(self, uid: str, record: Any) -> Facts:
        """The current node's facts."""
        found = self._new.get(uid)
        if found is None:
            location = None
            if getattr(record, "resource_type", None) == "source":
                location = self._current_source_location(uid)
            found = self._new[uid] = from_record(record, location)
        return found

    def _prior_record(self, uid: str) -> Mapping[str, Any] | None:
        return self.prior.manifest.record(uid)

    def _prior_source_location(self, uid: str, data: Mapping[str, Any]) -> tuple[Any, Any] | None:
        """A prior source's (database, schema) as written, when the state knows it.

        Kiln keeps it in kiln_state.json; dbt 1.9+ in `unrendered_database/_schema`.
        None means only the rendered ones are known, and both sides compare those.
        """
        if data.get("resource_type") != "source":
            return None
        if self.prior.written_by_kiln:
            sidecar = self.prior.sidecar
            return sidecar.sources.get(uid) if sidecar is not None else None
        if "unrendered_schema" in data:
            return (data.get("unrendered_database"), data.get("unrendered_schema"))
        return None

    def _current_source_location(self, uid: str) -> tuple[Any, Any] | None:
        data = self._prior_record(uid)
        if data is None or self._prior_source_location(uid, data) is None:
            return None  # compare rendered values on both sides
        return self._source_locations.get(uid)

    @cached_property
    def _source_locations(self) -> dict[str, tuple[Any, Any]]:
        return source_locations(self.current.manifest, self.current.root)

    # ---- what the checks consult --------------------------------------------------------------

    @cached_property
    def compare_context(self) -> CompareContext:
        """Macro and var changes, computed once for every check."""
        macros = self._macro_changes
        return CompareContext(
            macros_reached=lambda facts: macros.reached(facts.macros),
            vars_changed=self._vars_changed,
            env_vars_changed=self._env_vars_changed,
            include_vars=self.current.include_vars,
        )

    def _vars_changed(self, uid: str) -> tuple[str, ...]:
        sidecar = self.prior.sidecar
        return _changed(sidecar.vars, self._fingerprints[0], uid) if sidecar else ()

    def _env_vars_changed(self, uid: str) -> tuple[str, ...]:
        sidecar = self.prior.sidecar
        return _changed(sidecar.env_vars, self._fingerprints[1], uid) if sidecar else ()

    @cached_property
    def _macro_changes(self) -> MacroChanges:
        current = self.current.manifest.macros
        prior = self.prior.manifest.macros
        if self.prior.written_by_kiln:
            return MacroChanges(changed_macros(current, prior), current)
        from kiln.jinja.environment import rewrite_dbt_tags

        # dbt-core's own macros are not Kiln's: comparing them would flag every node
        adapter = self.prior.adapter_type or self.current.manifest.adapter_type
        ignored = ("dbt", f"dbt_{adapter}")
        return MacroChanges(changed_macros(current, prior, ignored, rewrite_dbt_tags), current)

    @cached_property
    def _fingerprints(self) -> tuple[Fingerprints, Fingerprints]:
        return node_fingerprints(self.current.manifest, self.current.var_lookup)

    def _warn_breaking_contracts(self, ids: Iterable[str]) -> None:
        """dbt's warning for a breaking change to an enforced model contract."""
        for uid in sorted(ids):
            old, new = self._old.get(uid), self._new.get(uid)
            if old is None or new is None or new.kind != "model":
                continue
            problems = breaking_changes(old, new)
            if problems:
                emit(
                    "UnversionedBreakingChange" if not new.contract.versioned else "BreakingChange",
                    Level.WARN,
                    f"Breaking change to the contract of {uid}: {'; '.join(problems)}",
                )

    def _warn_without_sidecar(self, value: str) -> None:
        if self.prior.sidecar is None:
            emit(
                "StateWithoutKilnState",
                Level.WARN,
                f"state:{value}: {self.prior.folder} has no kiln_state.json (it is written "
                "by Kiln's parse, run and build), so var changes cannot be detected",
            )

    # ---- result: and source_status: -------------------------------------------------------------

    def _result(self, value: str) -> set[str]:
        if value not in RESULT_STATUSES:
            raise MethodError(unknown_choice("result status", value, RESULT_STATUSES))
        try:
            results = self.prior.run_results().get("results") or []
        except StateError as exc:
            raise MethodError(f"{exc.message} ({exc.hint})") from None
        return {str(r["unique_id"]) for r in results if r.get("status") == value}

    def _source_status(self, value: str) -> set[str]:
        if value not in SOURCE_STATUSES:
            raise MethodError(unknown_choice("source_status value", value, SOURCE_STATUSES))
        current_path = self.current.target_dir / "sources.json"
        try:
            before = self.prior.sources()
        except StateError as exc:
            raise MethodError(f"{exc.message} ({exc.hint})") from None
        if not current_path.is_file():
            raise MethodError(
                f"source_status: compares with the current {current_path}, which does not "
                "exist (run `kiln source freshness` first)"
            )
        from kiln.artifacts import read_sources

        return fresher_sources(before, read_sources(current_path))


def _changed(prior: Fingerprints, current: Fingerprints, uid: str) -> tuple[str, ...]:
    """Names read on both sides whose value fingerprints differ (a new name is a code change)."""
    before, after = prior.get(uid) or {}, current.get(uid) or {}
    return tuple(sorted(name for name in after if name in before and before[name] != after[name]))


def fresher_sources(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """Sources loaded more recently now than in the prior sources.json, or new there.

    A source whose freshness check failed to run (no `max_loaded_at`) on either side is
    left out, since nothing is known about it.

    Example:
        >>> old = {"results": [{"unique_id": "s", "max_loaded_at": "2024-01-01T00:00:00Z"}]}
        >>> new = {"results": [{"unique_id": "s", "max_loaded_at": "2024-01-02T00:00:00Z"}]}
        >>> sorted(fresher_sources(old, new))
        ['s']
    """
    loaded_before, failed_before = _loaded_at(before)
    loaded_now, failed_now = _loaded_at(after)
    return {
        uid
        for uid, loaded in loaded_now.items()
        if (uid not in loaded_before or loaded > loaded_before[uid])
        and uid not in failed_before | failed_now
    }


def _loaded_at(document: Mapping[str, Any]) -> tuple[dict[str, datetime], set[str]]:
    loaded: dict[str, datetime] = {}
    failed: set[str] = set()
    for result in document.get("results") or []:
        uid, stamp = str(result.get("unique_id")), result.get("max_loaded_at")
        if not stamp:
            failed.add(uid)
            continue
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        # dbt writes UTC; a naive stamp is read as UTC too
        loaded[uid] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return loaded, failed
