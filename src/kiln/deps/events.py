"""The events `kiln deps` reports, under dbt's event names and codes."""

from __future__ import annotations

from kiln.events.bus import Level, emit

# dbt-core's codes for its deps events (JSON-log consumers key on them)
DEPS_EVENT_CODES = {
    "DepsNoPackagesFound": "M013",
    "DepsStartPackageInstall": "M014",
    "DepsInstallInfo": "M015",
    "DepsUpdateAvailable": "M016",
    "DepsUpToDate": "M017",
    "DepsListSubdirectory": "M018",
    "DepsNotifyUpdatesAvailable": "M019",
    "DepsUnpinned": "M029",
    "DepsLockUpdating": "M031",
    "DepsAddPackage": "M032",
    "DepsFoundDuplicatePackage": "M033",
    "DepsSymlinkNotAvailable": "Z038",
    "Formatting": "Z017",
}


def report(name: str, msg: str, level: Level = Level.INFO) -> None:
    """Emit one deps event with dbt's code for `name`."""
    emit(name, level, msg, code=DEPS_EVENT_CODES.get(name, ""))
