"""Omnia's gRPC contracts as generated, typed Python stubs.

- ``omnia_protos.runtime.v1``: the facade <-> runtime contract (``RuntimeService``).
- ``omnia_protos.tools.v1``: the contract gRPC tool backends implement (``ToolService``).
"""

__all__ = ["CONTRACT_VERSION"]

CONTRACT_VERSION = "1.3.0"
"""Version of the ``omnia.runtime.v1`` contract these stubs implement (as in the Go Omnia)."""
