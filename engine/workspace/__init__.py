"""The user's workspace: which files a run looks at (``scope``: walking, ignore and secret rules, token
estimates), where agents and commands may look (``paths``), and writing a workflow script from a
request with a model (``authoring``).
"""
