"""Test support shipped with the operator: a fake Kubernetes API server that kubernetes-asyncio talks to unchanged."""
