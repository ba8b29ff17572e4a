"""The script host: every workflow script is evaluated in a child process, never in the daemon or CLI.

The child (``guest``) holds the script, its dialect's interpreter and the fan-out logic; it can only ask
the parent for agents, checks, answers and nested workflows, one JSON message per line over a pipe. The
parent (``process``) keeps the budget, the store, the scheduler and the agents, and confines the child
with the operating system (``confine``): an empty environment, no network, no file system beyond what
the interpreter reads, an address-space limit and a CPU watchdog.
"""
