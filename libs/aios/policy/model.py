"""The policy file as pydantic models: what a tenant's `policies/<tenant>.yaml` may say.

A rule has a name, conditions (`when`, all of which must hold) and exactly one outcome:
`auto` (the actions to run), `review` (reason, priority, SLA, proposed actions) or `reject`
(reason). Rules are tried in order and the first whose conditions hold decides; `default`
decides when none does.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aios.policy.actions import CONNECTORS

ACTION_TYPE = rf"^({'|'.join(CONNECTORS)})\.[a-z][a-z0-9_]*$"
"""`<connector>.<operation>`; the connectors the act service runs."""

RULE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
"""`{label}` or `{attributes.customer}` inside an action parameter."""

PLACEHOLDERS = ("event_id", "tenant_id", "type", "text", "label", "confidence", "draft", "reason", "rule")
"""Event fields an action parameter may name; `attributes.<name>` names an attribute, `fields.<name>` a
document's extracted field (its normalised value)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: Any) -> int:
    """Seconds in `90s`, `30m`, `4h` or `2d` (or a plain number of seconds)."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number with s, m, h or d, e.g. 30m")
    if isinstance(value, int) and value > 0:
        return value
    match = DURATION.match(str(value).strip())
    if match is None or int(match[1]) <= 0:
        raise ValueError(f"{value!r} is not a duration such as 90s, 30m, 4h or 2d")
    return int(match[1]) * _SECONDS[match[2]]


Duration = Annotated[int, Field(description="Seconds; written 90s, 30m, 4h or 2d.")]


class Compare(_Strict):
    """A test of one value; every given bound must hold. Numeric bounds fail on non-numbers."""

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    eq: str | float | None = None
    ne: str | float | None = None
    in_: list[str | float] | None = Field(default=None, alias="in")
    exists: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _something(self) -> Compare:
        if all(v is None for v in (self.gt, self.gte, self.lt, self.lte, self.eq, self.ne, self.in_, self.exists)):
            raise ValueError("give at least one of gt, gte, lt, lte, eq, ne, in, exists")
        return self


class TextTest(_Strict):
    """Tests of the event text."""

    empty: bool | None = Field(default=None, description="True: blank text only; false: non-blank only.")
    matches: str | None = Field(default=None, description="Regular expression searched in the text.")
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class StreamTest(_Strict):
    """Tests of the tenant's recent traffic, kept by the decide service in windowed state."""

    events_per_minute: Compare | None = Field(default=None, description="Events of the tenant in the current minute.")
    events_5m: Compare | None = Field(default=None, description="Events of the tenant in the last 5 minutes.")
    low_confidence_share_5m: Compare | None = Field(
        default=None, description="Share (0..1) of the last 5 minutes' events below `low_confidence_below`."
    )


class MinConfidence(Compare):
    """The lowest confidence among the fields `of` (a field the document lacks counts as 0)."""

    of: list[str] = Field(min_length=1, description="Field names, e.g. [invoice_number, total, iban].")


class VendorTest(_Strict):
    """The invoice's vendor in the tenant's reference data (matched on tax id, name or alias)."""

    known: bool | None = None
    iban_on_file: bool | None = Field(default=None, description="The document's IBAN is one the vendor has on file.")


class PurchaseOrderTest(_Strict):
    """The open purchase order the invoice's `po_number` names."""

    found: bool | None = None
    vendor_matches: bool | None = Field(default=None, description="The PO is the matched vendor's.")
    currency_matches: bool | None = None
    deviation_pct: Compare | None = Field(
        default=None, description="|total - remaining| in percent of what remains open on the PO."
    )


class InsurancePolicyTest(_Strict):
    """The insurance policy the claim's `policy_number` names."""

    found: bool | None = None
    active_on_loss_date: bool | None = None
    loss_type_covered: bool | None = None
    holder_matches: bool | None = Field(default=None, description="The claimant is the policy holder.")
    payable: Compare | None = Field(default=None, description="Claimed amount minus the deductible.")
    payable_within_limit: bool | None = Field(default=None, description="Claimed minus deductible <= the limit.")


class SignalsTest(_Strict):
    """Patterns across the tenant's earlier documents."""

    iban_other_claimants: Compare | None = Field(
        default=None, description="Other claimants whose earlier claims carried this claim's IBAN."
    )
    vendor_iban_changed: bool | None = Field(
        default=None, description="IBAN not on file for the vendor, which has others on file or used another before."
    )
    claims_on_policy: Compare | None = Field(
        default=None, description="Claims on this insurance policy within `documents.burst_window`, this one included."
    )


class DocumentTest(_Strict):
    """Tests of an extracted document (events of type document.*); a rule with one never matches other events."""

    fields: dict[str, Compare | str | float] | None = Field(
        default=None, description="Normalised field values; a plain value means equal to it."
    )
    min_confidence: MinConfidence | None = None
    checks: dict[str, bool] | None = Field(
        default=None, description="Check name -> true: it passed; false: it failed (not merely unchecked)."
    )
    checks_failed: bool | None = Field(default=None, description="Any check failed.")
    duplicate: bool | None = Field(default=None, description="The document repeats an earlier one of the tenant.")
    vendor: VendorTest | None = None
    purchase_order: PurchaseOrderTest | None = None
    insurance_policy: InsurancePolicyTest | None = None
    signals: SignalsTest | None = None


Patterns = str | list[str]


class When(_Strict):
    """Conditions of a rule; all given ones must hold (an empty `when` always holds)."""

    type: Patterns | None = Field(default=None, description="Event type(s); shell patterns such as support.*")
    intent: Patterns | None = Field(default=None, description="Predicted label(s); shell patterns allowed.")
    confidence: Compare | None = None
    oos: bool | None = Field(default=None, description="The classifier said out of scope.")
    pii_found: bool | list[str] | None = Field(
        default=None, description="true/false: any PII redacted or none; a list: any of these kinds."
    )
    attributes: dict[str, Compare | str | float] | None = Field(
        default=None, description="Attribute tests; a plain value means equal to it."
    )
    text: TextTest | None = None
    stream: StreamTest | None = None
    document: DocumentTest | None = None

    @field_validator("type", "intent")
    @classmethod
    def _patterns(cls, value: Patterns | None) -> Patterns | None:
        if isinstance(value, list) and not value:
            raise ValueError("give at least one pattern")
        return value


class Compensation(_Strict):
    type: str = Field(pattern=ACTION_TYPE)
    params: dict[str, str] = Field(default_factory=dict)


class ActionSpec(_Strict):
    """One action: `type` is `<connector>.<operation>`; params may name event fields as {label}, {fields.total}."""

    type: str = Field(pattern=ACTION_TYPE, description=f"<connector>.<operation>; connectors: {', '.join(CONNECTORS)}")
    params: dict[str, str] = Field(default_factory=dict)
    compensation: Compensation | None = Field(default=None, description="What undoes the action.")

    @field_validator("params", mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        """YAML reads `retries: 3` as a number; parameters travel as strings."""
        if isinstance(value, dict):
            return {k: v if isinstance(v, str) else _scalar_text(v) for k, v in value.items()}
        return value

    @field_validator("params")
    @classmethod
    def _placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            for placeholder in PLACEHOLDER.findall(text):
                if placeholder not in PLACEHOLDERS and not re.fullmatch(r"(attributes|fields)\.[^.{}\s]+", placeholder):
                    raise ValueError(
                        f"parameter {name!r}: unknown placeholder {{{placeholder}}};"
                        f" use one of {', '.join(PLACEHOLDERS)}, attributes.<name> or fields.<document field>"
                    )
        return value


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


class AutoOutcome(_Strict):
    """Act without a human: run `actions` in order."""

    actions: list[ActionSpec] = Field(default_factory=list)
    reason: str = ""


class ReviewOutcome(_Strict):
    """Ask a human. `actions` are what approval runs; without them, the next matching `auto` rule's."""

    reason: str = Field(min_length=1)
    priority: int = Field(default=3, ge=1, le=5, description="1 is most urgent.")
    sla: Duration = Field(default=4 * 3600, description="Time a reviewer has, e.g. 30m.")
    actions: list[ActionSpec] | None = None

    @field_validator("sla", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


class RejectOutcome(_Strict):
    """Refuse the event: nothing runs."""

    reason: str = Field(min_length=1)


OutcomeKind = Literal["auto", "review", "reject"]


class Decides(_Strict):
    """Exactly one of `auto`, `review` or `reject`."""

    auto: AutoOutcome | None = None
    review: ReviewOutcome | None = None
    reject: RejectOutcome | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> Decides:
        given = [kind for kind in ("auto", "review", "reject") if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one outcome: auto, review or reject (found {', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> OutcomeKind:
        if self.auto is not None:
            return "auto"
        return "review" if self.review is not None else "reject"


class Rule(Decides):
    name: str = Field(pattern=RULE_NAME, description="Recorded in every decision the rule makes.")
    description: str = ""
    when: When = Field(default_factory=When)


class DefaultRule(Decides):
    """What happens when no rule matches; recorded as rule `default`."""


class StreamSettings(_Strict):
    low_confidence_below: float = Field(
        default=0.5, ge=0, le=1, description="A prediction below this confidence counts as low confidence."
    )


class DocumentSettings(_Strict):
    burst_window: Duration = Field(
        default=30 * 86400, description="The window `signals.claims_on_policy` counts claims in, e.g. 7d."
    )

    @field_validator("burst_window", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


class Policy(_Strict):
    """A tenant's whole policy file."""

    tenant: str = Field(min_length=1, description="Tenant name (or id) the policy belongs to.")
    description: str = ""
    stream: StreamSettings = Field(default_factory=StreamSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    rules: list[Rule] = Field(default_factory=list)
    default: DefaultRule

    def duplicate_names(self) -> list[int]:
        """Positions of rules whose name an earlier rule (or the default) already has."""
        seen = {"default"}
        repeated = []
        for position, rule in enumerate(self.rules):
            if rule.name in seen:
                repeated.append(position)
            seen.add(rule.name)
        return repeated
