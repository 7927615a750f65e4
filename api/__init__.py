"""The HTTP API (FastAPI) and the `kb` command line, composing ingest, kb and index."""
