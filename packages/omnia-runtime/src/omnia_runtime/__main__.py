"""``python -m omnia_runtime`` / the ``omnia-runtime`` console script."""

import sys

from omnia_runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
