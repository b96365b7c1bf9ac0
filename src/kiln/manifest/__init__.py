"""The typed manifest: node records, unique-id rules and the DAG. Pure data, no I/O."""

from kiln.manifest.graph import Graph
from kiln.manifest.nodes import (
    Doc,
    Exposure,
    Macro,
    Manifest,
    Node,
    RefCall,
    SourceDefinition,
    TestMetadata,
    UnitTest,
)

__all__ = [
    "Doc",
    "Exposure",
    "Graph",
    "Macro",
    "Manifest",
    "Node",
    "RefCall",
    "SourceDefinition",
    "TestMetadata",
    "UnitTest",
]
