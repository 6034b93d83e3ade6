"""A tiny MCP server run as a stdio subprocess by the ToolRegistry discovery tests.

`python mcp_tools_server.py stdio` serves two tools; `python mcp_tools_server.py silent` reads stdin and
never answers (a hung server).
"""

import sys

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
    if (sys.argv[1] if len(sys.argv) > 1 else "stdio") == "silent":
        for _ in sys.stdin:
            pass
    else:
        build_server().run("stdio")
