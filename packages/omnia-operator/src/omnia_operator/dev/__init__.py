"""Local mode (`omnia-operator dev`): run an agent on the developer's machine from the YAML a user applies.

`plan.py` resolves the manifests with the operator's own resolution code (`resolve_agent`), `files.py` writes what
the pod would mount, `env.py` turns the plan's container env into process env, `processes.py` runs the runtime and
the facade as two child processes, and `cli.py` ties them together.
"""
