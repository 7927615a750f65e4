"""The staff tagging workflow over the API: suggestions with evidence, review queue, accept/reject/edit
with an audit trail, search filters over curated and suggested tags, and keys for every write."""

from __future__ import annotations

from tests.api.test_records import assert_error
from tests.api.test_upload import upload
from tests.conftest import API_KEY, DATA

KEY = {"X-API-Key": API_KEY}
SAFETY_FR = ("Les femmes évitent certaines rues la nuit par peur du harcèlement. La ville a organisé des marches "
             "exploratoires avec des habitantes pour repérer les lieux insécurisants et améliorer l'éclairage des arrêts de bus.")
BUS_EN = ("The city replaced its diesel buses with electric ones and added priority lanes on the main corridors, "
          "cutting journey times by a fifth and lowering fuel costs for the transport operator.")


def test_tag_a_text_returns_scored_sdgs_and_gender_with_evidence(client):
    body = client.post("/tag", json={"text": SAFETY_FR}).json()
    assert body["language"] == "fr" and body["threshold"] == 0.5
    sdgs = {s["sdg"]: s for s in body["sdgs"]}
    assert sdgs[5]["score"] >= 0.5 and sdgs[11]["score"] >= 0.5, body["sdgs"]
    assert [s["score"] for s in body["sdgs"]] == sorted((s["score"] for s in body["sdgs"]), reverse=True)
    assert all(e["text"] in SAFETY_FR for e in sdgs[5]["evidence"]) and sdgs[5]["evidence"]
    gender = body["gender_perspective"]
    assert gender["value"] is True and gender["score"] >= 0.5 and "femmes" in gender["evidence"][0]["text"] + gender["evidence"][-1]["text"]


def test_tag_says_no_gender_perspective_for_a_text_without_one(client):
    body = client.post("/tag", json={"text": BUS_EN}).json()
    assert body["gender_perspective"]["value"] is False and body["gender_perspective"]["score"] < 0.5
    assert body["language"] == "en" and 5 not in [s["sdg"] for s in body["sdgs"] if s["score"] >= 0.5]
    assert_error(client.post("/tag", json={"text": ""}), 422, "invalid_request")


def test_review_workflow_upload_suggest_accept_edit_and_filter(writable_client):
    client = writable_client
    pdf = (DATA / "guide_espace_public.pdf").read_bytes()
    created = upload(client, pdf, {"id": "guide-review", "year": 2024})  # no curated SDGs: all is suggested
    assert created.status_code == 201, created.text
    suggested = {(s["tag"], s["value"]): s for s in created.json()["suggestions"]}
    assert created.json()["record"]["sdgs"] == []
    for key in (("sdg", 5), ("sdg", 11), ("gender", 1)):
        assert suggested[key]["status"] == "pending" and suggested[key]["score"] >= 0.5, key
        assert suggested[key]["evidence"] and all(e["page"] for e in suggested[key]["evidence"]), "evidence names its page"

    queue = client.get("/review").json()
    assert "guide-review" in [r["id"] for r in queue["records"]] and queue["records"][0]["id"] == "guide-review"

    # Filters match suggestions above the threshold, and say so; curated_only ignores them.
    hits = client.get("/search", params={"q": "espace public", "sdg": 5}).json()["results"]
    mine = next(h for h in hits if h["id"] == "guide-review")
    assert mine["matched_tags"] == {"sdg 5": "suggested"} and 5 in mine["suggested_sdgs"]
    curated = client.get("/search", params={"q": "espace public", "sdg": 5, "curated_only": True}).json()
    assert "guide-review" not in [h["id"] for h in curated["results"]]
    gendered = client.get("/search", params={"q": "espace public", "gender": True}).json()["results"]
    assert next(h for h in gendered if h["id"] == "guide-review")["matched_tags"] == {"gender_perspective": "suggested"}

    # Writes need a key; the key's holder is recorded with each change.
    decision = {"accept": [5], "reject": [s for (t, s) in suggested if t == "sdg" and s not in (5, 11)], "gender": "accept"}
    assert_error(client.post("/records/guide-review/tags", json=decision), 401, "unauthorized")
    assert_error(client.post("/records/guide-review/tags", json=decision, headers={"X-API-Key": "wrong"}), 403, "forbidden")
    tags = client.post("/records/guide-review/tags", json=decision, headers=KEY).json()
    assert tags["curated"] == {"sdgs": [5], "gender_perspective": True}
    status = {(s["tag"], s["value"]): s["status"] for s in tags["suggestions"]}
    assert status[("sdg", 5)] == "accepted" and status[("gender", 1)] == "accepted" and status[("sdg", 11)] == "pending"
    assert {(e["action"], e["tag"], e["value"]) for e in tags["history"]} >= {("accept", "sdg", 5), ("accept", "gender", 1)}
    assert {e["actor"] for e in tags["history"]} == {"KB_API_KEYS #1"} and all(e["at"] for e in tags["history"])

    curated = client.get("/search", params={"q": "espace public", "sdg": 5, "curated_only": True}).json()["results"]
    assert next(h for h in curated if h["id"] == "guide-review")["matched_tags"] == {"sdg 5": "curated"}

    # An edit sets the curated SDGs outright and settles what was still pending.
    edited = client.post("/records/guide-review/tags", json={"sdgs": [5, 11, 16], "note": "checked by hand"}, headers=KEY).json()
    assert edited["curated"]["sdgs"] == [5, 11, 16]
    assert {s["status"] for s in edited["suggestions"] if s["tag"] == "sdg" and s["value"] == 11} == {"accepted"}
    assert ("add", "sdg", 16) in {(e["action"], e["tag"], e["value"]) for e in edited["history"]}
    assert "guide-review" not in [r["id"] for r in client.get("/review").json()["records"]]
    assert client.get("/records/guide-review").json()["sdgs"] == [5, 11, 16]

    # Re-uploading the source with other metadata keeps what staff decided.
    again = upload(client, pdf, {"id": "guide-review", "year": 2023, "sdgs": [1]})
    assert again.status_code == 200 and again.json()["record"]["sdgs"] == [5, 11, 16] and again.json()["record"]["year"] == 2023


def test_tag_decisions_that_cannot_apply_are_refused(writable_client):
    client = writable_client
    assert_error(client.post("/records/nope/tags", json={"accept": [5]}, headers=KEY), 404, "not_found")
    some = client.get("/search").json()["results"][0]["id"]
    pending = [s["value"] for s in client.get(f"/records/{some}/tags").json()["suggestions"] if s["status"] == "pending" and s["tag"] == "sdg"]
    never = next(n for n in range(1, 18) if n not in pending)
    error = assert_error(client.post(f"/records/{some}/tags", json={"accept": [never]}, headers=KEY), 400, "bad_request")
    assert f"SDG {never}" in error["message"]
    assert_error(client.post(f"/records/{some}/tags", json={"sdgs": [18]}, headers=KEY), 400, "bad_request")
    assert_error(client.post(f"/records/{some}/tags", json={}, headers=KEY), 400, "bad_request")


def test_editing_only_the_gender_flag_leaves_sdg_suggestions_pending(writable_client):
    client = writable_client
    records = [r["id"] for r in client.get("/search", params={"limit": 20}).json()["results"]]
    target, pending = next((i, p) for i in records
                           if (p := [s["value"] for s in client.get(f"/records/{i}/tags").json()["suggestions"]
                                     if s["tag"] == "sdg" and s["status"] == "pending"]))
    tags = client.post(f"/records/{target}/tags", json={"gender_perspective": True}, headers=KEY).json()
    assert tags["curated"]["gender_perspective"] is True
    still = [s["value"] for s in tags["suggestions"] if s["tag"] == "sdg" and s["status"] == "pending"]
    assert still == pending
