"""Project review rules (``.claude/workcrew-rules.md``): the file's format read and written, hand edits kept,
problems with their line, what a rule covers, the agents' prompt section, and ``workcrew rules``."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from workcrew.engine.cli import cli
from workcrew.engine.results.globs import matches_path
from workcrew.engine.results.rule_match import covering_rule, prompt_section
from workcrew.engine.results.rules import (
    Rule,
    RulesError,
    add_rule,
    format_rules,
    load_rules,
    parse_rules,
    remove_rule,
    rule_from_finding,
    rules_path,
)
from workcrew.engine.runtime.resume import call_key

FINDING = {"title": "Division by zero when values is empty", "category": "division-by-zero",
           "location": {"path": "src/stats/calc.py", "start_line": 3}, "fingerprint": "4f1e0c9a2b7d11aa22bb"}


def rule(**fields: object) -> Rule:
    base = Rule(id="R-1", kind="false-positive", text="Not a bug here.", glob="src/**", category="bug",
                matches="division by zero", fingerprint="abc", origin="“x” at `a.py:1`", title="Division")
    return replace(base, **fields)  # type: ignore[arg-type]


def unplaced(rules: list[Rule]) -> list[Rule]:
    return [replace(r, line=0, end_line=0) for r in rules]


def test_a_dismissed_finding_teaches_a_rule_for_its_class_that_reads_back(workspace: Path) -> None:
    draft = rule_from_finding(FINDING, "false-positive", "callers check for an empty list", today=date(2026, 1, 2))
    assert draft.text == ("Not a bug in this project: division-by-zero findings like “Division by zero when values is "
                          "empty”. Callers check for an empty list. Applies to `src/stats/**`.")
    assert (draft.glob, draft.category, draft.matches) == ("src/stats/**", "division-by-zero",
                                                          "division by zero when values is empty")
    assert draft.origin == ("“Division by zero when values is empty” at `src/stats/calc.py:3`, dismissed as false "
                            "positive on 2026-01-02")
    written = add_rule(workspace, draft)
    assert written.id.startswith("R-") and written.line > 1
    text = rules_path(workspace).read_text()
    assert text.startswith("# Workcrew project rules\n")
    assert f"## {written.id} · Division by zero when values is empty\n" in text
    assert "- fingerprint: `4f1e0c9a2b7d11aa22bb`" in text
    assert unplaced(load_rules(workspace).rules) == unplaced([written])
    root = rule_from_finding({**FINDING, "location": {"path": "calc.py"}}, "intended", None)
    assert root.glob == "**" and root.text.startswith("Intended behaviour in this project, not a defect:")


def test_format_and_parse_round_trip(tmp_path: Path) -> None:
    rules = [rule(), rule(id="R-2", kind="intended", glob="migrations/**, *.sql", category=None, matches=None,
                          fingerprint=None, origin="", title="", text="Raw SQL is how migrations are written.\n\n"
                                                                       "Two paragraphs are kept.")]
    text = format_rules(rules)
    parsed = parse_rules(text, tmp_path / "rules.md")
    assert parsed.problems == []
    assert unplaced(parsed.rules) == rules
    assert format_rules(parsed.rules) == text


def test_hand_edits_are_read_tolerantly(tmp_path: Path) -> None:
    text = """# Our rules

Some words before the first rule are not a rule.

## no-asserts: asserts in tests

* **Kind**: Won’t fix
* Applies to: "tests/**"
- Category: 'style'
- Note: this bullet is part of the text
<!-- a comment is not -->
Asserts are how tests check things here.

```md
## not-a-rule · inside a code block
```

## R-2
- type: by design
- globs: `*.{ts,js}`

Generated bundles.
"""
    parsed = parse_rules(text, tmp_path / "rules.md")
    assert parsed.problems == []
    first, second = parsed.rules
    assert (first.id, first.kind, first.glob, first.category, first.title) == (
        "no-asserts", "wont-fix", "tests/**", "style", "asserts in tests")
    assert first.text.startswith("- Note: this bullet is part of the text\n\nAsserts are how tests check things here.")
    assert "## not-a-rule" in first.text and "comment" not in first.text
    assert (second.id, second.kind, second.glob, second.category, second.line) == ("R-2", "intended", "*.{ts,js}",
                                                                                   None, 18)


def test_a_malformed_file_names_file_and_line_and_keeps_the_good_rules(tmp_path: Path) -> None:
    text = "\n".join([
        "# rules", "",
        "## R-ok", "- kind: intended", "", "Fine.", "",
        "## R-bad", "- kind: bogus", "", "Text.", "",
        "## · no id here", "", "Text.", "",
        "## R-empty", "- kind: intended", "",
        "## R-ok", "- kind: intended", "", "Same id.", "",
        "## R-brace", "- applies to: src/{a,b", "", "Text.", "",
    ])
    path = tmp_path / ".claude" / "workcrew-rules.md"
    parsed = parse_rules(text, path)
    assert [r.id for r in parsed.rules] == ["R-ok"]
    problems = [str(p) for p in parsed.problems]
    assert problems[0] == (f"{path}:8: rule 'R-bad': kind 'bogus' is not one of false-positive, intended, wont-fix; "
                           "this rule is not applied until it is")
    assert problems[1].startswith(f"{path}:13: a rule's heading starts with its id")
    assert problems[2].startswith(f"{path}:17: rule 'R-empty' has no text")
    assert problems[3].startswith(f"{path}:20: rule 'R-ok' has the same id as a rule above it")
    assert problems[4] == f"{path}:25: rule 'R-brace': 'applies to' 'src/{{a,b': unbalanced braces in 'src/{{a,b'"


def test_an_unreadable_file_is_a_problem_not_a_crash(workspace: Path) -> None:
    path = rules_path(workspace)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"## R-1\n\n\xff\xfe not utf-8\n")
    loaded = load_rules(workspace)
    assert loaded.rules == [] and str(loaded.problems[0]).startswith(f"{path}: cannot be read (")
    with pytest.raises(RulesError, match="cannot be read"):
        add_rule(workspace, rule(id=""))  # it is not overwritten
    assert path.read_bytes().startswith(b"## R-1")


def test_a_planted_link_or_special_file_is_neither_read_nor_written(workspace: Path, tmp_path: Path) -> None:
    """The rules file is repository text: a link to a file in the home folder must not reach agents' prompts,
    and a dismissal must not append to it; nor may a linked ``.claude`` folder take the writes elsewhere."""
    outside = tmp_path / "home" / "notes.md"
    outside.parent.mkdir()
    secret = "## R-1 · note\n\n- kind: intended\n\nThe deploy token is tok-9f8e7d.\n"
    outside.write_text(secret)
    path = rules_path(workspace)
    path.parent.mkdir(parents=True)
    path.symlink_to(outside)
    loaded = load_rules(workspace)
    assert loaded.rules == [] and "leads out of the project" in str(loaded.problems[0])
    assert "tok-9f8e7d" not in prompt_section(loaded.rules, "review src/a.py")
    with pytest.raises(RulesError, match="leads out of the project"):
        add_rule(workspace, rule(id=""))
    assert outside.read_text() == secret and path.is_symlink()

    path.unlink()
    path.parent.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path.parent.symlink_to(elsewhere, target_is_directory=True)  # .claude itself is the link
    with pytest.raises(RulesError, match="leads out of the project"):
        add_rule(workspace, rule(id=""))
    assert list(elsewhere.iterdir()) == []

    path.parent.unlink()
    path.parent.mkdir()
    os.mkfifo(path)  # reading a FIFO would block the worker thread for ever
    assert "is not a regular file" in str(load_rules(workspace).problems[0])
    path.unlink()
    path.write_text("# rules\n" + "x" * (300 * 1024))
    assert "is over 256 KiB" in str(load_rules(workspace).problems[0])


def test_add_and_remove_touch_only_their_own_section(workspace: Path) -> None:
    path = rules_path(workspace)
    path.parent.mkdir(parents=True)
    hand = "# Rules  \n\nOur own intro, *formatted* our way.\n\n## mine ·   kept exactly\n- kind: intended\n\nText.   \n"
    path.write_text(hand)
    added = add_rule(workspace, rule(id=""))
    second = add_rule(workspace, rule(id="", text="Another."))
    assert added.id != second.id
    assert path.read_text().startswith(hand)
    assert remove_rule(workspace, added.id).id == added.id
    assert [r.id for r in load_rules(workspace).rules] == ["mine", second.id]
    remove_rule(workspace, second.id.lower())  # ids are matched without case
    assert path.read_text() == hand
    with pytest.raises(RulesError, match=r"no rule 'R-nope' in .*\(rules there: mine\)"):
        remove_rule(workspace, "R-nope")
    path.write_text(hand + "\n## broken\n- kind: bogus\n\nx\n")
    remove_rule(workspace, "broken")  # a section that is not applied can still be removed
    assert path.read_text() == hand


@pytest.mark.parametrize(("glob", "path", "expected"), [
    ("**", "a/b.py", True), ("src/**", "src/a/b.py", True), ("src/**", "lib/src/a.py", False),
    ("*.py", "a/b/c.py", True), ("*.py", "a/b/c.js", False), ("tests", "pkg/tests/x.py", True),
    ("/calc.py", "calc.py", True), ("/calc.py", "x/calc.py", False), ("src/*.py", "src/b/a.py", False),
    ("*.{ts,js}", "a/b.ts", True), ("*.{ts,js}", "a/b.py", False), ("src/**, lib/**", "lib/x.py", True),
    ("a/**/b.py", "a/b.py", True), ("a/**/b.py", "a/x/y/b.py", True),
])
def test_globs(glob: str, path: str, expected: bool) -> None:
    assert matches_path(glob, path) is expected


def test_what_a_rule_covers() -> None:
    rules = [rule()]
    def covers(**finding: str) -> bool:
        fields = {"fingerprint": "zzz", "category": "bug", "path": "src/a.py",
                  "title": "Possible Division  by ZERO in mean()"} | finding
        return covering_rule(rules, **fields) is not None

    assert covers()
    assert covers(fingerprint="abc", category="other", path="elsewhere.py", title="anything")  # the very finding
    assert not covers(category="security")
    assert not covers(path="lib/a.py")
    assert not covers(title="Off by one in mean()")
    # without a category a rule only guides the agents: categories are too wide to hide findings by
    assert covering_rule([rule(category=None, fingerprint=None)], fingerprint="x", category="bug",
                         path="src/a.py", title="division by zero") is None


def test_the_prompt_section_puts_the_rules_for_the_prompts_files_first_and_is_capped() -> None:
    rules = [rule(id=f"R-{n}", glob=f"pkg{n}/**", text=f"Rule number {n}. " + "x" * 300) for n in range(20)]
    section = prompt_section(rules, "Review pkg7/models.py and pkg3/views.py for bugs")
    lines = section.splitlines()
    assert lines[0].startswith("Project review rules (.claude/workcrew-rules.md).")
    assert lines[1].startswith("- [R-3] (false-positive; applies to pkg3/**; category bug) Rule number 3.")
    assert lines[2].startswith("- [R-7]")
    assert len(section) <= 4200 and lines[-1].startswith("(") and "more rules are in .claude/workcrew-rules.md" in lines[-1]
    assert prompt_section([], "anything") == ""


def test_rules_change_an_agents_call_key_only_when_there_are_some() -> None:
    plain = call_key("p", schema=None, model="m", effort=None, isolation=None, agent_type=None)
    assert call_key("p", schema=None, model="m", effort=None, isolation=None, agent_type=None, rules="") == plain
    with_rules = call_key("p", schema=None, model="m", effort=None, isolation=None, agent_type=None, rules="d1")
    assert with_rules != plain
    assert with_rules != call_key("p", schema=None, model="m", effort=None, isolation=None, agent_type=None, rules="d2")


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_add_list_remove(workspace: Path) -> None:
    runner = CliRunner()
    ws = ["-C", str(workspace)]
    empty = runner.invoke(cli, ["rules", "list", *ws])
    assert empty.exit_code == 0 and "No project rules" in empty.output
    added = runner.invoke(cli, ["rules", "add", "--kind", "intended", "--glob", "migrations/**", "--category", "sql",
                                *ws, "Raw SQL is how migrations", "are written here."])
    assert added.exit_code == 0, added.output
    rule_id = added.output.split()[2]
    assert added.output.startswith(f"Added rule {rule_id} to {rules_path(workspace)}:")
    listed = runner.invoke(cli, ["rules", "list", "--json", *ws])
    assert listed.exit_code == 0
    (only,) = json.loads(listed.output)["rules"]
    assert (only["id"], only["kind"], only["glob"], only["category"], only["text"]) == (
        rule_id, "intended", "migrations/**", "sql", "Raw SQL is how migrations are written here.")
    table = runner.invoke(cli, ["rules", "list", *ws], terminal_width=200)
    assert rule_id in table.output and "migrations/**" in table.output and "Raw SQL" in table.output
    assert runner.invoke(cli, ["rules", "remove", rule_id, *ws]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["rules", "list", "--json", *ws]).output)["rules"] == []
    missing = runner.invoke(cli, ["rules", "remove", rule_id, *ws])
    assert missing.exit_code == 1 and f"no rule '{rule_id}'" in missing.output


def test_cli_refuses_bad_input_and_reports_a_broken_file(workspace: Path) -> None:
    runner = CliRunner()
    ws = ["-C", str(workspace)]
    bad_glob = runner.invoke(cli, ["rules", "add", "--kind", "intended", "--glob", "src/{a", *ws, "text"])
    assert bad_glob.exit_code == 2 and "unbalanced braces" in bad_glob.output
    no_category = runner.invoke(cli, ["rules", "add", "--kind", "intended", "--matches", "x", *ws, "text"])
    assert no_category.exit_code == 2 and "give --category too" in no_category.output
    path = rules_path(workspace)
    path.parent.mkdir(parents=True)
    path.write_text("## R-1\n- kind: bogus\n\ntext\n")
    broken = runner.invoke(cli, ["rules", "list", *ws])
    assert broken.exit_code == 1 and f"{path}:1: rule 'R-1': kind 'bogus'" in broken.output
    printed = runner.invoke(cli, ["rules", "edit", "--path", *ws])
    assert printed.exit_code == 0 and printed.output.strip() == str(path)


def test_dismissals_at_the_same_moment_all_become_rules(workspace: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        added = list(pool.map(lambda n: add_rule(workspace, rule(id="", text=f"Rule {n}.")).id, range(16)))
    assert sorted(r.id for r in load_rules(workspace).rules) == sorted(added) and len(set(added)) == 16
