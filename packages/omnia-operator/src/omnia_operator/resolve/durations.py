"""Go-style duration strings ("30s", "1h30m", "500ms")."""

import re

from omnia_operator.errors import InvalidResourceError

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; raises InvalidResourceError for anything else."""
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise InvalidResourceError(f"{text!r} is not a duration; write it like 30s, 5m or 1h30m")
    return total
