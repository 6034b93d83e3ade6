"""A small MCP server for the adapter tests (run as a subprocess, or imported for streamable HTTP).

``python mcp_server.py stdio`` serves over stdio; ``python mcp_server.py silent`` reads stdin and never
answers (a hung server). ``build_server()`` is the same app for the in-process streamable HTTP test.
"""

import os
import sys

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError


def build_server() -> MCPServer:
    server = MCPServer("omnia-test-tools")

    @server.tool(description="Add two integers")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Echo the text back")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Always fails")
    def explode() -> str:
        raise ToolError("the tool exploded")

    @server.tool(description="Kills the server process in the middle of the call")
    def crash() -> str:
        os._exit(3)

    @server.tool(description="The process id of the server")
    def whoami() -> int:
        return os.getpid()

    @server.tool(description="The server's working directory and the value of one environment variable")
    def environment(name: str) -> dict[str, str | None]:
        return {"cwd": os.getcwd(), "value": os.environ.get(name)}

    @server.tool(description="Never returns")
    async def hang() -> str:
        await anyio.sleep_forever()
        return "unreachable"

    @server.tool(description="Hidden by the blocklist")
    def internal_debug() -> str:
        return "debug"

    return server


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "silent":
        for _ in sys.stdin:
            pass
    else:
        build_server().run("stdio")
