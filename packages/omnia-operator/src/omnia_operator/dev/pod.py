"""A rendered Deployment's pod, run as local processes: env resolved, volumes written to a work directory.

Each container becomes one process running the command its image runs (`omnia-runtime serve`, `omnia-facade
serve`), with the container's env and its volume mounts materialised as directories under the work dir:
ConfigMap and Secret volumes (also projected) become files, emptyDir and claims become empty directories
(except the /tmp scratch mount, which stays the machine's /tmp). Paths
inside the pod (`/etc/omnia/pack/pack.json`) are rewritten to those directories wherever they appear in env
values or in the text of mounted ConfigMap files (tools.yaml names `/etc/omnia/tool-secrets/<handler>`).

`secretKeyRef` values come from the Secrets of the manifests; for one the manifests do not contain, the variable
of the same name in the developer's environment is used, and otherwise the variable is left out and reported.
"""

import base64
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnia_operator.resolve.source import KubeObject

# What each of our images runs (docker/*.Dockerfile ENTRYPOINT), as a module of the current interpreter.
IMAGE_COMMANDS: dict[str, list[str]] = {
    "facade": [sys.executable, "-m", "omnia_facade", "serve"],
    "runtime": [sys.executable, "-m", "omnia_runtime", "serve"],
}
MAX_FILE_BYTES = 4 * 1024 * 1024
# Scratch mounts that stay the machine's own directory (a local path may live under /tmp itself).
SHARED_DIRS = ("/tmp",)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")

Lookup = Callable[[str, str, str], Awaitable[KubeObject | None]]
"""(kind, namespace, name) -> the object of the manifests, or None."""


class PodError(Exception):
    """The pod cannot be run locally; the message says why."""


@dataclass
class LocalContainer:
    name: str
    argv: list[str]
    env: dict[str, str]
    mounts: dict[str, Path]  # mountPath in the pod -> local directory
    missing: list[str] = field(default_factory=list)  # env vars left out, with the reason


def _decode_secret(secret: KubeObject, key: str) -> str | None:
    data = secret.get("data") or {}
    if key in data:
        return base64.b64decode(data[key]).decode()
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return str(string_data[key])
    return None


def _config_map_value(config_map: KubeObject, key: str) -> str | None:
    data = config_map.get("data") or {}
    if key in data:
        return str(data[key])
    binary = config_map.get("binaryData") or {}
    if key in binary:
        return base64.b64decode(binary[key]).decode()
    return None


def _rewrite(text: str, mounts: Mapping[str, Path]) -> str:
    """Replace pod paths under any mount with local ones, in one pass (a local path may itself start with /tmp)."""
    if not mounts:
        return text
    by_path = {m.rstrip("/"): str(local) for m, local in mounts.items()}
    alternatives = "|".join(re.escape(m) for m in sorted(by_path, key=len, reverse=True))
    pattern = r"(?<![^\s\"'=:])(" + alternatives + r")(?=/|$|\s|\"|')"
    return re.sub(pattern, lambda match: by_path[match.group(1)], text)


def _write(path: Path, content: str, *, secret: bool) -> None:
    if len(content.encode()) > MAX_FILE_BYTES:
        raise PodError(f"{path.name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    if secret:
        path.chmod(0o600)


class PodMaterializer:
    """Turns a Deployment into LocalContainers, writing volumes under work_dir."""

    def __init__(self, lookup: Lookup, work_dir: Path, environ: Mapping[str, str], namespace: str) -> None:
        self._lookup = lookup
        self._work_dir = work_dir
        self._environ = environ
        self._namespace = namespace
        self.notes: list[str] = []

    async def _items(self, kind: str, name: str, items: list[dict[str, Any]] | None) -> dict[str, str] | None:
        obj = await self._lookup(kind, self._namespace, name)
        if obj is None:
            return None
        read = _decode_secret if kind == "Secret" else _config_map_value
        if items:
            files: dict[str, str] = {}
            for item in items:
                value = read(obj, str(item["key"]))
                if value is not None:
                    files[str(item.get("path") or item["key"])] = value
            return files
        keys = {*(obj.get("data") or {}), *(obj.get("stringData") or {}), *(obj.get("binaryData") or {})}
        return {k: v for k in sorted(keys) if (v := read(obj, k)) is not None}

    async def _volume_files(self, volume: dict[str, Any]) -> tuple[dict[str, str], bool]:
        """(relative path -> content, holds secrets) of one volume."""
        name = volume.get("name")
        sources: list[tuple[str, dict[str, Any]]] = []
        if "configMap" in volume:
            sources.append(("ConfigMap", volume["configMap"]))
        elif "secret" in volume:
            sources.append(("Secret", {**volume["secret"], "name": volume["secret"].get("secretName")}))
        elif "projected" in volume:
            for entry in volume["projected"].get("sources") or []:
                if "configMap" in entry:
                    sources.append(("ConfigMap", entry["configMap"]))
                elif "secret" in entry:
                    sources.append(("Secret", entry["secret"]))
        elif not ({"emptyDir", "persistentVolumeClaim"} & volume.keys()):
            raise PodError(f"volume {name}: only configMap, secret, projected, emptyDir and claims run locally")
        files: dict[str, str] = {}
        for kind, ref in sources:
            found = await self._items(kind, str(ref.get("name")), ref.get("items"))
            if found is None:
                if not ref.get("optional"):
                    self.notes.append(f"volume {name}: {kind} {ref.get('name')} is not in the manifests; left empty")
                continue
            files.update(found)
        return files, any(kind == "Secret" for kind, _ in sources)

    async def _env_value(self, var: dict[str, Any], pod_name: str) -> tuple[str | None, str]:
        name = str(var["name"])
        if "valueFrom" not in var:
            return str(var.get("value", "")), ""
        source = var["valueFrom"]
        if "secretKeyRef" in source or "configMapKeyRef" in source:
            kind, ref = (
                ("Secret", source["secretKeyRef"])
                if "secretKeyRef" in source
                else (
                    "ConfigMap",
                    source["configMapKeyRef"],
                )
            )
            obj = await self._lookup(kind, self._namespace, str(ref.get("name")))
            if obj is not None:
                read = _decode_secret if kind == "Secret" else _config_map_value
                value = read(obj, str(ref.get("key")))
                if value is not None:
                    return value, ""
            if name in self._environ:
                return self._environ[name], ""
            return None, f"{name}: {kind} {ref.get('name')} key {ref.get('key')} is not in the manifests; set {name}"
        if "fieldRef" in source:
            path = source["fieldRef"].get("fieldPath")
            known = {"metadata.name": pod_name, "metadata.namespace": self._namespace}
            if path in known:
                return known[path], ""
        return None, f"{name}: valueFrom {sorted(source)} is not supported locally"

    async def containers(self, deployment: KubeObject) -> list[LocalContainer]:
        pod = deployment["spec"]["template"]["spec"]
        pod_name = f"{deployment['metadata']['name']}-local"
        volumes: dict[str, tuple[Path, dict[str, str], bool]] = {}
        for volume in pod.get("volumes") or []:
            files, secret = await self._volume_files(volume)
            directory = self._work_dir / "volumes" / _SAFE_NAME.sub("_", str(volume["name"]))
            directory.mkdir(parents=True, exist_ok=True)
            volumes[str(volume["name"])] = (directory, files, secret)
        result: list[LocalContainer] = []
        for container in pod["containers"]:
            cname = str(container["name"])
            if container.get("command") or cname not in IMAGE_COMMANDS:
                raise PodError(f"container {cname}: only the facade and runtime images run locally")
            mounts: dict[str, Path] = {}
            for mount in container.get("volumeMounts") or []:
                if mount.get("subPath"):
                    raise PodError(f"container {cname}: subPath mounts do not run locally")
                if mount["name"] not in volumes:
                    raise PodError(f"container {cname}: volume {mount['name']} is not defined in the pod")
                if str(mount["mountPath"]).rstrip("/") in SHARED_DIRS:
                    continue
                mounts[str(mount["mountPath"])] = volumes[mount["name"]][0]
            for mount in container.get("volumeMounts") or []:
                if str(mount["mountPath"]).rstrip("/") in SHARED_DIRS:
                    continue
                directory, files, secret = volumes[mount["name"]]
                for relative, content in files.items():
                    _write(directory / relative, content if secret else _rewrite(content, mounts), secret=secret)
            env: dict[str, str] = {}
            missing: list[str] = []
            for var in container.get("env") or []:
                value, problem = await self._env_value(var, pod_name)
                if value is None:
                    missing.append(problem)
                else:
                    env[str(var["name"])] = _rewrite(value, mounts)
            result.append(LocalContainer(cname, list(IMAGE_COMMANDS[cname]), env, mounts, missing))
        return result
