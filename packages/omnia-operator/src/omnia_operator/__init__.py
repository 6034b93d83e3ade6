"""omnia-operator."""
