"""Command line of omnia-operator."""

import sys


def main() -> int:
    print("omnia-operator: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
