"""A tiny MCP server for the ToolRegistry discovery tests: served over streamable HTTP, or run as stdio.

`build_server()` is the app the HTTP tests serve in-process (see mcp_http_servers.py). As a script,
`python mcp_tools_server.py stdio [MARKER]` serves the same tools over stdio, first creating the file MARKER when
given: the proof, in the tests, of whether anyone started the command.
"""

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer


def build_server() -> MCPServer:
    server = MCPServer("omnia-operator-test-tools")

    @server.tool(description="Search the documentation")
    def search_docs(query: str) -> str:
        return f"results for {query}"

    @server.tool(description="Fetch one page")
    def fetch_page(page_id: int) -> str:
        return f"page {page_id}"

    return server


if __name__ == "__main__":
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text("started\n")
    build_server().run("stdio")
