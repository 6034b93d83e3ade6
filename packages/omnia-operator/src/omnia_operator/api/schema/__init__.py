"""Declarative openAPIV3Schema definitions of the four custom resources."""
