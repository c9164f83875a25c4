"""Coded errors of the charge-back ledger."""

from __future__ import annotations

from enum import StrEnum

from shared_config.exceptions import CodedError


class BillingErrorCode(StrEnum):
    """Why the ledger refused an operation."""

    CREDIT_TOO_LARGE = "credit_too_large"
    EMPTY_INVOICE = "empty_invoice"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_PERIOD = "invalid_period"
    MISSING_RATE = "missing_rate"
    NO_BILLING_ACCOUNT = "no_billing_account"
    NO_PLAN = "no_plan"
    NO_PRICE_BOOK = "no_price_book"
    NOT_A_PARTNER = "not_a_partner"
    NOT_DRAFT = "not_draft"
    NOT_LIVE = "not_live"
    NOT_OPEN = "not_open"
    NOTHING_TO_BILL = "nothing_to_bill"
    OVERPAYMENT = "overpayment"
    PERIOD_ALREADY_BILLED = "period_already_billed"
    REASON_REQUIRED = "reason_required"
    NO_SUBSCRIPTION = "no_subscription"
    STRIPE_OFF = "stripe_off"
    SUBSCRIPTION_EXISTS = "subscription_exists"


class BillingError(CodedError):
    """A refused ledger operation: stable `code`, HTTP status, translated message, field."""

    Code = BillingErrorCode
