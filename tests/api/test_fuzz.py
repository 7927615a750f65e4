"""Fuzzing: every operation of the OpenAPI schema with generated requests (schemathesis), and the ingesters
with mangled JSON, CSV and PDF files (hypothesis). Every failure must be a 4xx in our error shape or a
named rejection: never a 500, never an exception, never a hang."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import API_KEY, DATA


@pytest.fixture(scope="module")
def api_schema(settings_factory, embedder, tagger):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.service import KnowledgeBase

    kb = KnowledgeBase(settings_factory(max_upload_mb=1), embedder)
    kb.ingest([DATA / "practices.json"])
    app = create_app(kb.settings, kb)
    import schemathesis

    with TestClient(app):  # runs the lifespan: model and index loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    kb.close()


def test_generated_requests_never_break_the_api(api_schema):
    """Each operation gets up to 25 generated requests (all with a valid key, so writes run too)."""
    statuses: list[int] = []
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers={"X-API-Key": API_KEY})
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"} and body["error"]["status"] == response.status_code and body["error"]["message"]

        run()
    print(f"\nschemathesis: {len(statuses)} generated requests, {sum(s >= 400 for s in statuses)} answered 4xx, {len(failures)} 5xx")
    assert not failures, failures[:5]
    assert len(statuses) >= 200


def mangle(data: bytes, seed: int) -> bytes:
    """Truncate, flip bytes, duplicate or splice a slice: the damage real files come with."""
    rng = random.Random(seed)
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(4)
        at = rng.randrange(max(len(data), 1))
        if kind == 0:
            data = data[: at]
        elif kind == 1 and data:
            data[at % len(data)] = rng.randrange(256)
        elif kind == 2:
            data[at:at] = data[at : at + rng.randint(1, 200)]
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    return bytes(data)


INGEST_CASES: list[str] = []


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(source=st.sampled_from(["practices.json", "practices.jsonl", "practices.csv", "guide_espace_public.pdf"]), seed=st.integers(0, 10**6))
def test_mangled_files_ingest_or_are_rejected_with_a_reason(source, seed, tmp_path_factory):
    from ingest.pipeline import Parsed, parse_paths
    from ingest.readers import Rejection
    from kb.settings import Settings

    folder = tmp_path_factory.mktemp("mangled")
    path = folder / source
    path.write_bytes(mangle((DATA / source).read_bytes(), seed))
    outcomes = list(parse_paths([path], Settings(data_dir=folder, pdf_timeout_s=20)))
    assert outcomes, "a file always yields records or a rejection"
    for item in outcomes:
        assert isinstance(item, Parsed | Rejection)
        if isinstance(item, Rejection):
            assert item.reason and source in item.line()
    INGEST_CASES.append(source)


def test_zz_how_many_mangled_files_ran():
    print(f"\ningest fuzz: {len(INGEST_CASES)} mangled files, each ingested or rejected with a reason")
    assert len(INGEST_CASES) >= 40
