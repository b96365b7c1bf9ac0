#!/usr/bin/env python3
"""Slim-CI selection benchmark: `ls --select state:modified+ --state DIR`, Kiln vs dbt-core.

    python bench/bench_state.py --models 5000 --reps 3

For one generated project (``shared/bench/genproject.py --seed 42``) each tool gets its
own copy, parses it, and keeps that ``target/`` as the prod state. Then 1% of the models
(every 100th model file in path order, spread over staging, intermediate and marts) get
a SQL comment appended (a body change for both tools), and both tools list
``state:modified+`` against their own state. Two steps are timed, alternating which
tool goes first in each repetition:

* ``ls_after_edit``: the first ``ls`` after the edits (each tool's partial-parse cache
  from the prod parse is present, so the edited files are parsed again);
* ``ls_warm``: the same ``ls`` again (caches up to date), i.e. what a re-run costs;
* ``ls_cold``: the same ``ls`` with no ``target/`` at all, as in CI on a fresh checkout
  (both tools parse every file).

Both tools must select the same unique ids (checked on the first repetition). The script
prints medians (wall clock and CPU of the child, from ``os.wait4``) and the dbt/Kiln
speed-up, and writes every sample to ``bench/results/<timestamp>-state.json``.

Standard library only (it reuses ``run_bench.py``'s measuring and project helpers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import (  # noqa: E402  (same folder, standard library only)
    DEFAULT_GENPROJECT,
    DEFAULT_RESULTS,
    DEFAULT_WORKDIR,
    Sample,
    Tool,
    dbt_tool,
    generate_project,
    kiln_tool,
    progress,
    run_measured,
    tail,
)

DBT_CANDIDATES = (Path("/tmp/kiln-bench-dbt-venv"), Path("/tmp/dbt-venv"))
EDIT_EVERY = 100  # 1% of the models
EDIT = "\n-- edited by bench_state\n"
SELECT = ["ls", "--select", "state:modified+", "--resource-type", "model"]
STEPS = ("ls_after_edit", "ls_warm", "ls_cold")


@dataclass
class ToolRun:
    """One tool's copy of the project, its saved state and its samples per step."""

    tool: Tool
    project: Path
    state: Path
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def args(self, *extra: str) -> list[str]:
        """The tool's command line for `extra`, pointed at this copy of the project."""
        return [
            *self.tool.argv,
            *extra,
            "--project-dir",
            str(self.project),
            "--profiles-dir",
            str(self.project),
        ]

    def run(self, step: str, rep: int, *extra: str, timed: bool = True) -> Sample:
        """Run one command, keeping its sample under `step` when timed; stop if it fails."""
        log = self.project.parent / f"{step}-{rep}.log"
        sample = run_measured(self.args(*extra), self.project, self.tool.env, log, None)
        if sample.exit_code != 0:
            raise SystemExit(f"{self.tool.name} {' '.join(extra)} failed:\n{tail(log)}")
        if timed:
            self.samples.setdefault(step, []).append(
                Sample(rep, sample.wall_s, sample.cpu_s, sample.max_rss_mb, 0)
            )
        return sample


def edited_models(project: Path) -> list[Path]:
    """Every EDIT_EVERY-th model file, in path order (the same files for both tools)."""
    models = sorted(project.glob("models/**/*.sql"))
    return models[::EDIT_EVERY]


def apply_edits(run: ToolRun, pristine: Path) -> int:
    """Restore the edited files from the pristine project, then edit them again."""
    files = edited_models(run.project)
    for path in files:
        text = (pristine / path.relative_to(run.project)).read_text(encoding="utf-8")
        path.write_text(text + EDIT, encoding="utf-8")
    return len(files)


def restore(run: ToolRun, pristine: Path) -> None:
    """Undo the edits (copy the files back from the pristine project)."""
    for path in edited_models(run.project):
        shutil.copy2(pristine / path.relative_to(run.project), path)


def prepare(tool: Tool, pristine: Path, work: Path) -> ToolRun:
    """The tool's copy, parsed, with its target/ saved as the prod state."""
    folder = work / tool.name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(pristine, folder / "project")
    run = ToolRun(tool, folder / "project", folder / "prod_state")
    progress(f"{tool.name}: parsing the unedited project (untimed)")
    run.run("prod_parse", 0, "parse", timed=False)
    shutil.copytree(run.project / "target", run.state)
    return run


def selected_ids(run: ToolRun) -> set[str]:
    """The unique ids `ls` selects, from its JSON output."""
    log = run.project.parent / "ids.log"
    args = [*SELECT, "--state", str(run.state), "--output", "json"]
    sample = run_measured(
        run.args(*args, "--output-keys", "unique_id"), run.project, run.tool.env, log, None
    )
    if sample.exit_code != 0:
        raise SystemExit(f"{run.tool.name} ls failed:\n{tail(log)}")
    ids = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        start = line.find("{")
        if start >= 0 and '"unique_id"' in line:
            ids.add(json.loads(line[start:])["unique_id"])
    return ids


def one_rep(runs: list[ToolRun], pristine: Path, rep: int) -> None:
    """One repetition: reset both caches to prod, edit, then time both steps for both tools."""
    order = runs if rep % 2 == 0 else list(reversed(runs))
    for run in order:
        # back to the prod cache, then the edits: the timed ls parses the edited files
        restore(run, pristine)
        run.run("reparse", rep, "parse", timed=False)
        apply_edits(run, pristine)
    for step in STEPS:
        for run in order:
            if step == "ls_cold":
                shutil.rmtree(run.project / "target", ignore_errors=True)
            sample = run.run(step, rep, *SELECT, "--state", str(run.state))
            progress(f"  rep {rep} {step:<14} {run.tool.name:<5} {sample.wall_s:6.2f}s wall")


def median(samples: list[Sample], attr: str) -> float:
    """The median of one measure over samples."""
    return float(statistics.median(getattr(s, attr) for s in samples))


def report(runs: list[ToolRun]) -> list[dict[str, object]]:
    """Print the table of medians and speed-ups (dbt time / Kiln time); return its rows."""
    kiln, dbt = runs
    rows = []
    print(f"{'step':<14} {'kiln wall':>10} {'dbt wall':>10} {'speed-up':>9} "
          f"{'kiln cpu':>9} {'dbt cpu':>9} {'speed-up':>9}")  # fmt: skip
    for step in STEPS:
        k, d = kiln.samples[step], dbt.samples[step]
        row = {
            "step": step,
            "kiln_wall_s": median(k, "wall_s"),
            "dbt_wall_s": median(d, "wall_s"),
            "kiln_cpu_s": median(k, "cpu_s"),
            "dbt_cpu_s": median(d, "cpu_s"),
        }
        row["wall_speedup"] = row["dbt_wall_s"] / row["kiln_wall_s"]  # type: ignore[operator]
        row["cpu_speedup"] = row["dbt_cpu_s"] / row["kiln_cpu_s"]  # type: ignore[operator]
        print(
            f"{step:<14} {row['kiln_wall_s']:>9.2f}s {row['dbt_wall_s']:>9.2f}s "
            f"{row['wall_speedup']:>8.1f}x {row['kiln_cpu_s']:>8.2f}s "
            f"{row['dbt_cpu_s']:>8.2f}s {row['cpu_speedup']:>8.1f}x"
        )
        rows.append(row)
    return rows


def find_dbt(given: Path | None) -> Tool:
    """dbt-core from --dbt-venv, else from the usual benchmark virtualenvs."""
    for venv in (given,) if given else DBT_CANDIDATES:
        if venv is not None and (venv / "bin" / "dbt").exists():
            return dbt_tool(venv)
    raise SystemExit(f"no dbt found in {', '.join(map(str, DBT_CANDIDATES))}; pass --dbt-venv")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=5000, help="project size (default 5000)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--dbt-venv", type=Path, help="virtualenv with dbt-core 1.11")
    parser.add_argument("--kiln-cmd", help="command that runs Kiln (default: kiln on PATH)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--genproject", type=Path, default=DEFAULT_GENPROJECT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare both tools, run the repetitions, report and save the samples."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    work = args.workdir / f"state-{args.models}"
    pristine = work / "pristine"
    generate_project(args.genproject, pristine, args.models)
    tools = (kiln_tool(args.kiln_cmd), find_dbt(args.dbt_venv))
    runs = [prepare(tool, pristine, work) for tool in tools]
    edits = 0
    for rep in range(args.reps):
        one_rep(runs, pristine, rep)
        if rep == 0:
            edits = len(edited_models(runs[0].project))
            same = selected_ids(runs[0]) == selected_ids(runs[1])
            progress(f"  {edits} models edited; both tools select the same ids: {same}")
            if not same:
                raise SystemExit("Kiln and dbt selected different nodes")
    print(f"\n{args.models} models, {edits} edited, {args.reps} reps, medians:")
    rows = report(runs)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{started:%Y%m%dT%H%M%SZ}-state.json"
    payload = {
        "models": args.models,
        "edited": edits,
        "command": [*SELECT, "--state", "<prod target/>"],
        "summary": rows,
        "samples": {
            run.tool.name: {k: [asdict(s) for s in v] for k, v in run.samples.items()}
            for run in runs
        },
    }
    out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"samples written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
