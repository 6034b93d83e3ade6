"""Pure resolution: from an AgentRuntime and an object source to the children the operator creates.

The same code serves the reconciler (source = informer caches / API), `omnia-operator render`
(source = parsed YAML files) and local dev mode. Nothing here writes anything.
"""
