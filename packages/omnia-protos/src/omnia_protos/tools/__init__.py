"""Generated stubs of the omnia.tools package."""
