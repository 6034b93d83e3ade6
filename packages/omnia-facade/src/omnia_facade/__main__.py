"""Command line of omnia-facade."""

import sys


def main() -> int:
    print("omnia-facade: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
