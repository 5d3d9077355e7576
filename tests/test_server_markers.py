"""Every test that reaches a server carries its marker, without anyone adding it.

``python3 -m pytest -m "not postgres and not dynamodb and not s3"`` is the fast run with
no server at all: it only works if no server test slips through unmarked.
The markers come from tests/conftest.py (``pytest_collection_modifyitems``);
these tests prove the hook marks a new test that forgot, and that the tests
of this very session are marked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DYNAMODB_ENV, PG_ENV, S3_ENV, servers_needed

CONFTEST = Path(__file__).with_name("conftest.py")

NEW_TESTS = """
import os
import pytest


@pytest.fixture()
def story(pg_dsn):  # a fixture built on a server fixture
    return pg_dsn


def test_no_server():
    pass


def test_pg_directly(pg_server_dsn):
    pass


def test_pg_through_a_fixture(story):
    pass


def test_dynamodb(dynamodb_table_name):
    pass


def test_both(dynamodb_options, pg_dsn):
    pass


def test_s3(s3_bucket):
    pass


def test_reads_the_env_itself():
    assert os.environ["CHAINAUDIT_TEST_DYNAMODB_ENDPOINT"]


@pytest.fixture(params=["file", pytest.param("pg", marks=pytest.mark.postgres)])
def store(request):
    if request.param == "pg":
        return request.getfixturevalue("pg_server_dsn")
    return "file"


def test_store(store):
    pass


@pytest.fixture(params=["file", "pg"])  # forgot the marker on the "pg" param
def sloppy(request):
    if request.param == "pg":
        return request.getfixturevalue("pg_server_dsn")
    return "file"


def test_sloppy(sloppy):
    pass
"""


@pytest.fixture()
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A throwaway test directory with the real conftest and tests that forgot markers."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_new=NEW_TESTS)
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers\nmarkers =\n    postgres\n    dynamodb\n    s3\n"
    )
    monkeypatch.delenv(PG_ENV, raising=False)
    monkeypatch.delenv(DYNAMODB_ENV, raising=False)
    monkeypatch.delenv(S3_ENV, raising=False)
    return pytester


def selected(suite: pytest.Pytester, expr: str) -> set[str]:
    result = suite.runpytest("--collect-only", "-q", "-m", expr)
    return {line.split("::", 1)[1] for line in result.outlines if "::" in line}


def test_the_hook_marks_every_test_that_reaches_a_server(suite: pytest.Pytester) -> None:
    assert selected(suite, "postgres") == {
        "test_pg_directly",
        "test_pg_through_a_fixture",
        "test_both",
        "test_store[pg]",
    }
    assert selected(suite, "dynamodb") == {
        "test_dynamodb",
        "test_both",
        "test_reads_the_env_itself",
        "test_s3",  # an S3 test implies dynamodb (IMPLIED_MARKERS)
    }
    assert selected(suite, "s3") == {"test_s3"}
    # The classic fast selection stays exactly the no-server tests.
    assert selected(suite, "not postgres and not dynamodb") == selected(
        suite, "not postgres and not dynamodb and not s3"
    )
    assert selected(suite, "not postgres and not dynamodb and not s3") == {
        "test_no_server",
        "test_store[file]",
        "test_sloppy[file]",
        "test_sloppy[pg]",  # only the guard below can see it
    }


def test_the_fast_run_needs_no_server(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-m", "not postgres and not dynamodb and not s3", "-k", "not sloppy")
    result.assert_outcomes(passed=2, deselected=9)


def test_a_server_reached_by_an_unmarked_param_fails_and_says_why(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_ENV, "postgresql://127.0.0.1:1/none")
    result = suite.runpytest("-k", "sloppy")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_sloppy?pg? uses pg_server_dsn but is not marked postgres*"])


def test_every_test_of_this_session_carries_the_markers_it_needs(
    request: pytest.FixtureRequest,
) -> None:
    unmarked = [
        (item.nodeid, marker)
        for item in request.session.items
        for marker in servers_needed(item)
        if item.get_closest_marker(marker) is None
    ]
    assert unmarked == []
