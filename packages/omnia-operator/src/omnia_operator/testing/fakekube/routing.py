"""Parsing of API paths into what they address, for core (`/api/v1`) and group (`/apis/g/v`) kinds."""

from dataclasses import dataclass

from omnia_operator.testing.fakekube import status as st


@dataclass(frozen=True)
class Target:
    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""


def parse_path(path: str) -> Target | None:
    """None for discovery paths (`/api`, `/apis`, `/apis/g`, `/api/v1`, `/apis/g/v`); raises 404 for junk."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
    if parts[0] == "api":
        if len(parts) <= 2:
            return None
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) <= 3:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    return Target(group, version, plural, namespace, name, subresource)
