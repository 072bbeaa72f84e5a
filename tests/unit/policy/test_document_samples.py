"""The shipped accounts-payable and claims policies on their sample events: each rule as the README's table says."""

from __future__ import annotations

from aios.cli.refdata import book_of
from aios.paths import project_root
from aios.policy.loading import load_policy_file
from aios.policy.simulate import read_sample_events, simulate

POLICIES = project_root() / "policies"
SAMPLES = POLICIES / "samples"


def decided(policy: str, refdata: list[str]) -> dict[str, tuple[str, str]]:
    loaded = load_policy_file(POLICIES / f"{policy}.yaml")
    outcomes = simulate(loaded, read_sample_events(SAMPLES / f"{policy}-events.jsonl"), reference=book_of(refdata))
    return {o.facts.event_id: (o.verdict.outcome, o.verdict.rule) for o in outcomes}


def test_accounts_payable_samples() -> None:
    by_event = decided(
        "payables",
        [f"vendors={SAMPLES / 'payables-vendors.csv'}", f"purchase-orders={SAMPLES / 'payables-purchase-orders.csv'}"],
    )
    assert by_event == {
        "inv-touchless": ("auto", "touchless-invoice"),
        "inv-unknown-vendor": ("review", "unknown-vendor"),
        "inv-po-missing": ("review", "no-open-po"),
        "inv-po-off": ("review", "po-amount-off"),
        "inv-totals-wrong": ("review", "checks-failed"),
        "inv-low-confidence": ("review", "low-confidence"),
        "inv-duplicate": ("reject", "duplicate-invoice"),
        "inv-iban-changed": ("review", "vendor-iban-changed"),
        "inv-second-iban-on-file": ("auto", "touchless-invoice"),
    }


def test_claims_samples() -> None:
    by_event = decided("claims", [f"policies={SAMPLES / 'claims-policies.csv'}"])
    assert by_event == {
        "clm-touchless": ("auto", "touchless-claim"),
        "clm-unknown-policy": ("review", "unknown-policy"),
        "clm-lapsed": ("reject", "not-active-on-loss-date"),
        "clm-not-covered": ("reject", "loss-not-covered"),
        "clm-over-limit": ("review", "over-limit"),
        "clm-low-confidence": ("review", "low-confidence"),
        "clm-duplicate": ("reject", "duplicate-claim"),
        "clm-shared-iban": ("review", "shared-iban"),
        "clm-burst": ("review", "claim-burst"),
    }


def test_without_reference_data_nothing_is_touchless() -> None:
    by_event = decided("payables", [])
    assert by_event["inv-touchless"] == ("review", "unknown-vendor")
