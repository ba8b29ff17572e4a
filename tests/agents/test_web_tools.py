"""Web research: the API's web search and web fetch server tools, through the real SDK against the simulator (and
the in-process simulated model): the specs sent, cited answers, uses counted and priced, the hard budget's worst
case, pause_turn, off by default; the estimate's range and the report's sources."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import pytest
from workcrew.engine.agents.loop import AgentSpec, run_agent
from workcrew.engine.cost.budget import Budget
from workcrew.engine.cost.dryrun import DryAgent, DryRun, DryTurn
from workcrew.engine.cost.estimate import build_estimate
from workcrew.engine.cost.pricing import Usage, cost_usd, price_of
from workcrew.engine.errors import AgentFailed, UsageError
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.providers.web import WebTools, web_tools_from_names
from workcrew.engine.results.report import RunRecords, render_markdown
from workcrew.engine.settings import Settings
from workcrew.engine.store import RunStore

from .conftest import API_KEY, model_for

MODEL = "claude-sonnet-5-5"
NEWS = {"url": "https://python.org/news", "title": "Python News",
        "content": "Python 3.14.0 was released on 7 October 2025, with free-threading supported."}
SEARCH = {"query": "python 3.14 release date", "results": [NEWS, {"url": "https://lwn.net/py", "title": "LWN",
                                                                   "content": "A look at Python 3.14."}]}
CITED = {"url": NEWS["url"], "cited_text": "Python 3.14.0 was released on 7 October 2025"}


def token_cost(usage: Usage) -> float:
    """The USD of the tokens alone, from the price table's Sonnet 5.5 row ($2 in, $10 out, $2.50 / $0.10 cache)."""
    return (usage.input_tokens * 2.0 + usage.output_tokens * 10.0 + usage.cache_creation_input_tokens * 2.5
            + usage.cache_read_input_tokens * 0.10) / 1_000_000


async def run_with(sim: SimulatorThread, spec: AgentSpec, budget: Budget | None = None) -> Any:
    model = model_for(sim)
    try:
        return await run_agent(model, spec, budget=budget)
    finally:
        await model.aclose()


async def test_web_search_is_sent_counted_priced_and_cited(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"web_search": [SEARCH, {"query": "python 3.14 free threading", "results": [NEWS]}],
                                  "text": "Python 3.14 came out on 7 October 2025.", "citations": [CITED]}}])
    web = WebTools(search=True, search_max_uses=4, blocked_domains=("spam.example",))
    outcome = await run_with(sim, AgentSpec(prompt="When was Python 3.14 released?", model=MODEL, web=web))

    tools = sim.server.requests[-1]["body"]["tools"]
    assert tools == [{"type": "web_search_20260318", "name": "web_search", "max_uses": 4,
                      "allowed_callers": ["direct"], "blocked_domains": ["spam.example"]}]
    assert outcome.value == "Python 3.14 came out on 7 October 2025."  # the answer is kept as it came
    assert outcome.citations == [{"url": NEWS["url"], "title": NEWS["title"], "cited_text": CITED["cited_text"]}]
    usage = outcome.usage
    assert usage.web_search_requests == 2 and usage.web_fetch_requests == 0
    # $10 per 1,000 searches on top of the tokens, exactly
    assert price_of(MODEL).web_search == 0.01
    assert cost_usd(MODEL, usage) == pytest.approx(token_cost(usage) + 2 * 0.01, abs=1e-12)
    assert usage.to_dict()["web_search_requests"] == 2


async def test_server_blocks_are_echoed_back_unmodified_on_the_next_turn(
        simulator: Callable[..., SimulatorThread], workspace: Path) -> None:
    from workcrew.engine.agents.tools import AgentToolBox

    (workspace / "notes.md").write_text("release notes\n")
    sim = simulator([
        {"match": {"call": 1}, "respond": {"web_search": SEARCH, "text": "reading the notes",
                                           "tool_calls": [{"name": "read_file", "input": {"path": "notes.md"}}]}},
        {"respond": {"text": "done"}},
    ])
    model = model_for(sim)
    try:
        outcome = await run_agent(model, AgentSpec(prompt="research", model=MODEL, web=WebTools(search=True)),
                                  tools=AgentToolBox(workspace, Settings(workspace=workspace)))
    finally:
        await model.aclose()
    assert outcome.value == "done" and outcome.usage.web_search_requests == 1
    second = sim.server.requests[-1]["body"]["messages"]
    assistant = second[1]["content"]
    kinds = [b["type"] for b in assistant]
    assert kinds[kinds.index("server_tool_use"):] == ["server_tool_use", "web_search_tool_result", "tool_use"]
    use, result = assistant[kinds.index("server_tool_use")], assistant[kinds.index("web_search_tool_result")]
    assert result["tool_use_id"] == use["id"] and use["input"] == {"query": SEARCH["query"]}
    assert [r["url"] for r in result["content"]] == [NEWS["url"], "https://lwn.net/py"]
    # the simulator refuses a result whose encrypted_content changed: the run got past it, so it came back intact
    assert sim.server.stats["status_400"] == 0


async def test_a_schema_answer_keeps_its_sources_alongside(simulator: Callable[..., SimulatorThread]) -> None:
    from workcrew.engine.schema import ResultSchema

    schema = {"type": "object", "required": ["released"], "properties": {"released": {"type": "string"}},
              "additionalProperties": False}
    sim = simulator([{"respond": {"web_search": SEARCH, "json": {"released": "2025-10-07"}, "citations": [CITED]}}])
    outcome = await run_with(sim, AgentSpec(prompt="When was Python 3.14 released?", model=MODEL,
                                            schema=ResultSchema(schema), web=WebTools(search=True)))
    assert outcome.value == {"released": "2025-10-07"}  # the validated object, untouched
    assert outcome.citations == [{"url": NEWS["url"], "title": NEWS["title"], "cited_text": CITED["cited_text"]}]
    body = sim.server.requests[-1]["body"]
    # structured outputs are refused with citations (web search always cites): the schema is in the system prompt
    assert "output_config" not in body and '"released"' in body["system"][-1]["text"]


async def test_without_web_tools_no_server_tool_is_sent_and_nothing_is_searched(
        simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"web_search": SEARCH, "text": "From memory: October 2025.",
                                  "citations": [CITED]}}])
    outcome = await run_with(sim, AgentSpec(prompt="When was Python 3.14 released?", model=MODEL))
    assert "tools" not in sim.server.requests[-1]["body"]  # off by default
    assert outcome.usage.web_search_requests == 0 and outcome.citations == []
    assert cost_usd(MODEL, outcome.usage) == pytest.approx(token_cost(outcome.usage), abs=1e-12)


async def test_web_fetch_is_sent_counted_without_a_per_use_charge_and_cited(
        simulator: Callable[..., SimulatorThread]) -> None:
    page = "The 3.14 changelog lists 312 fixes. Free-threaded builds are now supported."
    sim = simulator([{"respond": {"web_fetch": {"url": "https://docs.python.org/3.14/whatsnew", "title": "What's New",
                                                "content": page},
                                  "text": "It lists 312 fixes.",
                                  "citations": [{"url": "https://docs.python.org/3.14/whatsnew",
                                                 "cited_text": "The 3.14 changelog lists 312 fixes."}]}}])
    web = WebTools(fetch=True, fetch_max_uses=2, fetch_max_content_tokens=5000, allowed_domains=("python.org",))
    outcome = await run_with(sim, AgentSpec(prompt="Summarize https://docs.python.org/3.14/whatsnew", model=MODEL,
                                            web=web))
    assert sim.server.requests[-1]["body"]["tools"] == [{
        "type": "web_fetch_20260318", "name": "web_fetch", "max_uses": 2, "max_content_tokens": 5000,
        "citations": {"enabled": True}, "allowed_callers": ["direct"], "allowed_domains": ["python.org"]}]
    assert outcome.citations == [{"url": "https://docs.python.org/3.14/whatsnew", "title": "What's New",
                                  "cited_text": "The 3.14 changelog lists 312 fixes."}]
    assert outcome.usage.web_fetch_requests == 1 and outcome.usage.web_search_requests == 0
    assert cost_usd(MODEL, outcome.usage) == pytest.approx(token_cost(outcome.usage), abs=1e-12)  # tokens only


async def test_uses_past_max_uses_come_back_as_errors_and_are_not_billed(
        simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"web_search": [SEARCH, SEARCH, SEARCH], "text": "enough"}}])
    outcome = await run_with(sim, AgentSpec(prompt="search a lot", model=MODEL,
                                            web=WebTools(search=True, search_max_uses=1)))
    assert outcome.usage.web_search_requests == 1
    results = [b["content"] for m in outcome.transcript if m["role"] == "assistant" for b in m["content"]
               if b["type"] == "web_search_tool_result"]
    assert [r.get("error_code") if isinstance(r, dict) else "ok" for r in results] == [
        "ok", "max_uses_exceeded", "max_uses_exceeded"]


async def test_pause_turn_is_resent_with_the_server_blocks_and_continues(
        simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([
        {"match": {"call": 1}, "respond": {"web_search": SEARCH, "stop_reason": "pause_turn"}},
        {"match": {"call": 2}, "respond": {"web_search": {"query": "more", "results": [NEWS]},
                                           "stop_reason": "pause_turn"}},
        {"respond": {"text": "It was released on 7 October 2025."}},
    ], thinking=False)  # no thinking block: the paused turn is recognised by its server_tool_use
    outcome = await run_with(sim, AgentSpec(prompt="research", model=MODEL, web=WebTools(search=True)))
    assert outcome.turns == 3 and outcome.text == "It was released on 7 October 2025."
    assert outcome.usage.web_search_requests == 2  # one per paused request, each counted once
    bodies = [r["body"] for r in sim.server.requests]
    assert [len(b["messages"]) for b in bodies] == [1, 2, 3]
    resent = bodies[2]["messages"]
    assert [m["role"] for m in resent] == ["user", "assistant", "assistant"]
    assert [b["type"] for b in resent[1]["content"]] == ["server_tool_use", "web_search_tool_result"]
    assert all(b["tools"][0]["type"] == "web_search_20260318" for b in bodies)  # every request offers the tool


async def test_the_hard_budget_reserves_every_allowed_use(simulator: Callable[..., SimulatorThread]) -> None:
    web = WebTools(search=True, search_max_uses=3, search_result_tokens=2_000)
    budget = Budget(total_usd=0.0)
    # the prompt is certainly under 2,000 tokens: a cap between the worst turn without and with the web tools
    without = budget.worst_case(MODEL, 2_000, 1_000)[1]
    with_web = budget.worst_case(MODEL, 0, 1_000, web.allowance())[1]
    assert with_web - budget.worst_case(MODEL, 0, 1_000)[1] > 3 * 0.01  # every use at its price, and its results
    cap = (without + with_web) / 2
    rules = [{"respond": {"web_search": [SEARCH] * 3, "text": "done", "citations": [CITED]}}]

    sim = simulator(rules)
    plain = Budget(total_usd=cap)
    outcome = await run_with(sim, AgentSpec(prompt="research", model=MODEL, max_tokens=1_000), plain)
    assert outcome.value == "done" and plain.spent_usd > 0  # the same cap holds a turn without web tools

    sim = simulator(rules)
    tight = Budget(total_usd=cap)
    with pytest.raises(AgentFailed) as failure:
        await run_with(sim, AgentSpec(prompt="research", model=MODEL, max_tokens=1_000, web=web), tight)
    assert failure.value.kind == "budget"
    assert not sim.server.requests and tight.spent_usd == 0  # refused before anything was sent or spent

    sim = simulator(rules)
    roomy = Budget(total_usd=with_web * 1.5)
    outcome = await run_with(sim, AgentSpec(prompt="research", model=MODEL, max_tokens=1_000, web=web), roomy)
    assert outcome.usage.web_search_requests == 3
    assert roomy.spent_usd == pytest.approx(cost_usd(MODEL, outcome.usage), abs=1e-12)
    assert roomy.spent_usd <= roomy.total_usd and roomy.overruns == 0 and roomy.reserved_usd == pytest.approx(0)


async def test_two_web_agents_under_a_cap_for_one_wait_for_each_other(
        simulator: Callable[..., SimulatorThread]) -> None:
    import anyio

    web = WebTools(search=True, search_max_uses=2, search_result_tokens=1_000)
    least = Budget(total_usd=0.0).worst_case(MODEL, 0, 500, web.allowance())[1]  # each turn reserves more
    budget = Budget(total_usd=least * 1.6)  # room for one turn in flight, not two; both fit once one settled
    sim = simulator([{"latency_ms": 50, "respond": {"web_search": SEARCH, "text": "ok"}}])
    model = model_for(sim)
    outcomes: list[Any] = []

    async def agent(label: str) -> None:
        spec = AgentSpec(prompt="research", model=MODEL, label=label, max_tokens=500, web=web)
        outcomes.append(await run_agent(model, spec, budget=budget))

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(agent, "a")
            group.start_soon(agent, "b")
    finally:
        await model.aclose()
    assert len(outcomes) == 2 and sim.server.stats["peak_inflight"] == 1  # the second waited for room
    assert budget.spent_usd <= budget.total_usd and budget.overruns == 0 and budget.refused == 0
    assert budget.spent_usd == pytest.approx(sum(cost_usd(MODEL, o.usage) for o in outcomes), abs=1e-12)


async def test_the_simulator_refuses_malformed_server_tools_and_tampered_blocks(
        simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"web_search": SEARCH, "text": "ok"}}])
    client = anthropic.AsyncAnthropic(api_key=API_KEY, base_url=sim.url, max_retries=0)
    user = [{"role": "user", "content": "hi"}]
    bad = [
        ({"type": "web_search_20260318", "name": "search"}, "Input should be 'web_search'"),
        ({"type": "web_search_20991231", "name": "web_search"}, "does not match any of the expected tags"),
        ({"type": "web_search_20260318", "name": "web_search", "max_uses": 0}, "greater than 0"),
        ({"type": "web_search_20260318", "name": "web_search", "allowed_domains": ["a.example"],
          "blocked_domains": ["b.example"]}, "both allowed_domains and blocked_domains"),
        ({"type": "web_fetch_20260318", "name": "web_fetch", "allowed_domains": ["https://a.example"]}, "scheme"),
        ({"type": "web_fetch_20260318", "name": "web_fetch", "max_content_tokens": "many"}, "greater than 0"),
        ({"type": "web_fetch_20260318", "name": "web_fetch", "citations": True}, "citations.enabled"),
        ({"type": "web_search_20260318", "name": "web_search", "max_results": 3}, "Extra inputs are not permitted"),
    ]
    try:
        for tool, message in bad:
            with pytest.raises(anthropic.BadRequestError, match=message):
                await client.messages.create(model=MODEL, max_tokens=100, messages=user, tools=[tool])  # type: ignore[list-item]
        good = WebTools(search=True).specs()
        with pytest.raises(anthropic.BadRequestError, match="structured outputs are not supported together with"):
            await client.messages.create(model=MODEL, max_tokens=100, messages=user, tools=good,  # type: ignore[arg-type]
                                         output_config={"format": {"type": "json_schema", "schema": {
                                             "type": "object", "additionalProperties": False}}})
        answer = await client.messages.create(model=MODEL, max_tokens=100, messages=user, tools=good)  # type: ignore[arg-type]
        content = [b.model_dump(mode="json", exclude_none=True) for b in answer.content]
        result = next(b for b in content if b["type"] == "web_search_tool_result")
        assert answer.usage.server_tool_use is not None and answer.usage.server_tool_use.web_search_requests == 1
        tampered = json.loads(json.dumps(content))
        next(b for b in tampered if b["type"] == "web_search_tool_result")["content"][0]["encrypted_content"] += "x"
        orphan = [b for b in content if b["type"] != "server_tool_use"]
        for sent, message in ((tampered, "cannot be modified"), (orphan, "without a corresponding server_tool_use")):
            with pytest.raises(anthropic.BadRequestError, match=message):
                await client.messages.create(model=MODEL, max_tokens=100, tools=good, messages=[  # type: ignore[arg-type]
                    *user, {"role": "assistant", "content": sent}, {"role": "user", "content": "go on"}])
        intact = await client.messages.create(model=MODEL, max_tokens=100, tools=good, messages=[  # type: ignore[arg-type]
            *user, {"role": "assistant", "content": content}, {"role": "user", "content": "go on"}])
        assert intact.stop_reason == "end_turn" and result["tool_use_id"]
    finally:
        await client.close()


async def test_the_in_process_simulated_model_answers_web_research_the_same_way() -> None:
    scenario = Scenario.from_data({"rules": [{"respond": {"web_search": SEARCH, "text": "October 2025.",
                                                          "citations": [CITED]}}]})
    model = SimulatedModel(scenario)
    outcome = await run_agent(model, AgentSpec(prompt="When?", model=MODEL, web=WebTools(search=True)))
    assert outcome.value == "October 2025." and outcome.usage.web_search_requests == 1
    assert outcome.citations == [{"url": NEWS["url"], "title": NEWS["title"], "cited_text": CITED["cited_text"]}]
    assert cost_usd(MODEL, outcome.usage) == pytest.approx(token_cost(outcome.usage) + 0.01, abs=1e-12)
    plain = await run_agent(SimulatedModel(scenario), AgentSpec(prompt="When?", model=MODEL))
    assert plain.usage.web_search_requests == 0 and plain.citations == []
    # the results count as input: the search costs more than its price alone
    assert outcome.usage.input_tokens > plain.usage.input_tokens


def test_web_tools_come_from_tool_names_and_settings() -> None:
    settings = Settings(web_search_max_uses=7, web_fetch_max_uses=2, web_allowed_domains=["docs.python.org"])
    assert web_tools_from_names({"read_file", "grep"}, settings) is None
    web = web_tools_from_names({"WebSearch", "read_file"}, settings)
    assert web is not None and web.search and not web.fetch and web.search_max_uses == 7
    assert web.specs()[0]["allowed_domains"] == ["docs.python.org"]
    both = web_tools_from_names({"web_search", "webfetch"}, settings)
    assert both is not None and [s["name"] for s in both.specs()] == ["web_search", "web_fetch"]
    with pytest.raises(UsageError, match="not both"):
        WebTools(search=True, allowed_domains=("a.example",), blocked_domains=("b.example",))
    with pytest.raises(UsageError, match="no scheme"):
        WebTools(fetch=True, allowed_domains=("https://a.example",))


# -- the estimate and the report ----------------------------------------------------------------------


def _agent(name: str, web: tuple[int, int], searched: int = 0) -> DryAgent:
    turn = DryTurn(input_tokens=1_200, prefix_tokens=400, prefix_key="k", output_tokens=300, first=True,
                   web_limits=web, web_searches=searched)
    return DryAgent(id=name, label=name, phase="Research", role="other", model=MODEL, prompt="look it up",
                    state="succeeded", turns=[turn])


def _estimate(agent: DryAgent, settings: Settings, basis: str) -> Any:
    from types import SimpleNamespace

    from workcrew.engine.cost.per_agent import EstimateContext

    run = DryRun(agents=[agent], elapsed_s=10.0, status="succeeded")  # what a dry run of the workflow recorded
    ctx = EstimateContext(basis, settings, None, False, {}, {})  # type: ignore[arg-type]
    return build_estimate(SimpleNamespace(name="research"), settings,  # type: ignore[arg-type]
                          {"low": run, "expected": run, "high": run}, ctx)


@pytest.mark.parametrize("basis", ["priors", "scenario"])
def test_the_estimate_counts_web_uses_in_its_range_and_its_cap(tmp_path: Path, basis: str) -> None:
    settings = Settings(workspace=tmp_path, provider="anthropic", max_tokens=2_000)
    plain = _estimate(_agent("plain", (0, 0)), settings, basis)
    web = _estimate(_agent("web", (5, 0), searched=2), settings, basis)
    searches = web.to_json()["web_searches"]
    if basis == "priors":  # expected 3, high one request's max_uses
        assert searches == {"low": 1, "expected": 3, "high": 5}
        assert web.cost_usd.expected - plain.cost_usd.expected > 3 * 0.01
        assert web.cost_usd.high - plain.cost_usd.high > 5 * 0.01
    else:  # the scenario's searches, exactly
        assert searches == {"low": 2, "expected": 2, "high": 2}
        assert web.cost_usd.expected - plain.cost_usd.expected == pytest.approx(2 * 0.01)
    assert "web_searches" not in plain.to_json()  # the shape of other estimates is unchanged
    # the approval cap leaves room for a web turn's worst case: every use it allows and its results
    assert web.budget_usd - plain.budget_usd > 5 * 0.01


def test_the_run_store_and_report_md_keep_the_sources(tmp_path: Path) -> None:
    from workcrew.engine.results.records import load_records

    store = RunStore(tmp_path / "state")
    try:
        store.create_run(id="wf_web", workflow="research", status="succeeded", created_at=1.0, finished_at=3.0,
                         launched=1, succeeded=1, cost_usd=0.0312, web_search_requests=2)
        cited = [{"url": NEWS["url"], "title": NEWS["title"], "cited_text": CITED["cited_text"]}]
        store.upsert_agent("wf_web", "a0001", seq=1, label="researcher", phase="Research", state="succeeded",
                           model=MODEL, citations=cited, **Usage(input_tokens=900, output_tokens=40,
                                                                  web_search_requests=2).to_dict())
        store.upsert_agent("wf_web", "a0002", seq=2, label="other", state="succeeded", model=MODEL)
        store.flush()
        records = load_records(store, "wf_web")
    finally:
        store.close()
    assert records.sources == [{"id": "a0001", "label": "researcher", "phase": "Research", "citations": cited}]
    text = render_markdown(records)
    assert "Web research: 2 searches, 0 page fetches" in text
    sources = text.split("## Sources", 1)[1].split("## Cost", 1)[0]
    assert f"[Python News](<{NEWS['url']}>) — “{CITED['cited_text']}”" in sources
    assert "researcher" in sources and "other" not in sources
    plain = RunRecords({"id": "wf_1", "workflow": "t", "status": "succeeded"}, [], [], [])
    assert "## Sources" not in render_markdown(plain) and "Web research" not in render_markdown(plain)


def test_a_store_made_before_web_research_gets_the_columns(tmp_path: Path) -> None:
    import sqlite3

    folder = tmp_path / "old"
    folder.mkdir()
    from workcrew.engine.store.schema import SCHEMA

    old = "\n".join(line for line in SCHEMA.splitlines() if "web_" not in line and "citations" not in line)
    with sqlite3.connect(folder / "workcrew.db") as db:  # the schema before web research: no uses, no citations
        db.executescript(old.replace("owner TEXT,\n);", "owner TEXT\n);"))
    store = RunStore(folder)
    try:
        store.create_run(id="wf_1", workflow="w", status="running", created_at=1.0)
        store.upsert_agent("wf_1", "a0001", seq=1, state="succeeded", web_fetch_requests=1,
                           citations=[{"url": "https://a.example", "title": None, "cited_text": "x"}])
        store.flush()
        assert store.agent_totals("wf_1")["web_fetch_requests"] == 1
        assert store.agent_citations("wf_1")[0]["citations"][0]["url"] == "https://a.example"
    finally:
        store.close()


def test_usage_without_web_uses_keeps_its_shape() -> None:
    usage = Usage(input_tokens=1, output_tokens=2)
    assert set(usage.to_dict()) == {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                    "cache_read_input_tokens"}
    total = dataclasses.replace(usage)
    total.add(Usage(web_search_requests=3, web_fetch_requests=1))
    assert total.to_dict()["web_search_requests"] == 3 and total.to_dict()["web_fetch_requests"] == 1
