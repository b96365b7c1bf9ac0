"""The hub client against a real local HTTP server."""

from __future__ import annotations

import pytest
from deps_sources import HubServer

from kiln.deps.errors import DependencyError
from kiln.deps.hub import DEFAULT_HUB_URL, HubClient, hub_url


def test_hub_url_defaults_to_hub_getdbt_com_and_adds_a_slash():
    assert hub_url({}) == DEFAULT_HUB_URL
    assert hub_url({"DBT_PACKAGE_HUB_URL": "http://h:1/x"}) == "http://h:1/x/"


def test_versions_come_from_the_package_json(hub: HubServer):
    hub.publish("acme/util", "1.0.0", packages=[{"package": "acme/core", "version": "2.0.0"}])
    hub.publish("acme/util", "1.1.0")
    versions = HubClient(hub.url).versions("acme/util")
    assert sorted(versions) == ["1.0.0", "1.1.0"]
    assert versions["1.0.0"]["packages"] == [{"package": "acme/core", "version": "2.0.0"}]
    assert versions["1.1.0"]["downloads"]["tarball"].startswith(hub.url)


def test_each_package_is_fetched_once_per_client(hub: HubServer):
    hub.publish("acme/util", "1.0.0")
    client = HubClient(hub.url)
    client.versions("acme/util")
    client.versions("acme/util")
    assert hub.requests.count("/api/v1/acme/util.json") == 1


def test_unknown_package_suggests_a_close_name_from_the_index(hub: HubServer):
    hub.publish("acme/util", "1.0.0")
    with pytest.raises(DependencyError) as info:
        HubClient(hub.url).versions("acme/utils")
    assert "acme/utils was not found in the package hub" in info.value.message
    assert info.value.hint == "did you mean 'acme/util'?"


def test_unreachable_hub_names_the_url_and_the_reason():
    with HubServer() as server:
        url = server.url
    with pytest.raises(DependencyError) as info:
        HubClient(url).versions("acme/util")
    assert info.value.message.startswith(f"could not reach the package hub at {url}api/v1/")
    assert "refused" in info.value.message.lower()


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"name": "util", "versions": {"1.0.0": {"name": "u"}}}']
)
def test_a_response_that_is_not_package_metadata_is_an_error(hub: HubServer, body: bytes):
    hub.files["/api/v1/acme/util.json"] = body
    with pytest.raises(DependencyError, match="package hub"):
        HubClient(hub.url).versions("acme/util")
