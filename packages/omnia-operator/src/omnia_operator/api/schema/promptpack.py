"""PromptPack: a compiled pack (pack.json in a ConfigMap) with a version and a rollout strategy.

Unlike upstream HEAD, the spec is mutable: a new version is an update of the same object (the v0.2
model), so `packName` is optional (it defaults to the object name) and `rollout` is kept. A canary
rollout moves traffic (replica-weighted, approximate; see reconcile/rollout.py); `skills` are accepted for
manifest compatibility and reported as unsupported.
"""

from omnia_operator.api.schema.common import DNS_LABEL, SEMVER, conditions, duration, observed_generation
from omnia_operator.api.schema.dsl import JsonSchema, Rule, array, boolean, integer, obj, string

PROMPTPACK_PHASES = ["Pending", "Active", "Canary", "Superseded", "Failed"]


def spec_schema() -> JsonSchema:
    return obj(
        "Desired state of the PromptPack.",
        {
            "packName": string(
                "Logical pack name agents refer to in promptPackRef.name; defaults to the object name.",
                min_length=1,
                max_length=253,
            ),
            "version": string(
                "Semantic version of the pack content (a leading v is allowed).", pattern=SEMVER, max_length=128
            ),
            "source": obj(
                "Where the compiled pack.json lives.",
                {
                    "type": string("Kind of source; only configmap is supported.", enum=["configmap"]),
                    "configMapRef": obj(
                        "ConfigMap in this namespace whose key pack.json holds the pack.",
                        {"name": string("Name of the ConfigMap.", min_length=1, max_length=253)},
                        required=["name"],
                    ),
                },
                required=["type"],
                rules=[
                    Rule(
                        "self.type != 'configmap' || has(self.configMapRef)",
                        "source.configMapRef is required when source.type is configmap",
                    )
                ],
            ),
            "rollout": obj(
                "How agents move to a new version of this pack.",
                {
                    "type": string(
                        "immediate switches every agent at once; canary shifts traffic in steps.",
                        enum=["immediate", "canary"],
                        default="immediate",
                    ),
                    "canary": obj(
                        "Canary steps (used when type is canary).",
                        {
                            "weight": integer(
                                "Initial share of traffic, in percent, sent to the new version.",
                                minimum=0,
                                maximum=100,
                                default=10,
                            ),
                            "stepWeight": integer("Percent added at every step.", minimum=1, maximum=100, default=10),
                            "interval": duration("Time between steps.", default="5m"),
                            "progressDeadline": duration(
                                "How long candidate pods may take to become ready at each step before the rollout "
                                "rolls back automatically.",
                                default="10m",
                            ),
                        },
                    ),
                    "paused": boolean(
                        "Hold a canary at its current weight (the annotation "
                        'omnia.altairalabs.ai/rollout-paused: "true" does the same).',
                        default=False,
                    ),
                },
                rules=[
                    Rule("self.type != 'canary' || has(self.canary)", "rollout.canary is required when type is canary")
                ],
            ),
            "skills": array(
                "Skill sources mounted into the pack (accepted for compatibility; not supported yet).",
                obj(
                    "One skill source.",
                    {
                        "source": string("Name of the SkillSource.", min_length=1, max_length=253),
                        "include": array("Skills to include; all when empty.", string("Skill name.", max_length=253)),
                        "mountAs": string(
                            "Directory name the skills are mounted under.", pattern=DNS_LABEL, max_length=63
                        ),
                    },
                    required=["source"],
                ),
                max_items=32,
            ),
        },
        required=["version", "source"],
    )


def status_schema() -> JsonSchema:
    return obj(
        "Observed state of the PromptPack.",
        {
            "phase": string("Lifecycle phase of the pack.", enum=PROMPTPACK_PHASES),
            "activeVersion": string("Version agents currently receive.", max_length=128),
            "canaryVersion": string("Version being rolled out as a canary.", max_length=128),
            "canaryWeight": integer(
                "Requested percent of traffic on the canary version. Approximate: traffic is split by replica "
                "counts of the stable and canary Deployments behind the agent Service (see trafficWeightEnforced).",
                minimum=0,
                maximum=100,
            ),
            "trafficWeightEnforced": boolean("False: the weight is approximated by replica counts, not enforced."),
            "activeSnapshot": string("Immutable ConfigMap holding the active version's pack.json.", max_length=253),
            "canarySnapshot": string("Immutable ConfigMap holding the canary version's pack.json.", max_length=253),
            "canaryStartedAt": string("When the canary started.", fmt="date-time"),
            "stepStartedAt": string("When the current canary step started.", fmt="date-time"),
            "paused": boolean("The canary is paused."),
            "rolledBackSnapshot": string(
                "Snapshot whose canary was rolled back; it is not retried until the pack changes.", max_length=253
            ),
            "rolloutMessage": string("What the rollout is doing or why it rolled back.", max_length=4096),
            "agents": array(
                "Rollout state per agent using this pack.",
                obj(
                    "One agent.",
                    {
                        "name": string("AgentRuntime name.", max_length=253),
                        "state": string("Stable, Canary or Waiting.", max_length=32),
                        "canaryReplicas": integer("Candidate pods requested.", minimum=0),
                        "canaryReadyReplicas": integer("Candidate pods ready.", minimum=0),
                    },
                    required=["name", "state"],
                ),
                max_items=256,
            ),
            "lastUpdated": string("When the status last changed.", fmt="date-time"),
            "conditions": conditions(),
            "observedGeneration": observed_generation(),
        },
    )
