"""The REST API (/api/v1/): roles, API keys, the citizen's session token, errors, paging,
throttling, constant queries, and two towns that never see each other's data."""

from __future__ import annotations

import copy
import json
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle
from crm.models import AccessLog, ApiKey, Citizen, RequestEvent, ServiceRequest
from crm.services import api_key_revoke
from tenants.accounts.models import User
from tests.factories import ApiKeyFactory, ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _pothole(client: Client, **extra):
    body = {
        "service_code": "nid-de-poule",
        "description": "Gros trou",
        "latitude": "45.570000",
        "longitude": "-73.690000",
        "attributes": {"taille": "grand"},
    } | extra
    return client.post("/api/v1/requests/", body, content_type="application/json")


# --- Catalog and bank ----------------------------------------------------------------------------


def test_anyone_reads_the_public_catalog_with_its_questions(laval, catalog, client_for):
    response = client_for(laval).get("/api/v1/services/")

    assert response.status_code == 200
    codes = [item["code"] for item in response.json()]
    assert codes == ["arbre", "nid-de-poule"]
    pothole = response.json()[1]
    assert pothole["attributes"][0]["code"] == "taille"
    assert [v["key"] for v in pothole["attributes"][0]["values"]] == ["petit", "grand"]
    assert client_for(laval).get("/api/v1/services/interne/").status_code == 404


def test_staff_also_see_internal_types_and_agent_articles(laval, catalog, staff_client):
    agent = staff_client(laval, "agent", email="agent@laval.ca")

    codes = [item["code"] for item in agent.get("/api/v1/services/").json()]
    hits = agent.get("/api/v1/faq/", {"q": "nids-de-poule"}).json()

    assert "interne" in codes
    assert len(hits) == 2


def test_the_public_faq_search_shows_public_articles_only(laval, catalog, client_for):
    response = client_for(laval).get("/api/v1/faq/", {"q": "jours ouvrables"})
    agents_only = client_for(laval).get("/api/v1/faq/", {"q": "procédure interne"})

    assert response.status_code == 200
    assert [hit["question"] for hit in response.json()] == ["Quand répare-t-on les nids-de-poule?"]
    assert agents_only.json() == []
    assert "<mark>" in response.json()[0]["snippet_html"]


def test_a_search_without_words_is_a_clear_error(laval, client_for):
    response = client_for(laval).get("/api/v1/faq/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "q" in response.json()["error"]["fields"]


# --- Keys -----------------------------------------------------------------------------------------


def test_create_api_key_prints_the_key_once_and_stores_only_its_digest(laval):
    out = StringIO()

    call_command(
        "create_api_key",
        "--tenant",
        "laval",
        "--name",
        "Intégrateur",
        "--scope",
        "write",
        stdout=out,
    )

    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("rls_")
    assert len(key) > 40
    with schema_context("laval"):
        stored = ApiKey.objects.get(name="Intégrateur")
    assert stored.scope == "write"
    assert key not in (stored.digest, stored.prefix)
    assert key.startswith(stored.prefix)


def test_a_write_key_creates_a_request_on_the_api_channel(laval, catalog, key_client, api_key):
    client = key_client(laval, api_key)

    response = _pothole(client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "api"
    assert "channel_detail" not in body
    assert "citizen_id" not in body
    with schema_context("laval"):
        created = ServiceRequest.objects.get(number=body["number"])
        assert (created.channel, created.channel_detail) == ("api", "Voilà! Signalement")
        assert ApiKey.objects.get().last_used_at is not None


def test_a_read_key_reads_but_cannot_write(laval, catalog, key_client):
    with schema_context("laval"):
        ServiceRequestFactory(service_type=catalog["pothole"])
        read_key = ApiKeyFactory(scope="read").secret
    client = key_client(laval, read_key)

    assert client.get("/api/v1/requests/").status_code == 200
    response = _pothole(client)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    with schema_context("laval"):
        assert ServiceRequest.objects.count() == 1


def test_a_revoked_or_unknown_key_is_refused(laval, catalog, key_client, api_key):
    key = api_key
    with schema_context("laval"):
        api_key_revoke(actor=None, api_key=ApiKey.objects.get())

    revoked = key_client(laval, key).get("/api/v1/requests/")
    unknown = key_client(laval, "rls_pas-une-vraie-cle").get("/api/v1/requests/")

    assert revoked.status_code == 401
    assert unknown.status_code == 401
    assert revoked.json()["error"]["code"] == "authentication_failed"


def test_a_key_or_a_session_from_one_town_is_useless_on_another(
    laval, levis, catalog, staff_client, key_client, api_key
):
    key = api_key
    laval_agent = staff_client(laval, "agent", email="agent@laval.ca")
    with schema_context("laval"):
        ServiceRequestFactory.create_batch(2, service_type=catalog["pothole"])

    on_levis = key_client(levis, key).get("/api/v1/requests/")
    # The Laval session cookie, sent to Lévis's host, names no Lévis account.
    levis_client = Client(HTTP_HOST="levis.localhost")
    levis_client.cookies = copy.deepcopy(laval_agent.cookies)
    with_cookie = levis_client.get("/api/v1/requests/")

    assert on_levis.status_code == 401
    assert with_cookie.status_code in {401, 403}
    assert laval_agent.get("/api/v1/requests/").json()["results"]


# --- Requests: roles -----------------------------------------------------------------------------


def test_department_staff_see_their_department_only(laval, catalog, staff_client):
    with schema_context("laval"):
        ServiceRequestFactory.create_batch(2, service_type=catalog["pothole"])
        ServiceRequestFactory(service_type=catalog["tree"], channel="web", address="1, rue B")
    parks = staff_client(laval, "department", email="parcs@laval.ca", department=catalog["parks"])
    agent = staff_client(laval, "agent", email="agent@laval.ca")

    parks_numbers = [r["service_code"] for r in parks.get("/api/v1/requests/").json()["results"]]
    agent_count = len(agent.get("/api/v1/requests/").json()["results"])

    assert parks_numbers == ["arbre"]
    assert agent_count == 3


def test_staff_change_status_assign_reply_and_note(laval, catalog, staff_client):
    with schema_context("laval"):
        service_request = ServiceRequestFactory(service_type=catalog["pothole"])
    supervisor = staff_client(
        laval, "supervisor", email="chef@laval.ca", department=catalog["roads"]
    )
    base = f"/api/v1/requests/{service_request.number}"

    assigned = supervisor.post(
        f"{base}/assignment/", {"assignee": "chef@laval.ca"}, content_type="application/json"
    )
    started = supervisor.post(
        f"{base}/status/", {"status": "in_progress"}, content_type="application/json"
    )
    reply = supervisor.post(
        f"{base}/replies/", {"message": "Équipe en route."}, content_type="application/json"
    )
    note = supervisor.post(
        f"{base}/notes/", {"message": "Voir le contremaître."}, content_type="application/json"
    )
    illegal = supervisor.post(f"{base}/status/", {"status": "new"}, content_type="application/json")
    elsewhere = supervisor.post(
        f"{base}/assignment/", {"department": "parcs"}, content_type="application/json"
    )

    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == "chef@laval.ca"
    assert started.json()["status"] == "in_progress"
    assert (reply.status_code, note.status_code) == (201, 201)
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"
    assert elsewhere.status_code == 403
    with schema_context("laval"):
        kinds = list(
            RequestEvent.objects.filter(request=service_request).values_list("kind", "visibility")
        )
    assert ("internal_note", "internal") in kinds
    assert ("public_reply", "public") in kinds


def test_department_staff_cannot_assign_and_cannot_touch_other_departments(
    laval, catalog, staff_client
):
    with schema_context("laval"):
        service_request = ServiceRequestFactory(service_type=catalog["pothole"])
    parks = staff_client(laval, "department", email="parcs@laval.ca", department=catalog["parks"])
    base = f"/api/v1/requests/{service_request.number}"

    assert parks.post(f"{base}/assignment/", {"department": "parcs"}).status_code == 403
    hidden = parks.post(f"{base}/status/", {"status": "in_progress"})

    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


def test_a_staff_account_without_a_profile_gets_no_more_than_the_public(laval, catalog):
    with schema_context("laval"):
        ServiceRequestFactory(service_type=catalog["pothole"])
        user = UserFactory(email="sans-role@laval.ca", is_staff=True)
        client = Client(HTTP_HOST="laval.localhost")
        client.force_login(user)

    assert client.get("/api/v1/requests/").status_code == 403
    assert client.get("/api/v1/services/").status_code == 200


def test_invalid_input_gets_one_error_shape_and_changes_nothing(laval, catalog, staff_client):
    agent = staff_client(laval, "agent", email="agent@laval.ca")

    missing = agent.post("/api/v1/requests/", {}, content_type="application/json")
    bad_answer = _pothole(agent, attributes={"taille": "énorme"})
    unknown = _pothole(agent, service_code="inexistant")
    garbage = agent.post("/api/v1/requests/", "{pas du json", content_type="application/json")

    assert missing.status_code == 400
    assert "service_code" in missing.json()["error"]["fields"]
    assert bad_answer.status_code == 400
    assert bad_answer.json()["error"]["fields"].keys() == {"taille"} or bad_answer.json()["error"][
        "code"
    ].startswith("invalid")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_service"
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "parse_error"
    with schema_context("laval"):
        assert ServiceRequest.objects.count() == 0


# --- Citizens, interactions (staff), Law 25 ------------------------------------------------------


def test_citizens_are_for_staff_and_every_read_is_logged(laval, catalog, staff_client):
    agent = staff_client(laval, "agent", email="agent@laval.ca")
    parks = staff_client(laval, "department", email="parcs@laval.ca", department=catalog["parks"])
    created = agent.post(
        "/api/v1/citizens/",
        {"first_name": "Léa", "last_name": "Roy", "email": "lea@exemple.qc.ca"},
        content_type="application/json",
    )
    citizen_id = created.json()["id"]

    found = agent.get("/api/v1/citizens/", {"q": "roy", "purpose": "Appel 311"})
    seen = agent.get(f"/api/v1/citizens/{citizen_id}/", {"purpose": "Suivi d'une requête"})
    no_purpose = agent.get(f"/api/v1/citizens/{citizen_id}/")

    assert created.status_code == 201
    assert [c["email"] for c in found.json()["results"]] == ["lea@exemple.qc.ca"]
    assert seen.json()["first_name"] == "Léa"
    assert no_purpose.status_code == 400
    assert parks.get("/api/v1/citizens/", {"purpose": "x"}).status_code == 403
    assert Client(HTTP_HOST="laval.localhost").get("/api/v1/citizens/").status_code in {401, 403}
    with schema_context("laval"):
        actions = sorted(AccessLog.objects.values_list("action", flat=True))
    assert len(actions) == 2


def test_agents_record_interactions(laval, catalog, staff_client):
    with schema_context("laval"):
        service_request = ServiceRequestFactory(service_type=catalog["pothole"])
    agent = staff_client(laval, "agent", email="agent@laval.ca")

    created = agent.post(
        "/api/v1/interactions/",
        {
            "channel": "phone",
            "summary": "Suivi du nid-de-poule",
            "request_number": service_request.number,
            "resolved_at_first_contact": True,
        },
        content_type="application/json",
    )
    listed = agent.get("/api/v1/interactions/", {"purpose": "Suivi de la qualité"})
    without_purpose = agent.get("/api/v1/interactions/")

    assert created.status_code == 201
    assert listed.json()["results"][0]["request_number"] == service_request.number
    assert listed.json()["results"][0]["agent"] == "agent@laval.ca"
    assert without_purpose.status_code == 400
    with schema_context("laval"):
        logged = list(AccessLog.objects.values_list("purpose", flat=True))
    assert logged == ["Suivi de la qualité"]


# --- The citizen and the mobile app (allauth headless) -------------------------------------------


def _app_sign_up(town_model, email: str) -> str:
    """Sign up in the app: the address, a password, then the code e-mailed to the address."""
    client = Client(HTTP_HOST=f"{town_model.slug}.localhost")
    response = client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": email, "password": "Citoyen-tres-solide-2026"},
        content_type="application/json",
    )
    assert response.status_code == 401, response.content  # signed up, address to verify
    pending = [flow["id"] for flow in response.json()["data"]["flows"] if flow.get("is_pending")]
    assert pending == ["verify_email"]
    token = response.json()["meta"]["session_token"]
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE).group(1)
    verified = client.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": code},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert verified.status_code == 200, verified.content
    return verified.json()["meta"]["session_token"]


def test_a_citizen_signs_up_in_the_app_and_sees_only_their_own_requests(laval, levis, catalog):
    token = _app_sign_up(laval, "citoyenne@exemple.qc.ca")
    app = Client(HTTP_HOST="laval.localhost", HTTP_X_SESSION_TOKEN=token)
    with schema_context("laval"):
        ServiceRequestFactory.create_batch(2, service_type=catalog["pothole"])  # someone else's

    mine = _pothole(app)
    listing = app.get("/api/v1/me/requests/").json()["results"]
    everything = app.get("/api/v1/requests/").json()["results"]
    with schema_context("laval"):
        others = ServiceRequestFactory(service_type=catalog["pothole"])
    someone_elses = app.get(f"/api/v1/requests/{others.number}/")

    assert mine.status_code == 201
    assert mine.json()["channel"] == "app"
    assert [r["number"] for r in listing] == [mine.json()["number"]]
    assert [r["number"] for r in everything] == [mine.json()["number"]]
    assert someone_elses.status_code == 404
    with schema_context("laval"):
        citizen = Citizen.objects.get(account__email="citoyenne@exemple.qc.ca")
        assert ServiceRequest.objects.get(number=mine.json()["number"]).citizen == citizen
    # The same token means nothing on Lévis, where the account does not exist.
    levis_app = Client(HTTP_HOST="levis.localhost", HTTP_X_SESSION_TOKEN=token)
    assert levis_app.get("/api/v1/me/requests/").status_code in {401, 403}
    with schema_context("levis"):
        assert not User.objects.filter(email="citoyenne@exemple.qc.ca").exists()


def test_a_citizen_reads_and_changes_their_preferences(laval, catalog):
    token = _app_sign_up(laval, "prefs@exemple.qc.ca")
    app = Client(HTTP_HOST="laval.localhost", HTTP_X_SESSION_TOKEN=token)

    changed = app.patch(
        "/api/v1/me/preferences/",
        {"preferred_language": "en", "notify_by_sms": True},
        content_type="application/json",
    )
    bad = app.patch(
        "/api/v1/me/preferences/", {"preferred_language": "de"}, content_type="application/json"
    )

    assert changed.json() == {
        "preferred_language": "en",
        "notify_by_email": True,
        "notify_by_sms": True,
        "notify_by_phone": False,
    }
    assert bad.status_code == 400
    assert app.get("/api/v1/me/preferences/").json()["preferred_language"] == "en"


def test_a_citizen_sees_public_events_only(laval, catalog, staff_client):
    token = _app_sign_up(laval, "suivi@exemple.qc.ca")
    app = Client(HTTP_HOST="laval.localhost", HTTP_X_SESSION_TOKEN=token)
    number = _pothole(app).json()["number"]
    agent = staff_client(laval, "agent", email="agent@laval.ca")
    agent.post(f"/api/v1/requests/{number}/notes/", {"message": "Secret interne"})
    agent.post(f"/api/v1/requests/{number}/replies/", {"message": "Merci, c'est noté."})

    detail = app.get(f"/api/v1/requests/{number}/").json()

    messages = [event["message"] for event in detail["timeline"]]
    assert "Merci, c'est noté." in messages
    assert "Secret interne" not in messages
    assert {event["visibility"] for event in detail["timeline"]} == {"public"}


def test_platform_accounts_cannot_sign_up_but_citizens_of_a_town_can(platform_client, laval):
    strong = {
        "password1": "Un-mot-de-passe-solide-2026",
        "password2": "Un-mot-de-passe-solide-2026",
    }

    platform = platform_client.post("/comptes/signup/", {"email": "x@y.ca", **strong})
    town = Client(HTTP_HOST="laval.localhost").post(
        "/comptes/signup/", {"email": "x@y.ca", **strong}
    )

    assert platform.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in platform.templates]
    with schema_context("public"):
        assert not User.objects.filter(email="x@y.ca").exists()
    assert town.status_code == 302
    with schema_context("laval"):
        assert Citizen.objects.get(account__email="x@y.ca").email == "x@y.ca"


# --- Paging, queries, throttling, schema ---------------------------------------------------------


def test_lists_page_with_a_cursor_in_a_constant_number_of_queries(laval, catalog, staff_client):
    with schema_context("laval"):
        ServiceRequestFactory.create_batch(12, service_type=catalog["pothole"])
    agent = staff_client(laval, "agent", email="agent@laval.ca")
    agent.get("/api/v1/requests/", {"page_size": 1})  # warm the session

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = agent.get("/api/v1/requests/", {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        return len(captured.captured_queries)

    assert queries(2) == queries(10)
    first = agent.get("/api/v1/requests/", {"page_size": 5}).json()
    second = agent.get(first["next"]).json()
    numbers = [r["number"] for r in first["results"] + second["results"]]
    assert len(set(numbers)) == 10


def test_throttling_answers_429_with_retry_after(laval, catalog, monkeypatch):
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "3/min"})
    client = Client(HTTP_HOST="laval.localhost")

    codes = [client.get("/api/v1/services/").status_code for _ in range(4)]
    limited = client.get("/api/v1/services/")

    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "throttled"


def test_each_key_has_its_own_allowance(laval, catalog, monkeypatch, key_client):
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    with schema_context("laval"):
        first = key_client(laval, ApiKeyFactory(name="Un").secret)
        second = key_client(laval, ApiKeyFactory(name="Deux").secret)

    first_codes = [first.get("/api/v1/services/").status_code for _ in range(3)]

    assert first_codes == [200, 200, 429]
    assert second.get("/api/v1/services/").status_code == 200


def test_the_openapi_schema_is_complete_and_the_docs_page_answers(laval, client_for):
    client = client_for(laval)

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    document = json.loads(schema.content)
    paths = set(document["paths"])
    assert {
        "/api/v1/services/",
        "/api/v1/services/{code}/",
        "/api/v1/faq/",
        "/api/v1/requests/",
        "/api/v1/requests/{number}/",
        "/api/v1/requests/{number}/status/",
        "/api/v1/requests/{number}/assignment/",
        "/api/v1/requests/{number}/replies/",
        "/api/v1/requests/{number}/notes/",
        "/api/v1/citizens/",
        "/api/v1/citizens/{id}/",
        "/api/v1/interactions/",
        "/api/v1/me/requests/",
        "/api/v1/me/preferences/",
    } <= paths
    assert {"apiKey", "sessionToken"} <= set(document["components"]["securitySchemes"])
    assert docs.status_code == 200
    # Redoc comes from the site's own static files, never from a CDN.
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)


def test_the_schema_generates_without_warnings():
    out = StringIO()

    call_command(
        "spectacular",
        "--urlconf",
        "shared_config.urls_tenants",
        "--validate",
        "--fail-on-warn",
        stdout=out,
    )

    assert "/api/v1/requests/" in out.getvalue()


def test_a_municipal_administrator_creates_and_revokes_a_key_in_the_admin(
    laval, staff_client, key_client
):
    client = staff_client(laval, "superuser", email="admin@laval.ca")

    added = client.post(
        "/admin/crm/apikey/add/", {"name": "Application mobile", "scope": "write"}, follow=True
    )

    page = added.content.decode()
    key = re.search(r"<code>(rls_[\w-]+)</code>", page).group(1)
    with schema_context("laval"):
        api_key = ApiKey.objects.get(name="Application mobile")
        assert api_key.digest != key
        assert key.startswith(api_key.prefix)
    assert key_client(laval, key).get("/api/v1/requests/").status_code == 200
    revoked = client.post(
        "/admin/crm/apikey/",
        {"action": "revoke", "_selected_action": [api_key.pk]},
        follow=True,
    )
    assert revoked.status_code == 200
    assert key_client(laval, key).get("/api/v1/requests/").status_code == 401
    assert key not in client.get(f"/admin/crm/apikey/{api_key.pk}/change/").content.decode()


@pytest.mark.parametrize(
    ("path", "seed"),
    [("/api/v1/citizens/", "citizens"), ("/api/v1/interactions/", "interactions")],
)
def test_staff_lists_cost_the_same_queries_for_any_page_size(
    laval, catalog, path, seed, staff_client
):
    agent = staff_client(laval, "agent", email="agent@laval.ca")
    with schema_context("laval"):
        for n in range(12):
            if seed == "citizens":
                agent_post = {"email": f"c{n}@exemple.qc.ca"}
                agent.post(path, agent_post, content_type="application/json")
            else:
                agent.post(
                    path,
                    {"channel": "phone", "summary": f"Appel {n}"},
                    content_type="application/json",
                )
    params = {"purpose": "Vérification"}
    agent.get(path, {**params, "page_size": 1})  # warm the session

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = agent.get(path, {**params, "page_size": page_size})
        assert len(response.json()["results"]) == page_size
        return len(captured.captured_queries)

    assert queries(2) == queries(10)


def test_requests_from_an_integration_show_the_key_name_in_the_staff_admin(
    laval, catalog, staff_client, key_client, api_key
):
    number = _pothole(key_client(laval, api_key)).json()["number"]
    client = staff_client(laval, "superuser", email="admin@laval.ca")

    page = client.get("/admin/crm/servicerequest/", {"channel": "api"}).content.decode()

    assert number in page
    assert "Voilà! Signalement" in page


def test_an_unknown_api_path_is_a_json_404(laval, client_for):
    response = client_for(laval).get("/api/v1/citizens/false/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Ressource introuvable."}}


def test_a_forged_forwarded_for_header_does_not_reset_the_allowance(laval, catalog, monkeypatch):
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "3/min"})
    client = Client(HTTP_HOST="laval.localhost")

    codes = [
        client.get("/api/v1/services/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(5)
    ]

    assert codes == [200, 200, 200, 429, 429]


def test_a_supervisor_lists_their_departments_interactions_only(laval, catalog, staff_client):
    roads_chief = staff_client(
        laval, "supervisor", email="chef@laval.ca", department=catalog["roads"]
    )
    parks_chief = staff_client(
        laval, "supervisor", email="parcs@laval.ca", department=catalog["parks"]
    )
    for client, summary in ((roads_chief, "Appel voirie"), (parks_chief, "Appel parcs")):
        client.post(
            "/api/v1/interactions/",
            {"channel": "phone", "summary": summary},
            content_type="application/json",
        )

    listed = roads_chief.get("/api/v1/interactions/", {"purpose": "Suivi"}).json()["results"]

    assert [row["summary"] for row in listed] == ["Appel voirie"]
