"""Running a workflow: ``run`` (start, the handle, the result), ``context`` (the primitives a script
calls, served in this process), ``state`` (what a run and its child workflows share), ``scheduler``
(the concurrency cap), ``events``, ``resume`` (reusing an earlier run's agents) and ``scripthost``
(the confined child process every script runs in).

May use: agents, commands, cost's ``pricing`` and ``budget``, workflows, results, providers, the store,
settings and errors. Only the CLI, the server and ``cost.estimate``/``cost.dryrun`` sit above it.
"""
