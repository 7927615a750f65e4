"""Records, tags and chunks of urban practices and publications, kept in SQLite (the source of truth).

This package imports nothing else of ours: ingest, index and api build on it.
"""
