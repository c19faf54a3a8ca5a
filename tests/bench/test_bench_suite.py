"""Suite files (strict schema, variables) and the assertions that score answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llmcost.bench.scoring import check, check_all, json_path, judge_request, judge_score, parse_json
from llmcost.bench.suite import Assertion, load_suite
from llmcost.errors import SuiteError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "suites" / "sample.yaml"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_sample_suite_expands() -> None:
    suite = load_suite(SAMPLE)
    assert suite.name == "sample"
    assert [c.id for c in suite.cases] == ["triage[0]", "triage[1]", "triage[2]", "extract", "arithmetic"]
    triage = suite.cases[1]
    assert triage.task == "classify" and triage.tags == ("support",) and triage.max_tokens == 5
    assert "The export button crashes the app on Android 14." in triage.messages[0][1]
    assert triage.assertions[0].icontains == "bug"
    assert triage.system == "You are a precise assistant. Answer with only what is asked."
    assert suite.cases[3].max_tokens == 200 and suite.cases[3].temperature == 0


def test_messages_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, {"defaults": {"max_tokens": 9}, "prompts": [
        {"messages": [{"role": "user", "content": "hi {{who}}"}, {"role": "assistant", "content": "yo"},
                      {"role": "user", "content": "again"}], "vars": {"who": "Ann"}, "system": "S"}]})
    case = load_suite(path).cases[0]
    assert case.id == "p1" and case.messages == (("user", "hi Ann"), ("assistant", "yo"), ("user", "again"))
    request = case.request(stream=False)
    assert (request.system, request.max_tokens, request.stream) == ("S", 9, False)


@pytest.mark.parametrize(("data", "message"), [
    ({"prompts": [{"prompt": "x", "colour": 1}]}, "suite.yaml: field 'prompts[0].colour': unknown field"),
    ({"prompts": [{"prompt": "x", "assert": [{"contains": "a", "regex": "b"}]}]},
     "suite.yaml: field 'prompts[0].assert[0]': Value error, each assertion needs exactly one check"),
    ({"prompts": [{"prompt": "x", "messages": [{"role": "user", "content": "y"}]}]},
     "suite.yaml: field 'prompts[0]': Value error, give either 'prompt' (text) or 'messages'"),
    ({"prompts": [{"prompt": "hi {{name}}"}]},
     "suite.yaml: field 'prompts[0].prompt': unknown variable '{{name}}' (vars: none)"),
    ({"prompts": [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}]},
     "suite.yaml: field 'prompts[1].id': duplicate prompt id 'a'"),
    ({"prompts": [{"prompt": "x", "rubric": "good"}]},
     "suite.yaml: field 'judge': prompts have a 'rubric' but the suite names no judge model"),
    ({"prompts": [{"prompt": "x", "assert": [{"regex": "("}]}]},
     "suite.yaml: field 'prompts[0].assert[0]': Value error, invalid regex"),
    ({"prompts": []}, "suite.yaml: field 'prompts': Tuple should have at least 1 item"),
])
def test_suite_errors_name_file_and_field(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(SuiteError) as info:
        load_suite(write(tmp_path, data))
    assert str(info.value).replace(str(tmp_path) + "/", "").startswith(message)


def a(**kwargs: object) -> Assertion:
    return Assertion.model_validate(kwargs)


@pytest.mark.parametrize(("assertion", "text", "passed"), [
    (a(contains="Paris"), "It is Paris.", True),
    (a(contains="paris"), "It is Paris.", False),
    (a(icontains="paris"), "It is Paris.", True),
    (a(**{"not-contains": "London"}), "Paris", True),
    (a(regex=r"^\d+$"), "2100", True),
    (a(regex=r"^\d+$"), "$2100", False),
    (a(equals="bug"), "  bug\n", True),
    (a(equals="bug"), "a bug", False),
    (a(**{"is-json": True}), '```json\n{"a": 1}\n```', True),
    (a(**{"is-json": True}), "{a: 1}", False),
    (a(**{"is-json": False}), "plain", True),
    (a(**{"json-path": {"path": "$.items[1].qty", "equals": 2}}), '{"items": [{"qty": 1}, {"qty": 2}]}', True),
    (a(**{"json-path": {"path": "$.items[2].qty", "equals": 2}}), '{"items": [{"qty": 1}, {"qty": 2}]}', False),
    (a(**{"json-path": {"path": "$['a b']", "equals": "x"}}), '{"a b": "x"}', True),
    (a(number={"value": 2100, "tolerance": 0.01}), "It costs $2,100.00 a year.", True),
    (a(number={"value": 2100}), "2101", False),
    (a(number={"value": 3, "path": "$.q"}), '{"q": 3.0}', True),
    (a(number={"value": 1}), "no digits", False),
])
def test_assertions(assertion: Assertion, text: str, passed: bool) -> None:
    assert check(assertion, text, 5).passed is passed


def test_max_output_tokens_and_details() -> None:
    limit = a(**{"max-output-tokens": 5})
    assert check(limit, "x", 5).passed and not check(limit, "x", 6).passed
    assert check(limit, "x", 6).detail == "got 6"
    assert check(limit, "x", None).passed is False
    assert limit.kind == "max-output-tokens"
    miss = check(a(**{"json-path": {"path": "$.q", "equals": 3}}), '{"q": 4}', 1)
    assert (miss.kind, miss.detail) == ("json-path", "got 4")


def test_json_helpers_and_judge() -> None:
    assert json_path(parse_json('{"a": {"b": [10, 20]}}'), "$.a.b[1]") == 20
    assert repr(json_path({"a": 1}, "$.z")) == "nothing"
    suite = load_suite(SAMPLE)
    assert len(check_all(suite.cases[3], '{"item": "blue pens", "quantity": 3}', 10)) == 3
    assert all(c.passed for c in check_all(suite.cases[3], '{"item": "blue pens", "quantity": 3}', 10))
    request = judge_request(suite.cases[4], "2100")
    assert request.stream is False and "## Answer\n2100" in request.messages[0][1]
    assert judge_score("Meets it well.\nSCORE: 5") == 5
    assert judge_score("score=2 ... final SCORE: 4") == 4
    assert judge_score("no verdict") is None


def test_bench_help_imports_no_network_or_dataframe_library() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom typer.testing import CliRunner\nfrom llmcost.cli.main import app\n"
            "assert CliRunner().invoke(app, ['bench', '--help']).exit_code == 0\n"
            "print(','.join(m for m in ('httpx', 'pandas', 'numpy', 'tiktoken') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_read_keys_names_variables_never_values() -> None:
    from llmcost.bench.targets import Target, read_keys
    from llmcost.errors import UsageError

    targets = [Target("a", "openai", "http://x", "a", "KEY_A"), Target("b", "openai", "http://x", "b", "KEY_B"),
               Target("c", "openai", "http://x", "c", "KEY_A"), Target("local", "openai", "http://x", "local")]
    assert read_keys(targets, {"KEY_A": " sk-a ", "KEY_B": "sk-b"}) == {"a": "sk-a", "b": "sk-b", "c": "sk-a",
                                                                       "local": None}
    with pytest.raises(UsageError) as info:
        read_keys(targets, {"KEY_B": "sk-b-secret", "KEY_A": "  "})
    assert str(info.value) == "API key not set: environment variable KEY_A (for a, c) is empty or missing"
    with pytest.raises(UsageError) as info:
        read_keys(targets, {})
    assert str(info.value) == ("API key not set: environment variables KEY_A (for a, c), KEY_B (for b) "
                               "are empty or missing")
