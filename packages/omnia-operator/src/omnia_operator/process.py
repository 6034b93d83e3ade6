"""The operator process (filled in once the controller machinery lands)."""

from omnia_operator.errors import ConfigError
from omnia_operator.settings import OperatorSettings


async def run_operator(settings: OperatorSettings) -> int:
    raise ConfigError(f"omnia-operator run is not available yet (settings: workers={settings.workers})")
