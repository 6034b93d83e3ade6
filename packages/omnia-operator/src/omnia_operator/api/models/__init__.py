"""Typed views of the custom resources, parsed right after the Kubernetes adapter.

Field names are snake_case with the CRD's camelCase names as aliases. Defaults mirror the schema
defaults so an object that did not go through an API server (render, local mode) reads the same.
"""
