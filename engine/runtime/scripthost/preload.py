"""What the script host child does before it reads a script: import and compile once, while it waits as a spare.

Everything here is the engine's own trusted code, run before the child confines itself; whatever it
loads or builds is then not paid for on a run's clock.
"""

from __future__ import annotations

WARM_UP_PY = 'meta = {"name": "warm-up", "description": "compiled once before any script"}\nreturn None\n'
WARM_UP_JS = "export const meta = {name: 'warm-up', description: 'compiled once before any script'}\nreturn null\n"


def preload() -> None:
    """Import what scripts need before reading one (trusted code, while the child waits as a spare)."""
    import pydantic  # noqa: F401

    from ... import schema  # noqa: F401
    from ...results import findings  # noqa: F401
    from ...workflows.dialects import python
    from ...workflows.workflow import dialect_module  # noqa: F401

    # a first compile builds what every later one reuses (the tokenizer's patterns, the sandbox's tables):
    # done while the spare waits, not on the run's clock
    python.compile_body(WARM_UP_PY, "<warm-up>")
    try:
        from ...workflows.dialects import javascript
    except ImportError:  # without the js extra, .js scripts fail to load with a clear error
        pass
    else:
        javascript.compile_body(WARM_UP_JS, "<warm-up>")
    try:  # its extension module is loaded before the child confines itself
        import uvloop  # noqa: F401
    except ImportError:
        pass
