"""Derived search structures: sentence-transformers embeddings in FAISS. Rebuildable from the store."""
