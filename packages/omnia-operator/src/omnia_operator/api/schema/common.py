"""Schema fragments shared by several kinds: references, durations, conditions."""

from omnia_operator.api.schema.dsl import JsonSchema, array, integer, obj, string

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
SEMVER = r"^v?(\d+)\.(\d+)\.(\d+)(-[a-zA-Z0-9]+(\.[a-zA-Z0-9]+)*)?(\+[a-zA-Z0-9]+(\.[a-zA-Z0-9]+)*)?$"


def duration(description: str, *, default: str | None = None) -> JsonSchema:
    return string(
        f"{description} A Go-style duration such as 30s, 5m, 1h30m.", default=default, pattern=DURATION, max_length=32
    )


def object_ref(what: str, *, namespaced: bool) -> JsonSchema:
    props: dict[str, JsonSchema] = {
        "name": string(f"Name of the {what}.", min_length=1, max_length=253),
    }
    if namespaced:
        props["namespace"] = string(
            f"Namespace of the {what}; defaults to the namespace of this object.", max_length=63
        )
    return obj(f"Reference to a {what}.", props, required=["name"])


def secret_key_ref(what: str) -> JsonSchema:
    return obj(
        f"Secret in this namespace holding the {what}.",
        {
            "name": string("Name of the Secret.", min_length=1, max_length=253),
            "key": string("Key inside the Secret; when omitted a default key is looked up.", max_length=253),
        },
        required=["name"],
    )


def conditions() -> JsonSchema:
    return array(
        "Latest observations of the object's state; each type appears once.",
        obj(
            "One condition in the standard Kubernetes shape.",
            {
                "type": string("Condition type, for example Ready.", max_length=316),
                "status": string("True, False or Unknown.", enum=["True", "False", "Unknown"]),
                "reason": string("CamelCase machine-readable reason for the last transition.", max_length=1024),
                "message": string("Human-readable explanation, saying what to fix when False.", max_length=32768),
                "lastTransitionTime": string("When the status last changed.", fmt="date-time"),
                "observedGeneration": integer(
                    "metadata.generation the condition was computed from.", minimum=0, fmt="int64"
                ),
            },
            required=["type", "status", "lastTransitionTime"],
        ),
        list_type="map",
        map_keys=["type"],
    )


def observed_generation() -> JsonSchema:
    return integer("The metadata.generation the controller last acted upon.", minimum=0, fmt="int64")
