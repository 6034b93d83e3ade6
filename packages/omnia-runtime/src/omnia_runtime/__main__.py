"""Command line of omnia-runtime."""

import sys


def main() -> int:
    print("omnia-runtime: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
