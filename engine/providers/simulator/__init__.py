"""The Messages-API simulator: the Anthropic Messages API on loopback, answering from a scenario."""

from .cache import CacheResult, PromptCache
from .server import SimulatorServer, SimulatorThread

__all__ = ["CacheResult", "PromptCache", "SimulatorServer", "SimulatorThread"]
