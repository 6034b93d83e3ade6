"""A real MCP server over stdio for the end-to-end tests: one tool, `lookup_doc`, that records each call.

Every call appends its argument to the file named by MCP_CALLS_FILE, so a test can see the runtime reached it.
"""

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("docs")
CALLS_FILE = Path(sys.argv[1]) if len(sys.argv) > 1 else None


@server.tool(description="Find the documentation page about a topic")
def lookup_doc(topic: str) -> str:
    """Find the documentation page about a topic."""
    if CALLS_FILE is not None:
        with CALLS_FILE.open("a", encoding="utf-8") as calls:
            calls.write(topic + "\n")
    return f"doc-page-about-{topic}"


if __name__ == "__main__":
    server.run("stdio")
