"""The run store: runs, agents, events, logs, findings, dismissals and approvals in one SQLite database
per state folder (``database``), its tables (``schema``) and the rows the writer thread batches (``rows``).

May use: redaction, text. Everything that records a run uses it; it uses nothing above it.
"""

from . import controls
from .database import RunStore, StoreError

__all__ = ["RunStore", "StoreError", "controls"]
