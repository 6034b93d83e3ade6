"""ToolRegistry: the tool handlers (http, openapi, grpc, mcp, client) an agent may call.

The handler fields are those the runtime's tools.yaml understands. Credentials are referenced through
`auth.secretRef` (bearer/basic) and reach the runtime as mounted files, never inline. Cloud identities
(serviceAccount, workloadIdentity) are not declared because nothing would honour them.
"""

from omnia_operator.api.schema.common import DNS_LABEL, conditions, duration, observed_generation, secret_key_ref
from omnia_operator.api.schema.dsl import (
    JsonSchema,
    Rule,
    any_value,
    array,
    boolean,
    free_form,
    integer,
    obj,
    string,
    string_map,
)

HANDLER_TYPES = ["http", "openapi", "grpc", "mcp", "client"]
TOOLREGISTRY_PHASES = ["Pending", "Ready", "Degraded", "Failed"]


def _retry_common() -> dict[str, JsonSchema]:
    return {
        "maxAttempts": integer("Attempts including the first one.", minimum=1, maximum=10),
        "initialBackoff": duration("Wait before the first retry.", default="100ms"),
        "backoffMultiplier": string(
            "Factor applied to the wait after each retry, as a decimal string.", default="2.0", max_length=16
        ),
        "maxBackoff": duration("Longest wait between retries.", default="30s"),
    }


def _http_retry() -> JsonSchema:
    return obj(
        "Retry policy for HTTP calls.",
        {
            **_retry_common(),
            "retryOn": array(
                "HTTP status codes that are retried.", integer("Status code.", minimum=100, maximum=599), max_items=32
            ),
            "retryOnNetworkError": boolean("Retry when the connection fails.", default=True),
            "respectRetryAfter": boolean("Honour a Retry-After header on 429/503.", default=True),
        },
        required=["maxAttempts"],
    )


def _handler() -> JsonSchema:
    return obj(
        "One tool handler.",
        {
            "name": string("Handler name, unique in the registry.", pattern=DNS_LABEL, max_length=63),
            "type": string("Kind of backend.", enum=HANDLER_TYPES),
            "tool": obj(
                "The tool this handler serves (required for http and client; grpc without it uses ListTools).",
                {
                    "name": string("Tool name the model calls.", pattern=r"^[a-z][a-z0-9_]*$", max_length=64),
                    "description": string("What the tool does; shown to the model.", max_length=4096),
                    "inputSchema": free_form("JSON Schema of the arguments."),
                    "outputSchema": free_form("JSON Schema of the result."),
                },
                required=["name", "description"],
            ),
            "httpConfig": obj(
                "HTTP endpoint settings.",
                {
                    "endpoint": string("URL called with the tool arguments.", min_length=1, max_length=2048),
                    "method": string("HTTP method.", enum=["GET", "POST", "PUT", "PATCH", "DELETE"], default="POST"),
                    "headers": string_map("Static headers.", max_properties=64),
                    "contentType": string("Request content type.", default="application/json", max_length=256),
                    "queryParams": array(
                        "Arguments sent as query parameters.", string("Argument name.", max_length=256)
                    ),
                    "headerParams": string_map("Arguments sent as headers: argument name to header name."),
                    "staticQuery": string_map("Query parameters added to every call."),
                    "staticBody": any_value("JSON merged into every request body."),
                    "bodyMapping": string("JMESPath expression shaping the request body.", max_length=4096),
                    "responseMapping": string("JMESPath expression shaping the result.", max_length=4096),
                    "redact": array(
                        "Top-level result fields replaced by [REDACTED].", string("Field name.", max_length=256)
                    ),
                    "urlTemplate": string("URL with {arg} placeholders; replaces endpoint.", max_length=2048),
                    "retryPolicy": _http_retry(),
                },
                required=["endpoint"],
            ),
            "openAPIConfig": obj(
                "OpenAPI-described service: one tool per operation.",
                {
                    "specURL": string("URL of the OpenAPI document.", min_length=1, max_length=2048),
                    "baseURL": string("Base URL of calls; defaults to the document's first server.", max_length=2048),
                    "operationFilter": array(
                        "operationIds to expose; all when empty.", string("operationId.", max_length=256)
                    ),
                    "headers": string_map("Static headers.", max_properties=64),
                    "retryPolicy": _http_retry(),
                },
                required=["specURL"],
            ),
            "grpcConfig": obj(
                "gRPC backend implementing omnia.tools.v1.ToolService.",
                {
                    "endpoint": string("host:port of the service.", min_length=1, max_length=1024),
                    "tls": boolean("Use TLS.", default=False),
                    "tlsCertPath": string("Client certificate path.", max_length=4096),
                    "tlsKeyPath": string("Client key path.", max_length=4096),
                    "tlsCAPath": string("CA bundle path.", max_length=4096),
                    "tlsInsecureSkipVerify": boolean(
                        "Skip server certificate verification (testing only).", default=False
                    ),
                    "retryPolicy": obj(
                        "Retry policy for gRPC calls.",
                        {
                            **_retry_common(),
                            "retryableStatusCodes": array(
                                "gRPC status names that are retried.", string("Status name.", max_length=64)
                            ),
                        },
                        required=["maxAttempts"],
                    ),
                },
                required=["endpoint"],
            ),
            "mcpConfig": obj(
                "Model Context Protocol server.",
                {
                    "transport": string("How to reach the server.", enum=["sse", "stdio", "streamable-http"]),
                    "endpoint": string("URL for sse and streamable-http.", max_length=2048),
                    "command": string("Executable for stdio.", max_length=4096),
                    "args": array("Arguments for stdio.", string("Argument.", max_length=4096)),
                    "workDir": string("Working directory for stdio.", max_length=4096),
                    "env": string_map("Environment of the stdio process."),
                    "toolFilter": obj(
                        "Which discovered tools are offered.",
                        {
                            "allowlist": array("Only these tools.", string("Tool name.", max_length=256)),
                            "blocklist": array("All but these tools.", string("Tool name.", max_length=256)),
                        },
                    ),
                    "retryPolicy": obj("Retry policy for MCP calls.", _retry_common(), required=["maxAttempts"]),
                },
                required=["transport"],
                rules=[
                    Rule(
                        "self.transport == 'stdio' || has(self.endpoint)",
                        "mcpConfig.endpoint is required for sse and streamable-http",
                    ),
                    Rule("self.transport != 'stdio' || has(self.command)", "mcpConfig.command is required for stdio"),
                ],
            ),
            "clientConfig": obj(
                "Tool executed by the client over the WebSocket.",
                {
                    "consentMessage": string("Message the client shows before running the tool.", max_length=4096),
                    "categories": array(
                        "Categories the client may use to group consent.", string("Category.", max_length=256)
                    ),
                },
            ),
            "auth": obj(
                "Credentials sent to the backend; they reach the runtime as a mounted file, never inline.",
                {
                    "type": string("Authentication scheme.", enum=["none", "bearer", "basic"], default="none"),
                    "secretRef": secret_key_ref("token (bearer) or user:password (basic)"),
                },
                rules=[Rule("self.type == 'none' || has(self.secretRef)", "auth.type bearer/basic requires secretRef")],
            ),
            "timeout": duration("Timeout of one call.", default="30s"),
            "selector": obj(
                "Service discovery: the endpoint is the cluster DNS name of the Service matching these labels "
                "(<service>.<namespace>.svc.cluster.local:<port>); for URLs the scheme and path of the configured "
                "endpoint are kept.",
                {
                    "matchLabels": string_map("Labels the Service must carry.", max_properties=32),
                    "namespace": string("Namespace of the Service; defaults to the registry's.", max_length=63),
                    "port": integer("Service port; defaults to the Service's first port.", minimum=1, maximum=65535),
                },
                required=["matchLabels"],
            ),
        },
        required=["name", "type"],
        rules=[
            Rule(
                "!(self.type in ['http', 'client']) || has(self.tool)",
                "handlers of type http and client need tool",
            ),
            Rule("self.type != 'http' || has(self.httpConfig)", "handlers of type http need httpConfig"),
            Rule("self.type != 'openapi' || has(self.openAPIConfig)", "handlers of type openapi need openAPIConfig"),
            Rule("self.type != 'grpc' || has(self.grpcConfig)", "handlers of type grpc need grpcConfig"),
            Rule("self.type != 'mcp' || has(self.mcpConfig)", "handlers of type mcp need mcpConfig"),
        ],
    )


def spec_schema() -> JsonSchema:
    return obj(
        "Desired state of the ToolRegistry.",
        {
            "handlers": array(
                "Tool handlers; names are unique.",
                _handler(),
                min_items=1,
                max_items=64,
                list_type="map",
                map_keys=["name"],
            ),
        },
        required=["handlers"],
    )


def status_schema() -> JsonSchema:
    return obj(
        "Observed state of the ToolRegistry.",
        {
            "phase": string("Pending, Ready, Degraded or Failed.", enum=TOOLREGISTRY_PHASES),
            "discoveredToolsCount": integer("Number of tools offered.", minimum=0),
            "discoveredTools": array(
                "Tools offered by the handlers.",
                obj(
                    "One offered tool.",
                    {
                        "name": string("Tool name.", max_length=256),
                        "handlerName": string("Handler serving it.", max_length=63),
                        "description": string("Tool description.", max_length=4096),
                        "inputSchema": free_form("JSON Schema of the arguments."),
                        "outputSchema": free_form("JSON Schema of the result."),
                        "endpoint": string("Resolved endpoint.", max_length=2048),
                        "status": string("Availability.", enum=["Available", "Unavailable", "Unknown"]),
                        "lastChecked": string("When the tool was last checked.", fmt="date-time"),
                        "error": string("Why the tool is unavailable.", max_length=4096),
                    },
                    required=["name", "handlerName"],
                ),
            ),
            "lastDiscoveryTime": string("When tools were last discovered.", fmt="date-time"),
            "conditions": conditions(),
            "observedGeneration": observed_generation(),
        },
    )
