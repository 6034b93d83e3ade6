"""The custom resources: schema definitions (source of truth), generated CRDs and typed models."""
