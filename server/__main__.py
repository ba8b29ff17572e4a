"""``python -m workcrew.server``: the language server on stdio (same as ``workcrew serve``)."""

from .cli import main

main()
