"""A recording HTTP client plugged into the Stripe SDK's own extension point
(`StripeClient(http_client=...)`): it answers Stripe-shaped objects, remembers every call (its
path, its form parameters, its idempotency key), returns the same object for a repeated
idempotency key as Stripe does, and can be told to fail the next calls."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from stripe._http_client import HTTPClient


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str


@dataclass
class RecordingStripe(HTTPClient):
    name = "recording"
    calls: list[Call] = field(default_factory=list)
    # Each entry fails one call: ("timeout", None) raises, (status, error_body) answers.
    failures: list[tuple[Any, dict[str, Any] | None]] = field(default_factory=list)
    # The same, for the n-th new call (1 is the first).
    fail_at: dict[int, tuple[Any, dict[str, Any] | None]] = field(default_factory=dict)
    replies: dict[str, tuple[str, int]] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    # What Stripe's own drafts of a subscription's periods already hold, by invoice id.
    prebilled: dict[str, int] = field(default_factory=dict)
    # Each invoice's status at Stripe as the calls left it; the updates each one received.
    states: dict[str, str] = field(default_factory=dict)
    updates: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # The customer's subscriptions Stripe lists.
    subscriptions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._method = ""

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        **_: Any,
    ) -> tuple[str, int, Mapping[str, str]]:
        headers = dict(headers or {})
        key = headers.get("Idempotency-Key", "")
        path = urlsplit(url).path
        params = dict(parse_qsl(post_data or "", keep_blank_values=True))
        if key and key in self.replies:
            body, status = self.replies[key]
            return body, status, {"Request-Id": "req_replay"}
        self.calls.append(Call(method, path, params, key))
        self._method = method
        if len(self.calls) in self.fail_at:
            self.failures.append(self.fail_at.pop(len(self.calls)))
        if self.failures:
            kind, error = self.failures.pop(0)
            if kind == "timeout":
                raise stripe.APIConnectionError("Request timed out")
            return json.dumps(error), int(kind), {"Request-Id": "req_fail"}
        body = json.dumps(self._answer(path, params))
        if key:
            self.replies[key] = (body, 200)
        return body, 200, {"Request-Id": "req_ok"}

    def close(self) -> None:
        pass

    def _answer(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        parts = path.split("/")
        invoice = parts[3] if path.startswith("/v1/invoices/") else ""
        if path == "/v1/customers":
            return {"id": "cus_levis", "object": "customer", "name": params.get("name")}
        if path == "/v1/invoices":
            self.states["in_1"] = "draft"
            return {"id": "in_1", "object": "invoice", "total": 0, "status": "draft"}
        if path == "/v1/invoiceitems":
            item = f"ii_{len(self.items) + 1}"
            self.items[item] = int(params["amount"])
            return {"id": item, "object": "invoiceitem", "amount": int(params["amount"])}
        if path == "/v1/credit_notes":
            return {"id": f"cn_{len(self.calls)}", "object": "credit_note",
                    "amount": int(params["amount"]), "invoice": params["invoice"]}  # fmt: skip
        if path == "/v1/products":
            return {"id": "prod_levis", "object": "product", "name": params.get("name")}
        if path == "/v1/subscriptions" and self._method == "get":
            return {"object": "list", "data": self.subscriptions, "has_more": False,
                    "url": "/v1/subscriptions"}  # fmt: skip
        if path == "/v1/subscriptions":
            item = {"id": "si_levis", "object": "subscription_item"}
            return {"id": "sub_levis", "object": "subscription", "status": "active",
                    "items": {"object": "list", "data": [item]}}  # fmt: skip
        if path.startswith("/v1/subscriptions/"):
            return {"id": parts[3], "object": "subscription", "status": "canceled"}
        if invoice and len(parts) == 4:  # retrieve, update
            if self._method == "post":
                self.updates.setdefault(invoice, []).append(params)
            return {"id": invoice, "object": "invoice", "status": self.state_of(invoice)}
        if invoice and parts[4] == "finalize":
            self.states[invoice] = "open"
            total = self.prebilled.get(invoice, 0) + sum(self.items.values())
            return {"id": invoice, "object": "invoice", "total": total, "status": "open"}
        if invoice and parts[4] in ("void", "pay", "mark_uncollectible"):
            self.states[invoice] = {"void": "void", "pay": "paid"}.get(parts[4], "uncollectible")
            return {"id": invoice, "object": "invoice", "status": self.states[invoice]}
        if invoice and parts[4] == "send":
            url = f"https://invoice.stripe.com/i/acct_1/test_{invoice}"
            return {"id": invoice, "object": "invoice", "status": "open", "hosted_invoice_url": url}
        raise AssertionError(f"unexpected Stripe call {self._method} {path}")

    def state_of(self, invoice: str) -> str:
        """An invoice's status at Stripe: what the calls made it, else a subscription's draft
        for the ones given in `prebilled`, else open."""
        return self.states.get(invoice, "draft" if invoice in self.prebilled else "open")

    def keys(self) -> list[str]:
        return [call.idempotency_key for call in self.calls]


CARD_DECLINED = (
    402,
    {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "message": "Your card was declined.",
        }
    },
)
RATE_LIMITED = (429, {"error": {"type": "rate_limit_error", "message": "Too many requests."}})
SERVER_ERROR = (500, {"error": {"type": "api_error", "message": "Something went wrong."}})
INVALID = (
    400,
    {"error": {"type": "invalid_request_error", "message": "Invalid tax id.", "param": "tax_id"}},
)
TIMEOUT = ("timeout", None)
AUTHENTICATION = (
    401,
    {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_*"}},
)
