"""Where an agent works: its tools and, when isolated, its private copy of the workspace.

The runtime asks an environment factory for one per agent (``agents.isolation.workspace_environment``
in a run, a recording one in a dry run) and calls :meth:`AgentEnvironment.finish` when the agent ends.
"""

from __future__ import annotations

from ..results.findings import Patch
from .loop import ToolBox


class AgentEnvironment:
    """Where an agent works: its tools and, when isolated, its private copy of the workspace."""

    toolbox: ToolBox | None = None

    async def finish(self, succeeded: bool) -> Patch | None:
        return None
