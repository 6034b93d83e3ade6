"""omnia-facade."""
