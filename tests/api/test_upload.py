"""Uploading a PDF publication through the API."""

from __future__ import annotations

import json

from tests.api.test_records import assert_error
from tests.conftest import API_KEY, DATA

KEY = {"X-API-Key": API_KEY}


def upload(client, content: bytes, metadata: dict | str | None = None, headers=KEY, name: str = "report.pdf"):
    data = {"metadata": metadata if isinstance(metadata, str) else json.dumps(metadata)} if metadata is not None else {}
    return client.post("/publications", files={"file": (name, content, "application/pdf")}, data=data, headers=headers)


def test_upload_a_pdf_with_metadata(writable_client):
    pdf = (DATA / "guide_espace_public.pdf").read_bytes()
    response = upload(writable_client, pdf, {"id": "uploaded-guide", "sdgs": [5, 11], "year": 2024})
    assert response.status_code == 201, response.text
    record = response.json()["record"]
    assert record["kind"] == "publication" and record["id"] == "uploaded-guide"
    assert record["title"] == "Guide pour un espace public egalitaire", "title from the first page"
    assert record["language"] == "fr" and record["sdgs"] == [5, 11] and record["source_file"] == "report.pdf"
    hits = writable_client.get("/search", params={"q": "marches exploratoires éclairage", "kind": "publication"}).json()["results"]
    assert hits[0]["id"] == "uploaded-guide" and hits[0]["page"] == 1
    served = writable_client.get("/files/uploaded-guide.pdf")
    assert served.status_code == 200 and served.content == pdf
    again = upload(writable_client, pdf, {"id": "uploaded-guide", "sdgs": [5, 11], "year": 2024})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_upload_refusals(writable_client):
    pdf = (DATA / "guide_espace_public.pdf").read_bytes()
    assert_error(upload(writable_client, pdf, headers={}), 401, "unauthorized")
    error = assert_error(upload(writable_client, b"hello, not a pdf"), 422, "invalid_record")
    assert "not a PDF" in error["message"]
    assert_error(upload(writable_client, pdf, "{broken"), 400, "bad_request")
    assert_error(writable_client.get("/files/nothing.pdf"), 404, "not_found")
