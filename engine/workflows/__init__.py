"""What a workflow is: a script file and its ``meta`` (``meta``), loaded and checked (``workflow``),
found by name (``discovery``), and the two dialects that compile and run it with their static rules
(``dialects``: Python and Claude Code's JavaScript). The built-in workflows live in ``builtin/``.

May use: schema, settings, errors. The runtime runs workflows; workflows never import the runtime
(the dialects are handed a context object when a script runs).
"""
