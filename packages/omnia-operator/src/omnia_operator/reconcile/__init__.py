"""Level-based reconcilers for AgentRuntime, Provider and PromptPack, and the watch mappings between kinds."""
