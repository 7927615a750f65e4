"""The server-rendered pages through FastAPI's TestClient: content, languages, feed, widget, staff sign-in."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.conftest import API_KEY, DATA

ATOM = "{http://www.w3.org/2005/Atom}"


def test_search_page_shows_cards_facets_and_keeps_the_search_in_the_url(client):
    page = client.get("/", params={"q": "marches exploratoires", "sdg": 5}).text
    assert 'value="marches exploratoires"' in page and "Marches exploratoires de sécurité" in page
    assert "<mark>" in page and 'data-sdg="5"' in page and 'aria-current="true"' in page
    # facet links keep the query and toggle one filter
    assert re.search(r'href="/\?q=marches\+exploratoires&amp;sdg=5&amp;sdg=11"', page)
    assert "/feed.atom?q=marches+exploratoires&amp;sdg=5" in page


def test_no_results_page_helps(client):
    page = client.get("/", params={"q": "anything", "year_from": 2099}).text
    assert 'id="no-results"' in page and "0 records" in page


def test_language_from_browser_then_switcher_cookie(client):
    assert "Rechercher" in client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}).text
    assert "Buscar" in client.get("/", headers={"Accept-Language": "es"}).text
    switched = client.get("/", params={"ui": "es"})
    assert "Buscar" in switched.text and switched.cookies.get("kb_ui") == "es"
    client.cookies.clear()


def test_record_page_has_fields_citation_similar_and_pages(client):
    page = client.get("/record/guide-espace-public-egalitaire").text
    assert "Guide pour un espace public" in page and 'id="citation"' in page and "/record/guide-espace-public-egalitaire" in page
    assert 'id="p1"' in page and 'id="p2"' in page, "publication pages with their numbers"
    assert "Comparable practices in other cities" in page
    assert client.get("/record/nope").status_code == 404


def test_overview_draws_svg_charts(client):
    page = client.get("/overview").text
    assert page.count("<svg") == 4 and "Gender equality" in page and "Practices by region" in page


def test_pages_fetch_nothing_from_other_sites(client):
    for url in ("/", "/record/vienna-gender-mainstreaming", "/overview", "/embed?q=parks", "/embed/example", "/staff"):
        html = client.get(url).text
        external = re.findall(r'(?:src|href)="(https?://(?!testserver)[^"]+)"', html)
        assert not [u for u in external if "stylesheet" in u or u.endswith((".js", ".css"))], (url, external)
        assert not re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="https?://(?!testserver)', html), url


def test_feed_of_a_saved_search_is_valid_atom(client):
    response = client.get("/feed.atom", params={"sdg": 5})
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    entries = root.findall(f"{ATOM}entry")
    assert entries and all(e.find(f"{ATOM}link").get("href").startswith("http://testserver/record/") for e in entries)
    assert all(e.find(f"{ATOM}published").text <= root.find(f"{ATOM}updated").text for e in entries)


def test_embed_widget_links_back_and_may_be_framed(client):
    response = client.get("/embed", params={"q": "women safety", "limit": 2})
    assert response.headers["content-security-policy"] == "frame-ancestors *"
    assert response.text.count('class="card"') == 2 and 'target="_blank"' in response.text
    assert 'href="http://testserver/record/' in response.text


def test_staff_pages_need_a_valid_key(writable_client):
    client = writable_client
    assert 'id="key"' in client.get("/staff").text
    refused = client.post("/staff/login", data={"key": "wrong"})
    assert refused.status_code == 403 and 'id="login-error"' in refused.text
    signed = client.post("/staff/login", data={"key": API_KEY}, follow_redirects=False)
    assert signed.status_code == 303 and "kb_key" in signed.headers["set-cookie"] and "HttpOnly" in signed.headers["set-cookie"]
    queue = client.get("/staff")
    assert 'id="awaiting"' in queue.text
    added = client.post("/staff/upload", files={"file": ("guide.pdf", (DATA / "guide_espace_public.pdf").read_bytes(), "application/pdf")},
                        follow_redirects=False)
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert 'id="suggestion-sdg-5"' in page and "(p. " in page
    client.cookies.clear()


def test_a_browser_gets_an_error_page_and_an_api_client_the_json_error(client):
    page = client.get("/record/nope", headers={"Accept": "text/html"})
    assert page.status_code == 404 and 'id="error-message"' in page.text and "nope" in page.text
    api = client.get("/records/nope", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    invalid = client.get("/", params={"lang": "x"}, headers={"Accept": "text/html"})
    assert invalid.status_code == 422 and 'id="error-message"' in invalid.text and "lang" in invalid.text
