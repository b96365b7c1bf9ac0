"""`kiln init`: a new project with a DuckDB profile."""

from __future__ import annotations

from pathlib import Path

from kiln.events.bus import info

_PROJECT = """name: {name}
version: "1.0.0"
config-version: 2
profile: {name}

model-paths: ["models"]
seed-paths: ["seeds"]
test-paths: ["tests"]
macro-paths: ["macros"]
snapshot-paths: ["snapshots"]
analysis-paths: ["analyses"]
target-path: target
clean-targets: ["target"]

models:
  {name}:
    +materialized: view
"""

_PROFILE = """{name}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {name}.duckdb
      schema: main
      threads: 4
"""

_MODEL = "select 1 as id, 'hello' as greeting\n"


def init_project(parent: Path, name: str, skip_profile: bool) -> int:
    """Create `<parent>/<name>` with a project file, a profile and an example model."""
    if not name.isidentifier():
        from kiln.events.bus import Level, emit

        emit(
            "InitError",
            Level.ERROR,
            f"'{name}' is not a valid project name (use letters, digits and underscores)",
        )
        return 2
    root = parent / name
    if root.exists():
        from kiln.events.bus import Level, emit

        emit("InitError", Level.ERROR, f"{root} already exists")
        return 2
    for folder in ("models/example", "seeds", "tests", "macros", "snapshots", "analyses"):
        (root / folder).mkdir(parents=True)
    (root / "dbt_project.yml").write_text(_PROJECT.format(name=name), encoding="utf-8")
    (root / "models" / "example" / "my_first_model.sql").write_text(_MODEL, encoding="utf-8")
    (root / ".gitignore").write_text("target/\nlogs/\n*.duckdb\n", encoding="utf-8")
    if not skip_profile:
        (root / "profiles.yml").write_text(_PROFILE.format(name=name), encoding="utf-8")
    info(f"Created project {name} in {root}. Next: cd {name} && kiln build")
    return 0
