"""A short, seeded fuzzing run of diffi through its public API (tests/fuzzing.py).

Every kind of generated input (hostile numbers, built-ins, directives, strings,
tensors, programs, deep nesting, odd line breaks, mutated examples and doc snippets,
sessions of several runs, bad API arguments) runs in worker processes under a memory
cap and a watchdog; each test asserts that one kind produced no failure of one class
(docs/python.md's contract: only DiffiErrors, never "internal error", positions inside
the source, no crash, hang past the timeout, memory blow-up or leftover process-wide
state). The same seed gives the same inputs: a failure here reproduces with

    python bench/fuzz.py --kinds KIND --seed 20240601 --cases N

and the long run (`bench/fuzz.py --seconds 3600`) looks further.
"""
from __future__ import annotations

import os
import tempfile

import pytest

import fuzzing  # (tests/ is on the path: pytest puts it there)

SEED = 20240601
TIMEOUT = 0.5   # the interpreters' timeout; the watchdog allows a margin past it
MARGIN = 2.0
PLAN = {        # inputs per kind: about 3,000 in all, under a minute on 2 cores
    "numbers": 300, "builtins": 300, "directives": 300, "strings": 300, "tensors": 250,
    "programs": 300, "deep": 100, "linebreaks": 250, "mutations": 400, "sessions": 200,
    "api": 100,  # plus every fixed API case
}
JOBS = min(2, os.cpu_count() or 1)
_results: dict[str, list] = {}


def cases_of(kind: str) -> list:
    # one generator per kind, so that each kind's inputs do not depend on the others
    # (costly inputs, like 10,000-level nesting or 10**8-element tensors, are rarer here
    # than in the long run, except in "deep", whose whole point they are)
    gen = fuzzing.Generator(SEED + fuzzing.KINDS.index(kind), timeout=TIMEOUT,
                            heavy=1.0 if kind == "deep" else 0.3)
    cases = gen.cases(kind, PLAN[kind])
    if kind == "api":
        cases = gen.api_cases() + cases
    return cases


def results(kind: str) -> list:
    if kind not in _results:
        with fuzzing.Pool(jobs=JOBS, margin=MARGIN) as pool:
            _results[kind] = list(pool.run(cases_of(kind)))
    return _results[kind]


def describe(found: list) -> str:
    """One example per root cause, with how many inputs hit it."""
    groups: dict = {}
    for case, outcome in found:
        groups.setdefault(outcome.signature(), []).append((case, outcome))
    lines = [f"{len(found)} inputs, {len(groups)} distinct causes:"]
    for signature, members in sorted(groups.items(), key=lambda g: -len(g[1])):
        case, outcome = min(members, key=lambda m: m[0].size())
        text = case.text()
        text = text if len(text) <= 300 else "…" + text[-300:]
        lines.append(f"- {len(members)}x {outcome.type}: {outcome.message[:160]!r} "
                     f"at {outcome.frame or '?'} {outcome.detail[:160]!r}\n"
                     f"  input: {case.label + ': ' if case.label else ''}{text!r} "
                     f"limits={case.limits}")
    return "\n".join(lines)


@pytest.mark.parametrize("kind, cls", [(k, c) for k in fuzzing.KINDS for c in fuzzing.FAILURES],
                         ids=[f"{k}-{c}" for k in fuzzing.KINDS for c in fuzzing.FAILURES])
def test_fuzzed_inputs_meet_the_contract(kind, cls):
    found = [(case, outcome) for case, outcome in results(kind) if outcome.cls == cls]
    if found:
        pytest.fail(describe(found), pytrace=False)


def test_the_plan_covers_every_kind():
    assert set(PLAN) == set(fuzzing.KINDS)


def test_generation_is_reproducible_by_seed():
    a = [c.to_json() for c in fuzzing.Generator(7).mixed(60)]
    b = [c.to_json() for c in fuzzing.Generator(7).mixed(60)]
    assert a == b


def test_the_checker_sorts_outcomes():
    """The checker tells a value, an error and a broken position apart (a self-test)."""
    with fuzzing.Pool(jobs=1, margin=MARGIN) as pool:
        ok = pool.check(fuzzing.Case("self", ["1 + 1"], {"timeout": 1.0}, api=None))
        assert ok.cls in ("ok", "global-state")
        error = pool.check(fuzzing.Case("self", [], {"timeout": 1.0},
                                        api="it.run('x = 1 +')"))
        assert error.cls in ("ok", "global-state"), error
        foreign = pool.check(fuzzing.Case("self", [], {}, api="raise KeyError('k')"))
        assert (foreign.cls, foreign.type) == ("foreign-exception", "KeyError")
        hang = pool.check(fuzzing.Case("self", [], {"timeout": 0.1},
                                       api="import time; time.sleep(60)"))
        assert hang.cls == "hang"
        crash = pool.check(fuzzing.Case("self", [], {}, api="import os; os.abort()"))
        assert (crash.cls, crash.type) == ("crash", "SIGABRT")
        memory = pool.check(fuzzing.Case("self", [], {}, api="b = bytearray(3 * 1024**3)"))
        assert memory.cls == "memory"
        escape = pool.check(fuzzing.Case("self", [], {"files": "."},
                                         api="open('../../secret.csv').read()"))
        assert escape.cls == "file-escape" and "secret.csv" in escape.detail, escape
        inside = pool.check(fuzzing.Case("self", [], {"files": "."},
                                         api="open('secret.csv').read()"))
        assert inside.cls in ("ok", "global-state"), inside
        leak = pool.check(fuzzing.Case("self", [], {},
                                       api=f"raise diffi.DiffiError('{fuzzing.CANARY}')"))
        assert leak.cls == "file-leak", leak


def test_a_spent_worker_sends_its_case_to_a_fresh_one(monkeypatch):
    """A long-lived worker under its address-space cap may have no room left for the
    harness's own watchdog thread (the second one-hour run counted that as a crash of
    `jacobian { c = f\nt }^x at …`, a plain type error in a fresh process): the case
    runs again in a fresh worker, and only what fails there counts."""
    with fuzzing.Pool(jobs=1, margin=MARGIN) as pool:
        marker = os.path.join(pool.workdir, "spend")  # (inside the workers' sandbox)
        open(marker, "w").close()
        monkeypatch.setenv("DIFFI_FUZZ_SPEND", marker)
        outcome = pool.check(fuzzing.Case("self", ["1 + 1"], {"timeout": 1.0}, api=None))
    assert outcome.cls in ("ok", "global-state"), outcome
    assert not os.path.exists(marker)  # (the first worker saw it, and was spent)


def test_the_workers_cannot_change_files_outside_their_folder():
    """Workers may run as root, and with files=True `graph x to "/etc/passwd"`
    must be refused (an early version of the fuzzer overwrote /etc/passwd and /bin/sh)."""
    outside = tempfile.mkdtemp(prefix="diffi-fuzz-outside-")
    target = os.path.join(outside, "passwd")
    with fuzzing.Pool(jobs=1, margin=MARGIN) as pool:
        anywhere = {"timeout": 1.0, "files": True}  # (the API's default is files=False)
        refused = pool.check(fuzzing.Case("self", [f'graph x to "{target}"'], anywhere))
        assert "refused by the fuzzer's sandbox" in refused.message, refused
        inside = pool.check(fuzzing.Case("self", ['graph x to "g.dot"'], anywhere))
        assert inside.type == "", inside  # (its own folder is writable)
        spawn = pool.check(fuzzing.Case("self", [], {}, api="import os; os.system('true')"))
        assert spawn.cls == "foreign-exception" and "sandbox" in spawn.message, spawn
    assert os.listdir(outside) == []
    os.rmdir(outside)
