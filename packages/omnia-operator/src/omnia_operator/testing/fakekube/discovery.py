"""Discovery documents (`/api`, `/apis`, `/apis/{group}`, `/api/v1`, `/apis/{group}/{version}`) for the served kinds."""

from typing import Any

from omnia_operator.testing.fakekube import status as st
from omnia_operator.testing.fakekube.kinds import KindRegistry


def discovery(kinds: KindRegistry, path: str) -> dict[str, Any]:
    """The discovery document at `path`, or a 404 StatusError."""
    parts = [p for p in path.split("/") if p]
    if parts == ["api"]:
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if parts == ["apis"]:
        groups = [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
            }
            for group, versions in sorted(kinds.groups().items())
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if (len(parts) == 2 and parts[0] == "api") or len(parts) == 3:
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        served = [info for info in kinds.all() if (info.group, info.version) == (group, version)]
        if not served:
            raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
        resources: list[dict[str, Any]] = []
        for info in sorted(served, key=lambda i: i.plural):
            resources.append(info.discovery_entry())
            if info.has_status:
                status = {"name": f"{info.plural}/status", "singularName": "", "namespaced": info.namespaced}
                resources.append({**status, "kind": info.kind, "verbs": ["get", "patch", "update"]})
        group_version = f"{group}/{version}" if group else version
        return ({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                      "resources": resources})  # fmt: skip
    if len(parts) == 2:
        versions = kinds.groups().get(parts[1])
        if not versions:
            raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
        return ({
            "kind": "APIGroup", "apiVersion": "v1", "name": parts[1],
            "versions": [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{parts[1]}/{versions[0]}", "version": versions[0]},
        })  # fmt: skip
    raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
