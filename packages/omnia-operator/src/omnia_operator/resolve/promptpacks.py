"""Finding the PromptPack an agent refers to, and loading + validating its pack.json.

Validation is the runtime's own (see pack_checks.py): structural problems make the content unusable,
authoring warnings travel with the content.

An agent's `promptPackRef.name` is the pack's logical name: `spec.packName`, or the object name when
packName is unset (our PromptPack spec is mutable, so one object usually carries every version).
With several objects of one packName, `version` pins one and otherwise the highest version of the
channel wins (stable ignores pre-releases).
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from omnia_operator.api.models.agentruntime import PromptPackRef
from omnia_operator.api.models.resources import PromptPack, parse_prompt_pack
from omnia_operator.errors import InvalidResourceError
from omnia_operator.resolve.outcome import Check
from omnia_operator.resolve.pack_checks import MESSAGE_LISTED, check_pack_data, summarize
from omnia_operator.resolve.source import ObjectSource

logger = logging.getLogger(__name__)

PACK_KEY = "pack.json"
MAX_PACK_BYTES = 1024 * 1024  # a ConfigMap cannot hold more anyway
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str) -> tuple[int, int, int, int, tuple[Any, ...]]:
    """Sort key for semantic versions: a release sorts after its pre-releases."""
    match = _SEMVER.match(version)
    if not match:
        return (-1, -1, -1, -1, ())
    major, minor, patch, pre = match.groups()
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def is_prerelease(version: str) -> bool:
    match = _SEMVER.match(version)
    return bool(match and match.group(4))


def pack_name(pack: PromptPack) -> str:
    return pack.spec.pack_name or pack.name


@dataclass(frozen=True)
class PackContent:
    pack: PromptPack
    config_map_name: str
    text: str
    digest: str
    snapshot_version: str | None = None
    """Version of a snapshot ConfigMap (during a canary the spec already names the next version)."""
    warnings: tuple[str, ...] = ()
    """Authoring warnings of `omnia-runtime validate-pack` (undefined tools, undeclared variables,
    unenforced validators): the pack is served anyway, the PromptPack shows them."""

    @property
    def version(self) -> str:
        return self.snapshot_version or self.pack.spec.version


@dataclass(frozen=True)
class RolloutContents:
    """What an agent mounts: the stable pack and, during a canary, the candidate and its weight."""

    stable: PackContent
    canary: PackContent | None = None
    weight: int = 0


async def find_prompt_pack(ref: PromptPackRef, namespace: str, source: ObjectSource) -> tuple[PromptPack | None, Check]:
    candidates: list[PromptPack] = []
    # only the packs of that name (an index lookup in the operator): listing, let alone parsing, every pack
    # of the namespace for each agent made the work per agent grow with the number of packs
    for raw in await source.prompt_packs_named(namespace, ref.name):
        try:
            pack = parse_prompt_pack(raw)
        except InvalidResourceError as e:
            logger.warning("skipping unparsable PromptPack: %s", e)
            continue
        if pack_name(pack) == ref.name:
            candidates.append(pack)
    if not candidates:
        return None, Check.bad(
            "PromptPackNotFound",
            f"no PromptPack named {ref.name!r} (by spec.packName or metadata.name) in namespace {namespace}; "
            "create it or fix spec.promptPackRef.name",
        )
    if ref.version:
        wanted = ref.version.removeprefix("v")
        for pack in candidates:
            if pack.spec.version.removeprefix("v") == wanted:
                return pack, Check.good("PromptPackFound", f"using {pack.name} version {pack.spec.version}")
        have = ", ".join(sorted(p.spec.version for p in candidates))
        return None, Check.bad(
            "PromptPackVersionNotFound",
            f"PromptPack {ref.name!r} has no version {ref.version} (available: {have}); "
            "fix spec.promptPackRef.version or publish that version",
        )
    track = ref.track or "stable"
    eligible = [p for p in candidates if track == "prerelease" or not is_prerelease(p.spec.version)]
    if not eligible:
        return None, Check.bad(
            "PromptPackVersionNotFound",
            f"PromptPack {ref.name!r} has only pre-release versions; set spec.promptPackRef.track: prerelease "
            "or publish a release",
        )
    best = max(eligible, key=lambda p: (semver_key(p.spec.version), p.name))
    return best, Check.good("PromptPackFound", f"using {best.name} version {best.spec.version}")


async def load_pack_content(
    pack: PromptPack, source: ObjectSource, *, snapshot: str | None = None, version: str | None = None
) -> tuple[PackContent | None, Check]:
    """The pack.json of a PromptPack (or of one of its snapshots), validated; the Check says what is wrong."""
    ref = pack.spec.source.config_map_ref
    if ref is None and snapshot is None:
        return None, Check.bad("SourceInvalid", f"PromptPack {pack.name}: set spec.source.configMapRef.name")
    name = snapshot or (ref.name if ref else "")
    config_map = await source.get("ConfigMap", pack.namespace, name)
    if config_map is None:
        return None, Check.bad(
            "ConfigMapNotFound",
            f"ConfigMap {name} (source of PromptPack {pack.name}) not found in namespace {pack.namespace}; "
            f"create it with the compiled pack under key {PACK_KEY}",
        )
    return _validated(pack, name, config_map, version)


async def load_rollout(pack: PromptPack, source: ObjectSource) -> tuple[RolloutContents | None, Check]:
    """Stable (and canary) content as the PromptPack status says: its immutable snapshots once the PromptPack
    reconcile has made them, else the source ConfigMap (render, local mode, the first moments)."""
    status = pack.status
    if status.active_snapshot:
        stable, check = await load_pack_content(
            pack, source, snapshot=status.active_snapshot, version=status.active_version
        )
        if stable is None:
            stable, check = await load_pack_content(pack, source)
    else:
        stable, check = await load_pack_content(pack, source)
    if stable is None:
        return None, check
    if status.canary_snapshot and status.canary_version and status.canary_weight is not None:
        canary, _ = await load_pack_content(
            pack, source, snapshot=status.canary_snapshot, version=status.canary_version
        )
        if canary is not None:
            return RolloutContents(stable, canary, status.canary_weight), check
    return RolloutContents(stable), check


def _validated(
    pack: PromptPack, name: str, config_map: dict[str, Any], version: str | None
) -> tuple[PackContent | None, Check]:
    text = (config_map.get("data") or {}).get(PACK_KEY)
    if not text:
        return None, Check.bad(
            "PackJsonMissing", f"ConfigMap {name} has no key {PACK_KEY}; put the compiled pack under that key"
        )
    if len(text.encode()) > MAX_PACK_BYTES:
        return None, Check.bad("PackInvalid", f"{PACK_KEY} in ConfigMap {name} is larger than 1 MiB")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, Check.bad(
            "PackInvalid", f"{PACK_KEY} in ConfigMap {name} is not valid JSON (line {e.lineno}: {e.msg})"
        )
    findings = check_pack_data(data)
    if findings.problems:
        return None, Check.bad(
            "PackInvalid",
            f"{PACK_KEY} in ConfigMap {name} is not a valid PromptPack "
            f"({len(findings.problems)} problem(s)): {summarize(findings.problems, MESSAGE_LISTED)}",
        )
    digest = hashlib.sha256(text.encode()).hexdigest()
    content = PackContent(pack, name, text, digest, version, findings.warnings)
    return content, Check.good("PromptPackReady", f"PromptPack {pack.name} version {content.version} is valid")
