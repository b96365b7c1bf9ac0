"""`kiln deps`: read packages.yml, resolve versions, write package-lock.yml, install packages.

Modules by responsibility: `semver` (version ranges), `specs` (package entries and their
rendering), `lockfile` (package-lock.yml and dbt's lock hash), `hub` (the package registry),
`fetch` (git, downloads and archives), `sources` (one package pinned and fetched),
`resolve` (the transitive walk), `install` (into the install folder), `events` (what is
reported, under dbt's names and codes), `task` (the command).
"""
