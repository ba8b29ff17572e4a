"""The built-in `understand` workflow: parallel readers, one synthesized map, honest about unread modules."""

from __future__ import annotations

from .conftest import RunBuiltin, fixture_scenario


async def test_understand_builds_one_map_of_the_modules(run_builtin: RunBuiltin) -> None:
    run = await run_builtin("understand")
    assert run.outcome.status == "succeeded", run.outcome.error
    assert run.outcome.agents["launched"] == 4 and run.outcome.agents["failed"] == 0
    result = run.result
    assert [c["name"] for c in result["map"]["components"]] == ["Domain", "Persistence", "Interface"]
    assert [m["module"] for m in result["modules"]] == ["shop/models.py", "shop/store.py", "shop/cli.py"]
    assert result["counts"] == {"modules": 3, "read": 3, "dropped": 0}
    md = run.report_md
    assert "Map of 3 of 3 modules." in md
    assert "- **Persistence** (shop/store.py): orders.json load/save" in md
    assert "Answer: In shop/store.py: OrderStore.save writes every order to orders.json." in md
    assert "| Read | 3 | 3 | 0 |" in md and "| Synthesize | 1 | 1 | 0 |" in md
    assert run.sarif()["runs"][0]["results"] == []


async def test_understand_lists_a_module_whose_reader_failed_as_dropped(run_builtin: RunBuiltin) -> None:
    rules = [{"match": {"label": "^read shop/store"}, "respond": {"error": 500, "retry_after": 0}},
             *fixture_scenario("understand")["rules"]]
    run = await run_builtin("understand", scenario={"rules": rules}, api_retries=0)
    assert run.outcome.status == "succeeded"
    assert run.result["counts"] == {"modules": 3, "read": 2, "dropped": 1}
    assert "Map of 2 of 3 modules." in run.report_md
    assert "- `shop/store.py`: not read: read shop/store.py: simulated HTTP 500" in run.report_md
    assert "### Failed agents (1)" in run.report_md


async def test_a_bare_list_of_modules_is_accepted_as_args(run_builtin: RunBuiltin) -> None:
    run = await run_builtin("understand", args=["shop/models.py", "shop/cli.py"])
    assert run.result["counts"] == {"modules": 2, "read": 2, "dropped": 0}
