"""Workflow script dialects: Python (``.py``) and Claude Code's JavaScript (``.js``)."""
