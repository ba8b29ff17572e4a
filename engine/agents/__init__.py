"""Agents: one model conversation run to its answer (``loop``), the tools it may call (``tools``), the
workspace it sees — an in-memory overlay or a private git worktree (``isolation``) — and the patch its
edits make (``patches``).

May use: providers (the model client), commands (``run_command``), workspace (path rules), schema,
redaction, settings, errors. Never the runtime: the runtime hands agents what they need.
"""
