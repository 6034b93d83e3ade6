"""The browser console at ``/`` (``OMNIA_FACADE_CONSOLE_ENABLED=true``): chat with the agent from a page.

The page is one static file, ``console/index.html`` (no build step, no external assets), read once when the app
is built; only the agent name is filled in (a JSON string literal, with ``<`` escaped so it cannot end the
script). It connects to ``/ws`` on the same host, streams replies, answers client-side tool calls from an inline
form, uploads files when media is on, and keeps the session id in localStorage so a reload resumes the
conversation. Browsers send an ``Origin``, so the page's origin must be in ``OMNIA_ALLOWED_ORIGINS``.
"""

import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE_PATH = Path(__file__).parent / "console" / "index.html"
AGENT_PLACEHOLDER = "__OMNIA_AGENT__"


def console_page(agent_name: str) -> str:
    literal = json.dumps(agent_name).replace("<", "\\u003c")
    return PAGE_PATH.read_text(encoding="utf-8").replace(AGENT_PLACEHOLDER, literal, 1)


def console_router(agent_name: str) -> APIRouter:
    router = APIRouter()
    page = console_page(agent_name)

    @router.get("/", response_class=HTMLResponse)
    async def console() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    return router
