"""AgentRuntime: one deployed agent (facade + runtime pod) bound to a pack, providers and tools.

Shape = upstream HEAD's core (`providers[]`, `facades[]`, `context`, `runtime`, `media`). Fields the
upstream samples use for features we do not run yet (function mode, non-websocket facades, other
frameworks, memory) are declared so those manifests are accepted, and the operator reports them on the
`Ready` condition and with a Warning Event instead of ignoring them.
"""

from omnia_operator.api.schema.common import (
    DNS_LABEL,
    conditions,
    duration,
    object_ref,
    observed_generation,
)
from omnia_operator.api.schema.dsl import (
    JsonSchema,
    Rule,
    array,
    boolean,
    free_form,
    free_form_list,
    integer,
    obj,
    string,
    string_map,
)
from omnia_operator.api.schema.provider import CAPABILITIES, ROLES

FACADE_TYPES = ["websocket", "a2a", "rest", "mcp", "custom"]
HANDLER_MODES = ["runtime", "demo", "echo"]
AGENT_PHASES = ["Pending", "Running", "Failed"]

_SPEC_RULES = [
    Rule(
        "self.mode != 'function' || has(self.inputSchema)", "spec.inputSchema is required when spec.mode is 'function'"
    ),
    Rule(
        "self.mode != 'function' || has(self.outputSchema)",
        "spec.outputSchema is required when spec.mode is 'function'",
    ),
    Rule(
        "self.mode == 'function' || !has(self.inputSchema)",
        "spec.inputSchema is only valid when spec.mode is 'function'",
    ),
    Rule(
        "self.mode == 'function' || !has(self.outputSchema)",
        "spec.outputSchema is only valid when spec.mode is 'function'",
    ),
    Rule(
        "self.mode == 'function' || !has(self.outputFormat)",
        "spec.outputFormat is only valid when spec.mode is 'function'",
    ),
    Rule(
        "self.facades.all(f, self.facades.exists_one(g, g.type == f.type))",
        "spec.facades must not contain duplicate facade types",
    ),
    Rule(
        "self.mode != 'agent' || self.facades.all(f, f.type == 'websocket' || f.type == 'a2a' || f.type == 'custom')",
        "mode 'agent' allows only 'websocket', 'a2a' and 'custom' facades",
    ),
    Rule(
        "self.mode != 'function' || self.facades.all(f, f.type == 'rest' || f.type == 'mcp')",
        "mode 'function' allows only 'rest' and 'mcp' facades",
    ),
    Rule(
        "self.mode != 'function' || self.facades.exists_one(f, f.type == 'rest')",
        "mode 'function' requires exactly one 'rest' facade",
    ),
    Rule(
        "self.facades.all(f, f.type != 'custom' || (has(f.image) && size(f.image) > 0))",
        "facade type 'custom' requires spec.facades[].image",
    ),
]


def _facade() -> JsonSchema:
    return obj(
        "One protocol surface of the agent.",
        {
            "type": string(
                "Protocol served; websocket is the one this operator runs today.",
                enum=FACADE_TYPES,
                default="websocket",
            ),
            "port": integer("Port the facade listens on.", minimum=1, maximum=65535, default=8080),
            "handler": string(
                "runtime forwards messages to the runtime container; demo and echo answer without an LLM.",
                enum=HANDLER_MODES,
                default="runtime",
            ),
            "image": string("Facade image override.", max_length=1024),
            "extraEnv": free_form_list("Extra environment variables (Kubernetes EnvVar) for the facade container."),
            "drainTimeout": duration("How long open connections are served after SIGTERM.", default="30s"),
            "clientToolTimeout": duration("Longest wait for a client-executed tool result.", default="60s"),
        },
    )


def _autoscaling() -> JsonSchema:
    return obj(
        "Horizontal autoscaling of the agent Deployment.",
        {
            "enabled": boolean("Create an autoscaler instead of fixed replicas.", default=False),
            "type": string(
                "hpa (CPU/memory) or keda (open connections; needs KEDA installed).",
                enum=["hpa", "keda"],
                default="hpa",
            ),
            "minReplicas": integer("Lowest replica count; 0 allows scale to zero with keda.", minimum=0, default=1),
            "maxReplicas": integer("Highest replica count.", minimum=1, default=100),
            "targetMemoryUtilizationPercentage": integer("Target memory use.", minimum=1, maximum=100, default=70),
            "targetCPUUtilizationPercentage": integer("Target CPU use.", minimum=1, maximum=100, default=90),
            "scaleDownStabilizationSeconds": integer(
                "Scale-down stabilisation window.", minimum=0, maximum=3600, default=300
            ),
        },
        rules=[Rule("self.minReplicas <= self.maxReplicas", "autoscaling.minReplicas must not exceed maxReplicas")],
    )


def spec_schema() -> JsonSchema:
    return obj(
        "Desired state of the AgentRuntime.",
        {
            "mode": string(
                "agent = conversational; function = one-shot structured calls (not supported yet).",
                enum=["agent", "function"],
                default="agent",
            ),
            "inputSchema": free_form("JSON Schema of function-mode input (function mode only)."),
            "outputSchema": free_form("JSON Schema of function-mode output (function mode only)."),
            "outputFormat": string("Function-mode output format.", enum=["text", "json", "json_schema"]),
            "framework": obj(
                "Agent framework of the runtime container.",
                {
                    "type": string(
                        "Framework; promptkit is the built-in runtime.",
                        enum=["promptkit", "langchain", "custom"],
                        default="promptkit",
                    ),
                    "version": string("Version hint.", max_length=128),
                    "image": string("Runtime image override.", max_length=1024),
                },
            ),
            "promptPackRef": obj(
                "The PromptPack to run, by its packName (or object name).",
                {
                    "name": string("packName of the PromptPack.", min_length=1, max_length=253),
                    "version": string("Exact version to run; must match the pack's spec.version.", max_length=128),
                    "track": string("Release channel to follow.", enum=["stable", "prerelease"]),
                },
                required=["name"],
                rules=[
                    Rule("!(has(self.version) && has(self.track))", "set promptPackRef.version or .track, not both")
                ],
            ),
            "facades": array(
                "Protocol surfaces; one per type.",
                _facade(),
                min_items=1,
                max_items=4,
                list_type="atomic",
            ),
            "toolRegistryRef": object_ref("ToolRegistry (same namespace)", namespaced=True),
            "providers": array(
                "Named Provider bindings; the binding called default is the agent's LLM.",
                obj(
                    "One provider binding.",
                    {
                        "name": string("Binding name; default is the main LLM.", pattern=DNS_LABEL, max_length=63),
                        "providerRef": object_ref("Provider", namespaced=True),
                        "role": string(
                            "Role the provider plays; must equal the Provider's spec.role.", enum=ROLES, default="llm"
                        ),
                        "requiredCapabilities": array(
                            "Capabilities the Provider must declare.", string("Capability.", enum=CAPABILITIES)
                        ),
                    },
                    required=["name", "providerRef"],
                ),
                max_items=16,
                list_type="map",
                map_keys=["name"],
            ),
            "context": obj(
                "Conversation state store of the runtime and session store of the facade.",
                {
                    "type": string(
                        "memory (per pod) or redis (shared, survives restarts).",
                        enum=["memory", "redis"],
                        default="memory",
                    ),
                    "storeRef": obj(
                        "Secret whose key url holds the Redis URL.",
                        {"name": string("Name of the Secret.", min_length=1, max_length=253)},
                        required=["name"],
                    ),
                    "ttl": duration("How long an idle conversation is kept.", default="24h"),
                },
                rules=[
                    Rule(
                        "self.type == 'memory' || has(self.storeRef)",
                        "spec.context.storeRef is required when context.type is 'redis'",
                    )
                ],
            ),
            "runtime": obj(
                "Pod settings of the agent.",
                {
                    "replicas": integer("Pod count; ignored when autoscaling is enabled.", minimum=0, default=1),
                    "resources": free_form("Resources (Kubernetes ResourceRequirements) of the runtime container."),
                    "nodeSelector": string_map("Node labels the pod must run on."),
                    "tolerations": free_form_list("Tolerations (Kubernetes Toleration) of the pod."),
                    "affinity": free_form("Affinity (Kubernetes Affinity) of the pod."),
                    "volumes": free_form_list("Extra volumes (Kubernetes Volume) of the pod."),
                    "volumeMounts": free_form_list(
                        "Extra volume mounts (Kubernetes VolumeMount) of the runtime container."
                    ),
                    "extraEnv": free_form_list(
                        "Extra environment variables (Kubernetes EnvVar) of the runtime container."
                    ),
                    "autoscaling": _autoscaling(),
                },
            ),
            "media": obj(
                "Media (file upload) support.",
                {
                    "basePath": string(
                        "Base directory for mock:// media URLs.", default="/etc/omnia/media", max_length=4096
                    ),
                    "storage": obj(
                        "Where uploaded files go.",
                        {
                            "type": string(
                                "none disables uploads; local keeps them on a volume.",
                                enum=["none", "local"],
                                default="none",
                            ),
                            "local": obj(
                                "Local storage settings.",
                                {
                                    "basePath": string(
                                        "Directory in the facade container.",
                                        default="/var/lib/omnia/media",
                                        max_length=4096,
                                    ),
                                    "volumeClaim": string(
                                        "PersistentVolumeClaim mounted there; emptyDir when unset.", max_length=253
                                    ),
                                },
                            ),
                            "maxFileSizeBytes": integer("Largest upload.", minimum=1, fmt="int64"),
                            "defaultTTL": duration("How long uploads are kept."),
                            "uploadURLTTL": duration("Validity of upload URLs."),
                            "downloadURLTTL": duration("Validity of download URLs."),
                        },
                    ),
                },
            ),
            "memory": obj(
                "Cross-session memory (accepted for compatibility; not supported yet).",
                {"enabled": boolean("Enable cross-session memory.", default=False)},
            ),
            "extraPodAnnotations": string_map("Annotations added to the agent pods."),
        },
        required=["promptPackRef", "facades"],
        rules=_SPEC_RULES,
    )


def status_schema() -> JsonSchema:
    return obj(
        "Observed state of the AgentRuntime.",
        {
            "phase": string(
                "Pending until a pod is ready, Running when one is, Failed when configuration is wrong.",
                enum=AGENT_PHASES,
            ),
            "replicas": obj(
                "Pod counts of the agent Deployment.",
                {
                    "desired": integer("Requested pods.", minimum=0),
                    "ready": integer("Ready pods.", minimum=0),
                    "available": integer("Available pods.", minimum=0),
                },
            ),
            "activeVersion": string("PromptPack version the pods run.", max_length=128),
            "serviceEndpoint": string("In-cluster host:port of the agent's WebSocket facade.", max_length=1024),
            "rollout": obj(
                "Canary rollout of the agent's PromptPack.",
                {
                    "active": boolean("A canary Deployment runs beside the stable one."),
                    "stableVersion": string("Version of the stable pods.", max_length=128),
                    "candidateVersion": string("Version of the canary pods.", max_length=128),
                    "currentWeight": integer("Requested canary weight in percent.", minimum=0, maximum=100),
                    "approximateWeight": integer(
                        "Canary share of the replicas (what traffic approximately gets).", minimum=0, maximum=100
                    ),
                    "trafficWeightEnforced": boolean("False: traffic is split by replica counts only."),
                    "trafficRoutingMode": string("replicaWeighted.", max_length=32),
                    "message": string("What the rollout does.", max_length=4096),
                },
            ),
            "conditions": conditions(),
            "observedGeneration": observed_generation(),
        },
    )
