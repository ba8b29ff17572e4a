"""Workcrew's language server (pygls): workflows from the editor, findings as diagnostics."""
