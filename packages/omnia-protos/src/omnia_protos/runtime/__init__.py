"""Generated stubs of the omnia.runtime package."""
