#!/usr/bin/env python3
"""Parse and run benchmark of Kiln against dbt-core, on generated DuckDB projects.

One command measures both tools in the same run, alternating which goes first,
so that both see the same machine load and the same disk cache:

    python bench/run_bench.py --models 1000 5000 --reps 3

For each project size it generates a project with ``shared/bench/genproject.py``
(``--seed 42``), gives each tool its own copy, and times every step of
``STEPS`` (wall clock, CPU and peak RSS of the child, from ``os.wait4``).
It prints a table of medians and Kiln/dbt ratios and writes the samples to
``bench/results/<timestamp>-parse-run.json``.

A new benchmark is one ``Step`` line in ``STEPS``: a name, a builder of the
command's arguments and a setup function that puts the project into the state
the step starts from (setups run untimed).

Standard library only; Python 3.11+, Linux or macOS (``os.wait4``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_GENPROJECT = REPO_DIR.parent / "shared" / "bench" / "genproject.py"
DEFAULT_DBT_VENV = Path("/tmp/kiln-bench-dbt-venv")
DEFAULT_WORKDIR = BENCH_DIR / "work"  # git-ignored
DEFAULT_RESULTS = BENCH_DIR / "results"

DBT_PINS = {"dbt-core": "1.11.16", "dbt-duckdb": "1.11.1"}
GENPROJECT_SEED = 42
SMOKE_MODELS = 200
LOG_TAIL_LINES = 25

# Children must not phone home: a tracking call would add network latency to
# the timings, and a benchmark machine may have no network at all.
QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DBT_VERSION_CHECK": "False",
}


class BenchError(Exception):
    """The environment is unusable (no dbt, no Kiln, no generator): the benchmark stops."""


class SetupError(Exception):
    """A step's untimed setup command failed: that sample fails, the benchmark goes on."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------
# Tools and steps
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A command line under test: ``argv`` is the prefix before the subcommand."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class StepContext:
    """What a step's argv builder and setup may use for one tool and project size."""

    tool: Tool
    project: Path  # this tool's own copy of the project: both tools write target/
    pristine: Path  # the generated project, never run in; edits are undone from it
    scratch: Path  # per-tool folder for saved state and logs
    timeout: float | None

    def common_args(self) -> list[str]:
        """Flags every command gets, so no tool reads ~/.dbt or the caller's cwd."""
        return ["--project-dir", str(self.project), "--profiles-dir", str(self.project)]

    def invoke(self, args: Sequence[str]) -> None:
        """Runs the tool untimed (for setups); raises SetupError if it fails."""
        log = self.scratch / "setup.log"
        sample = run_measured(
            [*self.tool.argv, *args, *self.common_args()],
            self.project,
            self.tool.env,
            log,
            self.timeout,
        )
        if sample.exit_code != 0:
            raise SetupError(
                f"setup command failed: {shlex.join(args)} (exit {sample.exit_code})\n{tail(log)}",
                sample.exit_code,
            )


ArgvBuilder = Callable[[StepContext], list[str]]
Setup = Callable[[StepContext], None]


@dataclass(frozen=True)
class Step:
    """One timed command: ``setup`` prepares the project, ``argv`` is what is timed."""

    name: str
    description: str
    argv: ArgvBuilder
    setup: Setup


def clear_target(ctx: StepContext) -> None:
    """No target/ at all: nothing cached, nothing to compare with."""
    shutil.rmtree(ctx.project / "target", ignore_errors=True)


def prime_parse_cache(ctx: StepContext) -> None:
    """Parses once so the timed command finds an up-to-date partial-parse cache.

    A tool may skip writing its cache under --no-partial-parse, so the cold
    step's leftovers are not relied on; after a cold parse this one is warm.
    """
    ctx.invoke(["parse"])


def fresh_seeded_database(ctx: StepContext) -> None:
    """Deletes every DuckDB file of the project, then loads the seeds again."""
    for path in ctx.project.glob("*.duckdb*"):  # the databases and their .wal files
        path.unlink()
    ctx.invoke(["seed"])


def one_model(ctx: StepContext) -> Path:
    """A model in the middle of the DAG: it has parents and children."""
    return sorted((ctx.project / "models" / "intermediate").glob("*.sql"))[0]


def one_macro(ctx: StepContext) -> Path:
    """The macro that the most models call (through adapter.dispatch)."""
    return ctx.project / "macros" / "cents_to_dollars.sql"


def restore(ctx: StepContext, path: Path) -> None:
    """Undoes an earlier rep's edit by copying the file back from the pristine project."""
    shutil.copy2(ctx.pristine / path.relative_to(ctx.project), path)


def append_comment(path: Path, comment: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{comment}\n")


def edited(pick: Callable[[StepContext], Path], comment: str) -> Setup:
    """Setup: restore the picked file, warm the cache, then change the file's checksum."""

    def setup(ctx: StepContext) -> None:
        path = pick(ctx)
        restore(ctx, path)
        prime_parse_cache(ctx)
        append_comment(path, comment)

    return setup


def state_dir(ctx: StepContext) -> Path:
    return ctx.scratch / "state"


def save_state_then_edit_model(ctx: StepContext) -> None:
    """Saves target/ of the unedited project as --state, then edits one model."""
    path = one_model(ctx)
    restore(ctx, path)
    prime_parse_cache(ctx)
    shutil.rmtree(state_dir(ctx), ignore_errors=True)
    shutil.copytree(ctx.project / "target", state_dir(ctx))
    append_comment(path, "-- edited by the benchmark")


STEPS: tuple[Step, ...] = (
    Step("parse_cold", "parse, no target/, --no-partial-parse",
         lambda c: ["parse", "--no-partial-parse"], clear_target),
    Step("parse_warm", "parse again with the partial-parse cache",
         lambda c: ["parse"], prime_parse_cache),
    Step("run", "run every model on a fresh seeded database",
         lambda c: ["run"], fresh_seeded_database),
    # Not in the default set: pick them with --steps.
    Step("ls_select", "ls with a tag selector and graph operator",
         lambda c: ["ls", "--select", "tag:finance+", "--resource-type", "model"],
         prime_parse_cache),
    Step("compile", "compile every node",
         lambda c: ["compile"], prime_parse_cache),
    Step("state_modified", "ls state:modified+ after editing one model",
         lambda c: ["ls", "--select", "state:modified+", "--state", str(state_dir(c))],
         save_state_then_edit_model),
    Step("edit_one_model", "parse after editing one model",
         lambda c: ["parse"], edited(one_model, "-- edited by the benchmark")),
    Step("edit_one_macro", "parse after editing a widely used macro",
         lambda c: ["parse"], edited(one_macro, "{# edited by the benchmark #}")),
)  # fmt: skip
DEFAULT_STEPS = ("parse_cold", "parse_warm", "run")
STEPS_BY_NAME = {step.name: step for step in STEPS}


# --------------------------------------------------------------------------
# Measuring one command
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed command. ``max_rss_mb`` is the child's peak resident set size."""

    rep: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    exit_code: int
    timed_out: bool = False
    failed_in_setup: bool = False


def rss_mb(ru_maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux but in bytes on macOS."""
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def start_child(
    argv: Sequence[str], cwd: Path, env: dict[str, str], log: BinaryIO
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise BenchError(f"cannot start {argv[0]!r}: {exc}") from exc


def run_measured(
    argv: Sequence[str], cwd: Path, env: dict[str, str], log: Path, timeout: float | None
) -> Sample:
    """Runs argv to completion, output to ``log``; rusage comes from wait4 on that child alone."""
    log.parent.mkdir(parents=True, exist_ok=True)
    killed = threading.Event()
    with log.open("wb") as handle:
        start = time.perf_counter()
        proc = start_child(argv, cwd, env, handle)

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout or 0, kill)
        if timeout:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    # Tell Popen the child is reaped, or it would try to wait for it again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(
        rep=0,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=rss_mb(usage.ru_maxrss),
        exit_code=proc.returncode,
        timed_out=killed.is_set(),
    )


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


# --------------------------------------------------------------------------
# Environment: the dbt virtualenv, Kiln's command line, projects
# --------------------------------------------------------------------------

VERSIONS_SCRIPT = (
    "import importlib.metadata as m, json, sys\n"
    "def v(n):\n"
    "    try:\n"
    "        return m.version(n)\n"
    "    except m.PackageNotFoundError:\n"
    "        return None\n"
    "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n"
)


def installed_versions(python: Path) -> dict[str, str | None]:
    """Reads package metadata: `dbt --version` would ask the network for the latest one."""
    out = subprocess.run(
        [str(python), "-c", VERSIONS_SCRIPT, *DBT_PINS],
        check=True,
        capture_output=True,
        text=True,
    )
    versions: dict[str, str | None] = json.loads(out.stdout)
    return versions


def ensure_dbt_venv(venv: Path) -> dict[str, str | None]:
    """Creates the virtualenv if missing and installs the pinned dbt-core and dbt-duckdb."""
    python = venv / "bin" / "python"
    if not python.exists():
        progress(f"creating virtualenv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    versions = installed_versions(python)
    if versions != DBT_PINS:
        pins = [f"{name}=={version}" for name, version in DBT_PINS.items()]
        progress(f"installing {' '.join(pins)} into {venv}")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], check=True)
        versions = installed_versions(python)
    if versions != DBT_PINS:
        raise BenchError(f"{venv} has {versions}, expected {DBT_PINS}")
    return versions


def child_env(extra_pythonpath: Path | None = None) -> dict[str, str]:
    env = {**os.environ, **QUIET_ENV}
    if extra_pythonpath is not None:
        parts = [str(extra_pythonpath), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    return env


def kiln_tool(kiln_cmd: str | None) -> Tool:
    """`--kiln-cmd`, else `kiln` on PATH, else this checkout's sources with this Python."""
    if kiln_cmd:
        return Tool("kiln", tuple(shlex.split(kiln_cmd)), child_env())
    if shutil.which("kiln"):
        return Tool("kiln", ("kiln",), child_env())
    return Tool("kiln", (sys.executable, "-m", "kiln"), child_env(REPO_DIR / "src"))


def precompile_kiln(tool: Tool) -> None:
    """Byte-compile Kiln's modules, as installing a wheel does.

    An editable checkout run with PYTHONDONTWRITEBYTECODE set (as on some CI machines)
    would otherwise compile every module on every run, which no installed tool pays;
    dbt-core's virtualenv is compiled by pip at install time.
    """
    python = tool.argv[0]
    if tool.argv[1:2] != ("-m",):
        script = shutil.which(python)
        first = Path(script).read_text(errors="replace").splitlines()[0] if script else ""
        python = first[2:].strip() if first.startswith("#!") else sys.executable
    code = (
        "import compileall, os, kiln\n"
        "compileall.compile_dir(os.path.dirname(kiln.__file__), quiet=1)"
    )
    subprocess.run([python, "-c", code], env=tool.env, check=True)


def dbt_tool(venv: Path) -> Tool:
    return Tool("dbt", (str(venv / "bin" / "dbt"),), child_env())


def generate_project(genproject: Path, out: Path, n_models: int) -> None:
    progress(f"generating a {n_models}-model project in {out}")
    subprocess.run(
        [
            sys.executable,
            str(genproject),
            str(out),
            "--models",
            str(n_models),
            "--seed",
            str(GENPROJECT_SEED),
            "--force",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def tool_copy(pristine: Path, size_dir: Path, tool: Tool) -> Path:
    """Each tool runs in its own copy, so neither reads the other's target/ or database."""
    copy = size_dir / tool.name / "project"
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(pristine, copy)
    return copy


# --------------------------------------------------------------------------
# The benchmark loop
# --------------------------------------------------------------------------


@dataclass
class Series:
    """All samples of one (size, step, tool)."""

    models: int
    step: str
    tool: str
    samples: list[Sample] = field(default_factory=list)

    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.exit_code == 0]

    def median(self, attr: str) -> float | None:
        values = [getattr(s, attr) for s in self.ok()]
        return statistics.median(values) if values else None

    def to_json(self) -> dict[str, object]:
        return {
            "models": self.models,
            "step": self.step,
            "tool": self.tool,
            "median_wall_s": self.median("wall_s"),
            "median_cpu_s": self.median("cpu_s"),
            "median_max_rss_mb": self.median("max_rss_mb"),
            "failures": len(self.samples) - len(self.ok()),
            "samples": [asdict(s) for s in self.samples],
        }


@dataclass(frozen=True)
class Settings:
    sizes: tuple[int, ...]
    reps: int
    steps: tuple[Step, ...]
    tools: tuple[Tool, ...]
    workdir: Path
    genproject: Path
    timeout: float | None


def rep_order(tools: tuple[Tool, ...], rep: int, step_index: int) -> tuple[Tool, ...]:
    """Alternates who goes first, so neither tool always gets the warmer disk cache."""
    return tools if (rep + step_index) % 2 == 0 else tuple(reversed(tools))


def measure_step(step: Step, ctx: StepContext, rep: int) -> Sample:
    """Runs the step's setup untimed, then times its command; failures become samples."""
    try:
        step.setup(ctx)
    except SetupError as exc:
        progress(f"  FAILED in setup of {step.name} for {ctx.tool.name}: {exc}")
        return Sample(rep, 0.0, 0.0, 0.0, exc.exit_code, failed_in_setup=True)
    log = ctx.scratch / f"{step.name}-rep{rep}.log"
    argv = [*ctx.tool.argv, *step.argv(ctx), *ctx.common_args()]
    sample = run_measured(argv, ctx.project, ctx.tool.env, log, ctx.timeout)
    sample = replace(sample, rep=rep)
    if sample.exit_code != 0:
        why = "timed out" if sample.timed_out else f"exit {sample.exit_code}"
        progress(f"  FAILED ({why}): {shlex.join(argv)}\n{tail(log)}")
    return sample


def warm_up(ctx: StepContext) -> None:
    """Runs one untimed parse per tool before the first timed command.

    Without it the first timed command would also pay for reading the tool's
    own code and the project files into the OS page cache.
    """
    try:
        ctx.invoke(["parse"])
    except SetupError as exc:
        progress(f"  warm-up failed for {ctx.tool.name}: {exc}")


def describe(sample: Sample, step: Step, tool: Tool) -> str:
    figures = f"{sample.wall_s:8.2f} s {sample.max_rss_mb:8.0f} MB"
    return f"{step.name:<15} {tool.name:<4} {figures if sample.exit_code == 0 else 'FAILED'}"


def tool_contexts(settings: Settings, n_models: int) -> dict[str, StepContext]:
    """Generates the project once, then gives each tool its own copy and log folder."""
    size_dir = settings.workdir / str(n_models)
    pristine = size_dir / "pristine"
    generate_project(settings.genproject, pristine, n_models)
    return {
        tool.name: StepContext(
            tool=tool,
            project=tool_copy(pristine, size_dir, tool),
            pristine=pristine,
            scratch=size_dir / tool.name / "logs",
            timeout=settings.timeout,
        )
        for tool in settings.tools
    }


def bench_size(settings: Settings, n_models: int) -> list[Series]:
    """Times every step for every tool, ``settings.reps`` times, alternating the tools."""
    contexts = tool_contexts(settings, n_models)
    series = {
        (step.name, tool.name): Series(n_models, step.name, tool.name)
        for step in settings.steps
        for tool in settings.tools
    }
    for ctx in contexts.values():
        warm_up(ctx)
    for rep in range(1, settings.reps + 1):
        for index, step in enumerate(settings.steps):
            for tool in rep_order(settings.tools, rep, index):
                sample = measure_step(step, contexts[tool.name], rep)
                series[step.name, tool.name].samples.append(sample)
                progress(
                    f"[{n_models} models] rep {rep}/{settings.reps} " + describe(sample, step, tool)
                )
    return list(series.values())


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def ratio(kiln: float | None, dbt: float | None) -> float | None:
    return kiln / dbt if kiln is not None and dbt else None


@dataclass(frozen=True)
class Comparison:
    """Medians of both tools for one (size, step); ratios below 1 favour Kiln."""

    models: int
    step: str
    kiln_s: float | None
    dbt_s: float | None
    kiln_mb: float | None
    dbt_mb: float | None
    note: str  # failed samples, e.g. "kiln failed 1/3"; left out of the medians

    @property
    def wall_ratio(self) -> float | None:
        return ratio(self.kiln_s, self.dbt_s)

    @property
    def rss_ratio(self) -> float | None:
        return ratio(self.kiln_mb, self.dbt_mb)

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "wall_ratio": self.wall_ratio, "rss_ratio": self.rss_ratio}


def median_of(series: Series | None, attr: str) -> float | None:
    return series.median(attr) if series else None


def failure_note(*series: Series | None) -> str:
    notes = []
    for one in series:
        if one and len(one.ok()) < len(one.samples):
            notes.append(f"{one.tool} failed {len(one.samples) - len(one.ok())}/{len(one.samples)}")
    return ", ".join(notes)


def comparisons(all_series: list[Series]) -> list[Comparison]:
    by_key = {(s.models, s.step, s.tool): s for s in all_series}
    rows = []
    for models, step in dict.fromkeys((s.models, s.step) for s in all_series):
        kiln, dbt = by_key.get((models, step, "kiln")), by_key.get((models, step, "dbt"))
        rows.append(
            Comparison(
                models=models,
                step=step,
                kiln_s=median_of(kiln, "wall_s"),
                dbt_s=median_of(dbt, "wall_s"),
                kiln_mb=median_of(kiln, "max_rss_mb"),
                dbt_mb=median_of(dbt, "max_rss_mb"),
                note=failure_note(kiln, dbt),
            )
        )
    return rows


def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_table(rows: list[Comparison]) -> str:
    header = (
        f"{'models':>7}  {'step':<15} {'kiln s':>9} {'dbt s':>9} {'kiln/dbt':>9}"
        f" {'kiln MB':>9} {'dbt MB':>9} {'kiln/dbt':>9}  note"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.models:>7}  {r.step:<15} {fmt(r.kiln_s, '.2f'):>9} {fmt(r.dbt_s, '.2f'):>9}"
            f" {fmt(r.wall_ratio, '.2f'):>9} {fmt(r.kiln_mb, '.0f'):>9}"
            f" {fmt(r.dbt_mb, '.0f'):>9} {fmt(r.rss_ratio, '.2f'):>9}  {r.note}".rstrip()
        )
    return "\n".join(lines)


def kiln_commit() -> str | None:
    """The checkout's commit, to tie figures to code (read-only git call)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def environment(
    settings: Settings, dbt_versions: dict[str, str | None] | None
) -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "tools": {tool.name: list(tool.argv) for tool in settings.tools},
        "dbt_versions": dbt_versions,
        "kiln_commit": kiln_commit(),
    }


def write_results(
    results_dir: Path, started: datetime, payload: dict[str, object], kind: str = "parse-run"
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{started:%Y%m%dT%H%M%SZ}-{kind}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def progress(message: str) -> None:
    """Progress goes to stderr so stdout holds only the result table."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models",
        type=int,
        nargs="+",
        default=[1000],
        metavar="N",
        help="project sizes, e.g. --models 1000 5000 10000 (default 1000)",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per step (default 3)")
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=list(STEPS_BY_NAME),
        metavar="STEP",
        help=f"steps to time (default {' '.join(DEFAULT_STEPS)}; all: {' '.join(STEPS_BY_NAME)})",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"CI check: {SMOKE_MODELS} models, 1 rep, Kiln only unless --with-dbt",
    )
    parser.add_argument("--with-dbt", action="store_true", help="with --smoke: time dbt too")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="kill a command after this many seconds (default: none; 300 with --smoke)",
    )


def add_tool_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kiln-cmd",
        help="command that runs Kiln, e.g. 'python -m kiln' "
        "(default: kiln on PATH, else this checkout's src/ with this Python)",
    )
    parser.add_argument(
        "--dbt-venv",
        type=Path,
        default=DEFAULT_DBT_VENV,
        help=f"virtualenv with dbt-core and dbt-duckdb, created if missing "
        f"(default {DEFAULT_DBT_VENV})",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--dbt-only", action="store_true", help="time dbt-core alone")
    only.add_argument("--kiln-only", action="store_true", help="time Kiln alone")


def add_path_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"where projects are generated (default {DEFAULT_WORKDIR})",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"where the JSON goes (default {DEFAULT_RESULTS})",
    )
    parser.add_argument(
        "--genproject",
        type=Path,
        default=DEFAULT_GENPROJECT,
        help=f"project generator (default {DEFAULT_GENPROJECT})",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time Kiln against dbt-core on generated DuckDB projects "
        "(parse cold/warm and run; medians and Kiln/dbt ratios).",
    )
    add_workload_args(parser)
    add_tool_args(parser)
    add_path_args(parser)
    args = parser.parse_args(argv)
    if args.with_dbt and not args.smoke:
        parser.error("--with-dbt only applies to --smoke")
    if args.reps < 1 or min(args.models) < 3:
        parser.error("--reps must be at least 1 and --models at least 3")
    return args


def build_settings(args: argparse.Namespace) -> tuple[Settings, dict[str, str | None] | None]:
    """Turns flags into Settings; ensures the dbt virtualenv when dbt is timed."""
    sizes, reps, timeout = tuple(args.models), args.reps, args.timeout
    use_kiln, use_dbt = not args.dbt_only, not args.kiln_only
    if args.smoke:
        sizes, reps = (SMOKE_MODELS,), 1
        timeout = timeout or 300.0
        use_dbt = args.with_dbt and not args.kiln_only
    dbt_versions = ensure_dbt_venv(args.dbt_venv) if use_dbt else None
    tools = ((kiln_tool(args.kiln_cmd),) if use_kiln else ()) + (
        (dbt_tool(args.dbt_venv),) if use_dbt else ()
    )
    if not tools:
        raise BenchError("no tool to time")
    for tool in tools:
        if not shutil.which(tool.argv[0]):
            raise BenchError(f"{tool.name}: command not found: {tool.argv[0]!r} (see --kiln-cmd)")
    for tool in tools:
        if tool.name == "kiln":
            precompile_kiln(tool)
    if not args.genproject.is_file():
        raise BenchError(f"project generator not found: {args.genproject} (see --genproject)")
    step_names = args.steps or DEFAULT_STEPS
    settings = Settings(
        sizes=sizes,
        reps=reps,
        steps=tuple(STEPS_BY_NAME[name] for name in step_names),
        tools=tools,
        workdir=args.workdir.resolve(),
        genproject=args.genproject.resolve(),
        timeout=timeout,
    )
    return settings, dbt_versions


def _payload(
    args: argparse.Namespace,
    started: datetime,
    settings: Settings,
    dbt_versions: dict[str, str | None] | None,
    all_series: list[Series],
) -> dict[str, object]:
    return {
        "benchmark": "parse-run",
        "started_at": started.isoformat(),
        "settings": {
            "models": list(settings.sizes),
            "reps": settings.reps,
            "steps": [step.name for step in settings.steps],
            "genproject_seed": GENPROJECT_SEED,
            "smoke": args.smoke,
        },
        "environment": environment(settings, dbt_versions),
        "summary": [row.to_json() for row in comparisons(all_series)],
        "series": [s.to_json() for s in all_series],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    all_series: list[Series] = []
    try:
        settings, dbt_versions = build_settings(args)
        for size in settings.sizes:
            all_series += bench_size(settings, size)
            # Written after each size, so a long run stopped midway keeps what finished.
            path = write_results(
                args.results_dir,
                started,
                _payload(args, started, settings, dbt_versions, all_series),
            )
    except (BenchError, subprocess.CalledProcessError) as exc:
        progress(f"error: {exc}")
        return 2
    print(render_table(comparisons(all_series)))
    progress(f"results written to {path}")
    failed = sum(len(s.samples) - len(s.ok()) for s in all_series)
    if failed:
        progress(f"{failed} command(s) failed; their samples are left out of the medians")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
