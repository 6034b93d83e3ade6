"""omnia-runtime."""
