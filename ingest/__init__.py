"""Turn files (JSON, JSONL, CSV, PDF, folders of them) into validated records and chunks."""
