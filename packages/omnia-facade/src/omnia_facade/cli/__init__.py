"""Command-line clients of the facade."""
