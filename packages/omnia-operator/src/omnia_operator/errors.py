"""Errors of the operator (the Kubernetes adapter has its own tree in omnia_operator.kube.errors).

OperatorError
├── ConfigError            bad operator settings or flags (fix the deployment of the operator)
├── InvalidResourceError   a manifest that does not match our schema (fix the YAML)
└── ManifestError          render: a file that cannot be read as Kubernetes YAML
"""


class OperatorError(Exception):
    """Base of every error the operator raises on purpose."""


class ConfigError(OperatorError):
    """Operator settings are wrong; the message names the setting."""


class InvalidResourceError(OperatorError):
    """A custom resource does not match the schema; the message names the fields."""


class ManifestError(OperatorError):
    """A manifest file cannot be used (not YAML, not a Kubernetes object, too large)."""
