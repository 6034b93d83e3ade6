"""A minimal browser console at ``/`` (``OMNIA_FACADE_CONSOLE_ENABLED=true``): chat with the agent from a page.

One static page, no build step and no external assets. It connects to ``/ws`` on the same host, streams replies,
and answers client-side tool calls with a prompt. Browsers send an ``Origin``, so the page's origin must be in
``OMNIA_ALLOWED_ORIGINS``.
"""

import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Omnia agent console</title>
<style>
body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
#log{border:1px solid #ccc;border-radius:6px;padding:1rem;height:60vh;overflow-y:auto;white-space:pre-wrap}
.user{color:#1a4f8b}.error{color:#a00}.meta{color:#777;font-size:.85em}
form{display:flex;gap:.5rem;margin-top:1rem} input{flex:1;padding:.5rem}
</style></head>
<body><h1>Omnia agent console</h1><div id="log"></div>
<form id="f"><input id="q" autocomplete="off" placeholder="Say something"><button>Send</button></form>
<script>
const log = document.getElementById("log");
const params = new URLSearchParams(location.search);
const agent = params.get("agent") || AGENT;
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
  "/ws?agent=" + encodeURIComponent(agent));
let sessionId = null, reply = null;
function line(text, cls) { const d = document.createElement("div"); d.className = cls || ""; d.textContent = text;
  log.appendChild(d); log.scrollTop = log.scrollHeight; return d; }
ws.onmessage = (event) => {
  const m = JSON.parse(event.data);
  if (m.type === "connected") { sessionId = m.session_id; line("connected: " + sessionId, "meta"); }
  else if (m.type === "chunk") { if (!reply) reply = line("", "assistant"); reply.textContent += m.content || ""; }
  else if (m.type === "done") { if (!reply) line(m.content || ""); reply = null; }
  else if (m.type === "tool_call") {
    const answer = prompt("Tool " + m.tool_call.name + " " + JSON.stringify(m.tool_call.arguments || {}));
    ws.send(JSON.stringify(answer === null
      ? {type: "tool_call_nack", tool_call_nack: {call_id: m.tool_call.id, reason: "declined"}}
      : {type: "tool_result", tool_result: {call_id: m.tool_call.id, result: answer}}));
  } else if (m.type === "error") { line(m.error.code + ": " + m.error.message, "error"); reply = null; }
};
ws.onclose = (event) => line("disconnected (" + event.code + ")", "meta");
document.getElementById("f").onsubmit = (event) => {
  event.preventDefault(); const q = document.getElementById("q"); if (!q.value) return;
  line(q.value, "user");
  ws.send(JSON.stringify({type: "message", content: q.value, session_id: sessionId || undefined}));
  q.value = "";
};
</script></body></html>
"""


def console_router(agent_name: str) -> APIRouter:
    router = APIRouter()
    page = PAGE.replace("AGENT", json.dumps(agent_name), 1)

    @router.get("/", response_class=HTMLResponse)
    async def console() -> HTMLResponse:
        return HTMLResponse(page)

    return router
