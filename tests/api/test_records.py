"""Records, similar practices, writes behind an API key, and the one error shape."""

from __future__ import annotations

from tests.conftest import API_KEY

NEW = {
    "id": "lisboa-orcamento-participativo",
    "title": "Orçamento Participativo de Lisboa",
    "summary": "Desde 2008 os lisboetas propõem e votam projetos financiados pelo orçamento municipal.",
    "city": "Lisboa", "country": "PT", "sdgs": [11, 16], "topics": ["participation"],
}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == status and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_get_record_and_not_found(client):
    record = client.get("/records/vienna-gender-mainstreaming").json()
    assert record["city"] == "Wien" and record["sdgs"] == [5, 11] and record["created_at"]
    error = assert_error(client.get("/records/no-such-record"), 404, "not_found")
    assert "no-such-record" in error["message"]


def test_similar_lists_other_records_other_cities_first(client):
    body = client.get("/records/paris-budget-participatif/similar", params={"limit": 3}).json()
    similar = [r["id"] for r in body["results"]]
    assert "porto-alegre-orcamento-participativo" in similar, "the other participatory budget is comparable"
    assert "paris-budget-participatif" not in similar
    gendered = client.get("/records/vienna-gender-mainstreaming/similar", params={"gender": "true"}).json()["results"]
    assert gendered and all(r["gender_perspective"] for r in gendered)
    assert_error(client.get("/records/nope/similar"), 404, "not_found")


def test_writes_need_a_valid_key(writable_client):
    assert_error(writable_client.post("/records", json=NEW), 401, "unauthorized")
    assert_error(writable_client.post("/records", json=NEW, headers={"X-API-Key": "wrong"}), 403, "forbidden")
    assert_error(writable_client.delete("/records/nyc-vision-zero"), 401, "unauthorized")


def test_add_update_delete_with_a_key(writable_client):
    headers = {"X-API-Key": API_KEY}
    created = writable_client.post("/records", json=NEW, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "added"
    assert created.json()["record"]["language"] == "pt"
    hits = writable_client.get("/search", params={"q": "participatory budget Lisbon", "limit": 1}).json()["results"]
    assert hits[0]["id"] == NEW["id"]
    same = writable_client.post("/records", json=NEW, headers={"Authorization": f"Bearer {API_KEY}"})
    assert same.status_code == 200 and same.json()["status"] == "unchanged"
    changed = writable_client.post("/records", json={**NEW, "year": 2008}, headers=headers)
    assert changed.json()["status"] == "updated"
    assert writable_client.get(f"/records/{NEW['id']}").json()["year"] == 2008
    assert writable_client.delete(f"/records/{NEW['id']}", headers=headers).status_code == 204
    assert_error(writable_client.get(f"/records/{NEW['id']}"), 404, "not_found")
    hits = writable_client.get("/search", params={"q": "participatory budget Lisbon", "limit": 3}).json()["results"]
    assert NEW["id"] not in [h["id"] for h in hits]


def test_invalid_record_is_a_422_naming_the_field(writable_client):
    error = assert_error(
        writable_client.post("/records", json={**NEW, "sdgs": [18]}, headers={"X-API-Key": API_KEY}), 422, "invalid_record"
    )
    assert "sdgs" in error["message"] and "18" in error["message"]


def test_error_shape_for_every_kind_of_failure(client):
    assert_error(client.get("/search", params={"sdg": 18}), 400, "bad_request")
    assert_error(client.get("/search", params={"limit": 0}), 422, "invalid_request")
    assert_error(client.get("/search", params={"year_from": "soon"}), 422, "invalid_request")
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(client.put("/healthz"), 405, "method_not_allowed")


def test_huge_body_is_refused_before_it_is_read(writable_client):
    huge = b"{" + b" " * (51 * 1024 * 1024) + b"}"
    response = writable_client.post("/records", content=huge, headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")


def test_health_and_schema(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["records"] == 11 and health["indexed_chunks"] == health["chunks"]
    schema = client.get("/schema/record").json()
    assert "sdgs" in schema["properties"] and "title" in schema["required"]


def test_cors_is_off_by_default_and_configurable(settings_factory, embedder):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.service import KnowledgeBase

    origin = {"Origin": "https://learning.example.org"}
    plain = KnowledgeBase(settings_factory(), embedder)
    with TestClient(create_app(plain.settings, plain)) as client:
        assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    allowed = KnowledgeBase(settings_factory(cors_origins="https://learning.example.org"), embedder)
    with TestClient(create_app(allowed.settings, allowed)) as client:
        assert client.get("/healthz", headers=origin).headers["access-control-allow-origin"] == origin["Origin"]


def test_a_filtered_search_sees_writes_made_after_it_ran(writable_client):
    """Each filter's chunk subset is kept between searches; a write must replace it, not be hidden by it."""
    headers = {"X-API-Key": API_KEY}
    params = {"q": "residents vote on projects paid by the municipal budget", "country": "PT", "sdg": 16, "limit": 5}

    def found() -> list[str]:
        return [h["id"] for h in writable_client.get("/search", params=params).json()["results"]]

    assert found() == []
    assert writable_client.post("/records", json=NEW, headers=headers).status_code == 201
    assert found() == [NEW["id"]]
    writable_client.post("/records", json={**NEW, "country": "BR", "city": "Porto Alegre"}, headers=headers)
    assert found() == []
    writable_client.post("/records", json=NEW, headers=headers)
    assert found() == [NEW["id"]]
    assert writable_client.delete(f"/records/{NEW['id']}", headers=headers).status_code == 204
    assert found() == []
