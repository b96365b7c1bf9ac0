"""The dbt package hub (registry): package versions and their metadata.

The hub answers `GET <base>api/v1/<org>/<name>.json` with
`{"name": ..., "versions": {"1.1.1": {"name", "packages", "downloads": {"tarball"}}}}` and
`GET <base>api/v1/index.json` with the list of every package name.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from typing import Any

from kiln.deps.errors import DependencyError

DEFAULT_HUB_URL = "https://hub.getdbt.com/"
HUB_URL_ENV = "DBT_PACKAGE_HUB_URL"
TIMEOUT_SECONDS = 30.0

_VERSION_KEYS = ("name", "packages", "downloads")


def hub_url(environ: Mapping[str, str] | None = None) -> str:
    """The hub base URL: `DBT_PACKAGE_HUB_URL`, else hub.getdbt.com, always ending in `/`.

    Example:
        >>> hub_url({"DBT_PACKAGE_HUB_URL": "http://127.0.0.1:8000"})
        'http://127.0.0.1:8000/'
    """
    env = os.environ if environ is None else environ
    base = env.get(HUB_URL_ENV) or DEFAULT_HUB_URL
    return base if base.endswith("/") else base + "/"


class HubClient:
    """Reads package metadata from the hub, each package once per run.

    Args:
        base_url: the hub root, ending in `/`.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._versions: dict[str, dict[str, dict[str, Any]]] = {}

    def versions(self, package: str) -> dict[str, dict[str, Any]]:
        """Version text -> that version's metadata, for a hub package such as `org/name`.

        Raises:
            DependencyError: the hub is unreachable, does not know the package, or answers
                with something that is not package metadata.
        """
        if package not in self._versions:
            self._versions[package] = self._fetch_versions(package)
        return self._versions[package]

    def _fetch_versions(self, package: str) -> dict[str, dict[str, Any]]:
        url = f"{self.base_url}api/v1/{package}.json"
        found = self._get_json(url, missing_ok=True)
        if found is None:
            raise DependencyError(
                f"package {package} was not found in the package hub at {self.base_url}",
                hint=self._suggest(package),
            )
        versions = found.get("versions") if isinstance(found, dict) else None
        if not isinstance(versions, dict) or not all(
            isinstance(meta, dict) and all(k in meta for k in _VERSION_KEYS)
            for meta in versions.values()
        ):
            raise DependencyError(
                f"the package hub answered {url} with something that is not package metadata",
                hint=f"check that {HUB_URL_ENV} points at a dbt package hub",
            )
        return versions

    def _suggest(self, package: str) -> str:
        """A did-you-mean from the hub index (best effort: the index may be unavailable)."""
        try:
            index = self._get_json(f"{self.base_url}api/v1/index.json", missing_ok=True)
        except DependencyError:
            index = None
        names = [str(n) for n in index] if isinstance(index, list) else []
        close = difflib.get_close_matches(package, names, n=1)
        if close:
            return f"did you mean {close[0]!r}?"
        return "check the package name and namespace on hub.getdbt.com"

    def _get_json(self, url: str, *, missing_ok: bool) -> Any:
        """GET a JSON document; None for a 404 when `missing_ok`."""
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return None
            raise DependencyError(
                f"the package hub answered GET {url} with HTTP {exc.code} {exc.reason}",
                hint="try again later, or check the hub URL",
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DependencyError(
                f"could not reach the package hub at {url}: {reason}",
                hint=f"check the network connection, or set {HUB_URL_ENV} to a reachable hub",
            ) from None
        try:
            return json.loads(body)
        except ValueError:
            raise DependencyError(
                f"the package hub answered GET {url} with invalid JSON",
                hint=f"check that {HUB_URL_ENV} points at a dbt package hub",
            ) from None
