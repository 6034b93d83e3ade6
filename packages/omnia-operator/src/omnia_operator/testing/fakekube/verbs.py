"""Answers to the non-watch API verbs (get, list, create, update, patch, delete, deletecollection) from the store."""

import json
from typing import Any

from aiohttp import web

from omnia_operator.testing.fakekube import status as st
from omnia_operator.testing.fakekube.kinds import KindInfo
from omnia_operator.testing.fakekube.patches import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    json_patch,
    merge_patch,
)
from omnia_operator.testing.fakekube.routing import Target
from omnia_operator.testing.fakekube.selectors import parse_field_selector, parse_label_selector
from omnia_operator.testing.fakekube.store import ObjectStore
from omnia_operator.testing.fakekube.watchevents import Obj

MAX_BODY_BYTES = 3 * 1024 * 1024


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


async def read_body(request: web.Request) -> Any:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as e:
        raise st.StatusError(413, "RequestEntityTooLarge", f"request body larger than {MAX_BODY_BYTES} bytes") from e
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise st.bad_request(f"the request body is not valid JSON: {e}") from e


async def object_body(request: web.Request, info: KindInfo) -> Obj:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise st.bad_request("the request body must be a JSON object")
    kind, api_version = body.get("kind"), body.get("apiVersion")
    if (kind and kind != info.kind) or (api_version and api_version != info.api_version):
        raise st.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version "
            f"({info.api_version}) or kind {kind!r} is not {info.kind!r}"
        )
    return body


async def dispatch(
    store: ObjectStore, request: web.Request, verb: str, info: KindInfo, target: Target, query: dict[str, str]
) -> web.Response:
    """Answer one non-watch API request from the store."""
    ns, name = target.namespace, target.name or ""
    if verb == "get":
        return json_response(store.get(info, ns, name))
    if verb == "list":
        items, rv = store.list_objects(
            info,
            ns,
            parse_label_selector(query.get("labelSelector")),
            parse_field_selector(query.get("fieldSelector")),
        )
        if not info.custom:
            for item in items:
                item.pop("apiVersion", None)
                item.pop("kind", None)
        return json_response({
            "kind": f"{info.kind}List", "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(rv)}, "items": items,
        })  # fmt: skip
    if verb == "create":
        if target.subresource:
            raise st.method_not_allowed("create is not supported on a subresource")
        return json_response(store.create(info, ns, await object_body(request, info)), 201)
    if verb == "update":
        return json_response(
            store.update(info, ns, name, await object_body(request, info), subresource=target.subresource)
        )
    if verb == "patch":
        return json_response(await patch(store, request, info, target))
    if verb == "delete":
        options = await read_body(request) or {}
        propagation = query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        if propagation not in ("Background", "Foreground", "Orphan"):
            raise st.bad_request(f"unsupported propagationPolicy {propagation!r}: Background, Foreground or Orphan")
        preconditions = options.get("preconditions") or {}
        deleted = store.delete(
            info, ns, name, propagation=propagation, precondition_uid=preconditions.get("uid"),
            precondition_rv=preconditions.get("resourceVersion"),
        )  # fmt: skip
        if store.peek(info, ns, name) is not None:  # waiting for finalizers: the marked object
            return json_response(deleted, 202 if propagation == "Foreground" else 200)
        if info.custom:  # custom resources answer with the deleted object, built-in kinds with a Status
            return json_response(deleted)
        details = {"name": name, "kind": info.plural, "uid": deleted["metadata"]["uid"]}
        if info.group:
            details["group"] = info.group
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        )
    if verb == "deletecollection":
        items, _ = store.list_objects(info, ns, parse_label_selector(query.get("labelSelector")), lambda _o: True)
        for item in items:
            store.delete(info, item["metadata"].get("namespace"), item["metadata"]["name"])
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
    raise st.method_not_allowed(f"{request.method} is not supported here")


async def patch(store: ObjectStore, request: web.Request, info: KindInfo, target: Target) -> Obj:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    supported = [JSON_PATCH, MERGE_PATCH] + ([] if info.custom else [STRATEGIC_MERGE_PATCH])
    if content_type not in supported:
        raise st.unsupported_media_type(content_type, supported)
    patch = await read_body(request)
    if patch is None:
        raise st.bad_request("the patch body is empty")
    name = target.name or ""
    old = store.peek(info, target.namespace, name)
    if old is None:
        raise st.not_found(info.resource, name)
    current = store.get(info, target.namespace, name)
    if content_type == JSON_PATCH:
        patched = json_patch(current, patch)
    else:
        if not isinstance(patch, dict):
            raise st.bad_request("a merge patch must be a JSON object")
        patched = merge_patch(current, patch)
    if not isinstance(patched, dict):
        raise st.bad_request("the patch must leave a JSON object")
    meta = patched.get("metadata") or {}
    if meta.get("resourceVersion") != old["metadata"]["resourceVersion"]:
        raise st.stale_resource_version(info.resource, name)  # the patch carried a resourceVersion precondition
    if meta.get("name", name) != name:
        raise st.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})")
    return store.replace_stored(info, old, patched, subresource=target.subresource)
