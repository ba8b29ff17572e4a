"""Running workflows: scheduler, primitives, run lifecycle."""
