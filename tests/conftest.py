"""Shared fixtures: the real default model (loaded once), and a knowledge base over tests/data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing in the tests may wait on a model hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

DATA = Path(__file__).parent / "data"
SHARED = Path(os.environ.get("KB_SHARED_DATA", Path(__file__).parents[1].parent / "shared" / "data"))
API_KEY = "test-key-for-writes"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or a skip naming what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (outside test data, see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def settings_factory(tmp_path_factory):
    from kb.settings import Settings

    def make(**overrides) -> Settings:
        data_dir = tmp_path_factory.mktemp("kb-data")
        return Settings(data_dir=data_dir, api_keys=API_KEY, **overrides)

    return make


@pytest.fixture(scope="session")
def embedder(settings_factory):
    from index.embedder import Embedder

    return Embedder(settings_factory())


@pytest.fixture(scope="session")
def tagger(settings_factory, embedder):
    """The tagger, fitted once per model cache (so subprocesses started by tests find it ready)."""
    from index.tagger import Tagger

    settings = settings_factory()
    return Tagger(embedder, settings.model_cache_dir, settings.suggestion_min_score, settings.suggestion_threshold)


@pytest.fixture(scope="session")
def loaded_kb(settings_factory, embedder):
    """A knowledge base with every valid record of tests/data ingested (shared: do not modify)."""
    from api.service import KnowledgeBase

    kb = KnowledgeBase(settings_factory(), embedder)
    kb.ingest([DATA])
    yield kb
    kb.close()


@pytest.fixture
def fresh_kb(settings_factory, embedder):
    """An empty knowledge base of one's own (the model is shared)."""
    from api.service import KnowledgeBase

    kb = KnowledgeBase(settings_factory(), embedder)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def client(loaded_kb):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(loaded_kb.settings, loaded_kb)) as test_client:
        yield test_client


@pytest.fixture
def writable_client(fresh_kb):
    from fastapi.testclient import TestClient

    from api.app import create_app

    fresh_kb.ingest([DATA / "practices.json"])
    with TestClient(create_app(fresh_kb.settings, fresh_kb)) as test_client:
        yield test_client


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of tests/data."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target
