"""Tools the runtime offers the model.

``base`` holds the interface the conversation loop uses (ToolSpec, ToolResult, ToolExecutor). ``config``
loads ``tools.yaml``; ``router.ToolRouter`` is the ToolExecutor over its handlers, with one adapter per
handler type (``http``, ``grpc``, ``mcp``, ``openapi``, ``client``); ``discovery.discover`` lists a
handler's tools for the operator. See TOOLS.md in the package for the file format and behaviour.
"""
