"""The whole-CLI test idiom: temp projects, in-process `kiln`, DuckDB queries."""

from __future__ import annotations

import json
import os
import textwrap
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

PROJECT_NAME = "e2e"

DEFAULT_PROJECT_YML = f"""\
name: {PROJECT_NAME}
version: "1.0.0"
config-version: 2
profile: {PROJECT_NAME}
"""

SCHEMAS_DIR = Path(__file__).parent / "fixtures" / "schemas"


def default_profiles_yml(db_path: Path, *, schema: str = "main", threads: int = 4) -> str:
    """A DuckDB profile named like the default project, writing to `db_path`."""
    return textwrap.dedent(
        f"""\
        {PROJECT_NAME}:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{db_path.as_posix()}"
              schema: {schema}
              threads: {threads}
        """
    )


@dataclass
class KilnResult:
    """What one in-process `kiln` invocation produced."""

    exit_code: int
    output: str
    stdout: str
    stderr: str
    exception: BaseException | None

    def __repr__(self) -> str:  # shown by pytest on failure: make the output readable
        return f"KilnResult(exit_code={self.exit_code}, output=\n{self.output}\n)"


def run_kiln(args: Sequence[str], cwd: Path | str | None = None) -> KilnResult:
    """Invoke the click app in-process (from `cwd`) and return exit code and output.

    An exception escaping the CLI (for instance with `--debug`) is rendered as Python would
    print it, with exit code 1, so assertions on "Traceback" see what a user would see.
    """
    from kiln.cli.main import cli

    old_cwd = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="kiln", catch_exceptions=True)
    finally:
        os.chdir(old_cwd)
    output, stderr, exit_code = result.output, result.stderr, result.exit_code
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit) and result.exc_info is not None:
        rendered = "".join(traceback.format_exception(*result.exc_info))
        output += rendered
        stderr += rendered
        exit_code = 1
    return KilnResult(exit_code, output, result.stdout, stderr, exc)


def query_db(db_path: Path | str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` against the DuckDB file (opened read-only, then closed)."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


ArtifactCheck = Callable[[str, dict[str, Any]], None]
ARTIFACTS = ("manifest.json", "run_results.json")


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


@dataclass
class Project:
    """A project written into a temp dir, with helpers bound to it."""

    root: Path
    db_path: Path
    artifact_check: ArtifactCheck | None = None

    def write(self, files: Mapping[str, str]) -> None:
        """Write (or overwrite) files, relative to the project root, dedented."""
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content), encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def run(self, *args: str) -> KilnResult:
        """`kiln <args>` from the project root; artifacts it (re)wrote go to `artifact_check`."""
        target = self.root / "target"
        before = {name: _mtime(target / name) for name in ARTIFACTS}
        result = run_kiln(list(args), cwd=self.root)
        if self.artifact_check is not None:
            for name in ARTIFACTS:
                written = _mtime(target / name)
                if written is not None and written != before[name]:
                    self.artifact_check(name, self.artifact(name))
        return result

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return query_db(self.db_path, sql)

    def relations(self, schema: str = "main") -> dict[str, str]:
        """Relation name -> 'BASE TABLE' / 'VIEW' in `schema` ({} if there is no database)."""
        if not self.db_path.exists():
            return {}
        rows = self.query(
            "select table_name, table_type from information_schema.tables "
            f"where table_schema = '{schema}'"
        )
        return dict(rows)  # type: ignore[arg-type]

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / "target" / name).read_text(encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        return self.artifact("manifest.json")

    def run_results(self) -> dict[str, Any]:
        return self.artifact("run_results.json")

    def statuses(self) -> dict[str, str]:
        """unique_id -> status of the last run_results.json."""
        return {r["unique_id"]: r["status"] for r in self.run_results()["results"]}


ProjectFactory = Callable[..., Project]
