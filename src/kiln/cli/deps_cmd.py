"""`kiln deps`: install the packages of packages.yml (dbt's `deps`, no profile needed)."""

from __future__ import annotations

from typing import Any

import click

from kiln.cli.options import project_options


@click.command()
@project_options
@click.option(
    "--upgrade",
    is_flag=True,
    default=False,
    help="Resolve every package to its newest matching version and rewrite package-lock.yml.",
)
@click.option(
    "--lock",
    is_flag=True,
    default=False,
    help="Resolve the packages and write package-lock.yml without installing them.",
)
@click.option(
    "--add-package",
    default=None,
    help="Add a package to packages.yml as name@version (source: --source), then install.",
)
@click.option(
    "--source",
    type=click.Choice(["hub", "git", "local"]),
    default="hub",
    help="Where --add-package finds the package: hub (default), git or local.",
)
def deps(**kw: Any) -> None:
    """Install the packages listed in packages.yml into dbt_packages/."""
    from kiln.cli.main import run_command
    from kiln.deps.task import do_deps

    run_command("deps", do_deps, **kw)
