"""Results: findings (what a run reports, with evidence and fixes) and the reports made of a finished
run (``report``: Markdown and SARIF). May use the store, settings and errors; never agents or the
runtime."""
