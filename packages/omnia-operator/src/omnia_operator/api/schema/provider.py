"""Provider: one reusable LLM endpoint (vendor, model, credentials, defaults, pricing).

The vendor x role table and its CEL rules follow the upstream CRD so manifests move across unchanged.
Hyperscaler hosting (`platform`/`auth`) and the tts/stt/embedding blocks are not declared: the runtime
cannot use them yet, and an undeclared field is rejected by the API server instead of being ignored.
"""

from omnia_operator.api.schema.common import conditions, observed_generation
from omnia_operator.api.schema.dsl import JsonSchema, Rule, array, integer, obj, string, string_map

PROVIDER_TYPES = [
    "claude",
    "openai",
    "gemini",
    "ollama",
    "mock",
    "vllm",
    "voyageai",
    "cartesia",
    "elevenlabs",
    "imagen",
    "huggingface",
]
LLM_TYPES = ["claude", "openai", "gemini", "ollama", "mock", "vllm"]
ROLES = ["llm", "embedding", "tts", "stt", "image", "inference"]
CAPABILITIES = ["text", "streaming", "vision", "tools", "json", "audio", "video", "documents", "duplex"]
PROVIDER_PHASES = ["Ready", "Error", "Unavailable"]

_ROLE_TYPES = {
    "llm": LLM_TYPES,
    "embedding": ["openai", "voyageai", "gemini", "ollama"],
    "tts": ["openai", "cartesia", "elevenlabs"],
    "stt": ["openai"],
    "image": ["imagen"],
    "inference": ["huggingface"],
}
_SINGLE_ROLE_VENDORS = {
    "huggingface": "inference",
    "voyageai": "embedding",
    "cartesia": "tts",
    "elevenlabs": "tts",
    "imagen": "image",
}


def _rules() -> list[Rule]:
    rules: list[Rule] = []
    for role, types in _ROLE_TYPES.items():
        quoted = ", ".join(f"'{t}'" for t in types)
        rules.append(
            Rule(
                f"self.role != '{role}' || self.type in [{quoted}]",
                f"role '{role}' requires type in [{', '.join(types)}]",
            )
        )
    for vendor, role in _SINGLE_ROLE_VENDORS.items():
        rules.append(
            Rule(
                f"self.type != '{vendor}' || self.role == '{role}'",
                f"{vendor} is {'an' if role[0] in 'aeiou' else 'a'} {role}-only vendor; set spec.role to '{role}'",
            )
        )
    rules.append(
        Rule(
            "self.type == 'mock' || (has(self.model) && size(self.model) > 0)",
            "spec.model is required for all provider types except mock",
        )
    )
    return rules


def spec_schema() -> JsonSchema:
    return obj(
        "Desired state of the Provider.",
        {
            "type": string("Vendor / wire protocol of the endpoint.", enum=PROVIDER_TYPES),
            "role": string("What the provider is used for; agents bind it under a role.", enum=ROLES, default="llm"),
            "model": string(
                "Model identifier sent to the vendor, e.g. gpt-4o. Required except for mock.", max_length=256
            ),
            "baseURL": string(
                "Endpoint override (proxies, OpenRouter, vLLM, Ollama); empty uses the vendor default.", max_length=2048
            ),
            "headers": string_map("Extra HTTP headers sent with every request to the provider.", max_properties=64),
            "credential": obj(
                "Where the API key comes from; set at most one of secretRef, envVar, filePath.",
                {
                    "secretRef": obj(
                        "Secret in this namespace holding the API key.",
                        {
                            "name": string("Name of the Secret.", min_length=1, max_length=253),
                            "key": string(
                                "Key holding the API key; when omitted the vendor's usual names are tried "
                                "(e.g. OPENAI_API_KEY, then api-key).",
                                max_length=253,
                            ),
                        },
                        required=["name"],
                    ),
                    "envVar": string(
                        "Name of an environment variable of the runtime container that holds the key.",
                        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                        max_length=256,
                    ),
                    "filePath": string(
                        "Absolute path of a file in the runtime container that holds the key.",
                        pattern=r"^/.*",
                        max_length=4096,
                    ),
                },
                rules=[
                    Rule(
                        "(has(self.secretRef) ? 1 : 0) + (has(self.envVar) ? 1 : 0)"
                        " + (has(self.filePath) ? 1 : 0) <= 1",
                        "at most one credential method may be specified",
                    )
                ],
            ),
            "defaults": obj(
                "Default generation parameters.",
                {
                    "temperature": string('Sampling temperature as a decimal string, e.g. "0.7".', max_length=16),
                    "topP": string('Nucleus sampling as a decimal string, e.g. "0.9".', max_length=16),
                    "maxTokens": integer("Maximum tokens generated per response.", minimum=1),
                    "contextWindow": integer("Context window of the model, in tokens.", minimum=1),
                    "truncationStrategy": string(
                        "How history is cut when it exceeds the context window.",
                        enum=["sliding", "summarize", "custom"],
                        default="sliding",
                    ),
                    "requestTimeout": string("Timeout of one provider request (Go duration).", max_length=32),
                    "streamIdleTimeout": string("Longest silence in a stream before it is abandoned.", max_length=32),
                },
            ),
            "pricing": obj(
                "Cost per 1000 tokens in USD, used for cost metrics.",
                {
                    "inputCostPer1K": string("USD per 1K input tokens, as a decimal string.", max_length=32),
                    "outputCostPer1K": string("USD per 1K output tokens, as a decimal string.", max_length=32),
                    "cachedCostPer1K": string("USD per 1K cached input tokens, as a decimal string.", max_length=32),
                },
            ),
            "capabilities": array(
                "Features the model supports; agents may require some of them.",
                string("One capability.", enum=CAPABILITIES),
                max_items=len(CAPABILITIES),
            ),
        },
        required=["type"],
        rules=_rules(),
    )


def status_schema() -> JsonSchema:
    return obj(
        "Observed state of the Provider.",
        {
            "phase": string(
                "Ready when the provider is usable, Error when its configuration is not.", enum=PROVIDER_PHASES
            ),
            "conditions": conditions(),
            "observedGeneration": observed_generation(),
        },
    )
