"""The record types, declared: the registry settings, a scheme, a certificate, a decision.

Certificate content is declared by the scheme's data (``fields:`` in
``registry/schemes/*.yml``); the field types it may use are ``FIELD_TYPES``.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from .schema import INVALID, Bool, Choice, Date, Field, Forbidden, List, Map, Number, Spec, Text

RULE = "REG-SCHEMA"

ACTIONS = ("issue", "change", "suspend", "restore", "revoke", "cancel", "surveillance", "reissue")
STATUSES = ("valid", "suspended", "revoked", "cancelled", "expired")
QUALIFICATIONS = ("management-system-auditor", "ghg-verifier", "product-inspector", "green-product-inspector")
SURVEILLANCE_OUTCOMES = ("pass", "nonconformities", "fail")
NUMBER_SHAPE = r"^[A-Z][A-Z0-9-]{2,40}$"


def _bilingual(required_en=True, multiline=False, max_length=300, doc="", max_en=None):
    return Map({
        "zh": Field(Text(multiline=multiline, max_length=max_length), required=True, public=True, doc="中文"),
        "en": Field(Text(multiline=multiline, max_length=max_en or max_length), required=required_en, public=True,
                    doc="English"),
    }, what="a mapping with zh and en texts")


# --- content field types -------------------------------------------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


class USCC(Text):
    """统一社会信用代码: 18 characters whose last one is a check character (GB 32100-2015)."""

    def __init__(self):
        super().__init__(pattern=r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}",
                         pattern_hint="an 18-character unified social credit code", max_length=18)

    def scalar(self, text, node, chk, key):
        value = super().scalar(text, node, chk, key)
        if value is INVALID:
            return value
        want = uscc_check_char(value[:17])
        if value[17] != want:
            chk.error(node, f"{'.'.join(map(str, key))} {value}: the check character should be {want} "
                            "(GB 32100-2015); the code is mistyped", RULE, key)
            return INVALID
        return value


class Period(Map):
    """A reporting period: start and end dates, start not after end."""

    def __init__(self, rule=RULE):
        super().__init__({
            "start": Field(Date(), required=True, public=True, rule=rule, doc="first day"),
            "end": Field(Date(), required=True, public=True, rule=rule, doc="last day"),
        }, what="a period with start and end dates")

    def convert(self, node, chk, key):
        value = super().convert(node, chk, key)
        if value is not INVALID and value["start"] > value["end"]:
            chk.error(node, f"{'.'.join(map(str, key))}: the period ends ({value['end']}) before it starts "
                            f"({value['start']})", RULE, key)
            return INVALID
        return value


PHONE = r"\+?[0-9][0-9 ()-]{5,24}"
EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"


def _party(public, rule):
    return Map({
        "name": Field(Text(max_length=100), required=True, public=public, rule=rule, doc="name"),
        "address": Field(Text(max_length=120), required=True, public=public, rule=rule, doc="address"),
    }, what="a mapping with name and address")


def _contact():
    return Map({
        "name": Field(Text(max_length=60), required=True, doc="contact person"),
        "phone": Field(Text(pattern=PHONE, pattern_hint="a telephone number"), doc="telephone"),
        "email": Field(Text(pattern=EMAIL, pattern_hint="an e-mail address"), doc="e-mail"),
    }, what="a mapping with name, phone and email")


def _data_row(doc):
    return Field(Map({
        "quantity": Field(Number(), required=True, doc="quantity"),
        "unit": Field(Text(max_length=20), required=True, doc="unit"),
        "source": Field(Text(max_length=200), required=True, doc="data source"),
        "method": Field(Text(max_length=200), required=True, doc="measurement method"),
    }), required=True, doc=doc)


def _data_collection():
    # ZWL-A1: the on-site data collection table, commercial data (private).
    return Map({
        "steam_for_heating": _data_row("steam used to raise the reuse water temperature"),
        "electricity": _data_row("electricity"),
        "steam": _data_row("steam"),
        "replaced_tap_water": _data_row("tap water replaced"),
    }, what="the ZWL-A1 data collection table")


@dataclasses.dataclass
class LongText(Text):
    """Text of several lines, at most ``max_lines`` of them: each line starts a new line on the certificate, so
    that the lines take room there as well as the characters."""

    max_lines: int = 6

    def scalar(self, text, node, chk, key):
        value = super().scalar(text, node, chk, key)
        if value is not INVALID and value.count("\n") + 1 > self.max_lines:
            chk.error(node, f"{'.'.join(map(str, key))} has {value.count(chr(10)) + 1} lines; at most "
                            f"{self.max_lines} fit on the certificate: join some", RULE, key)
            return INVALID
        return value


@dataclasses.dataclass
class Figure(Number):
    """A key figure printed on the certificate, in a box of its own: at most ``places`` decimal places (the
    largest, 1,000,000,000,000.000000, fills the box)."""

    places: int = 6

    def scalar(self, text, node, chk, key):
        value = super().scalar(text, node, chk, key)
        if value is not INVALID and -value.as_tuple().exponent > self.places:
            chk.error(node, f"{'.'.join(map(str, key))} {text} has more than {self.places} decimal places; round it",
                      RULE, key)
            return INVALID
        return value


# type name -> (public, rule) -> Spec; the rule is cited when a part of the field is missing.
# The lengths are what the certificate page holds (publish/pdf.py FIT_STEPS; tests/test_preflight.py renders a
# record with every field at its longest, in every kind of character): text 150 (was 200), longtext 500 in at
# most 6 lines (was 1000), a party's name 100 and address 120 (were 120 and 200).
FIELD_TYPES = {
    "text": lambda public, rule: Text(max_length=150),
    "longtext": lambda public, rule: LongText(multiline=True, max_length=500, max_lines=6),
    "uscc": lambda public, rule: USCC(),
    "decimal": lambda public, rule: Figure(),
    "date": lambda public, rule: Date(),
    "period": lambda public, rule: Period(rule),
    "party": _party,
    "contact": lambda public, rule: _contact(),
    "data-collection": lambda public, rule: _data_collection(),
}

def _count(maximum: int, minimum: int = 1) -> Number:
    """A whole number within bounds: a count of days, months or years."""
    return Number(integer=True, minimum=Decimal(minimum), maximum=Decimal(maximum))


RULE_ID = r"(REG|ZCF|ZWL)-[A-Za-z0-9.-]+"
# YYYYMMDD-N: the decision's date, then the order in which that day's announcements were recorded (REG-ANNOUNCE)
ANNOUNCEMENT_NUMBER = r"[0-9]{8}-[1-9][0-9]{0,4}"
ANNOUNCEMENT_HINT = ("an announcement number YYYYMMDD-N: the decision's date, then the next number free that day "
                     "(certreg decide writes it)")
_rule = Text(pattern=RULE_ID, pattern_hint="a rule ID of rules.md such as ZWL-7.4")

# --- the registry settings file (registry/registry.yml) ------------------------------------

REGISTRY_SPEC = Map({
    "name": Field(_bilingual(), required=True, public=True, doc="the registry's name"),
    # (printed on every certificate: the lengths are what its header and signature block hold)
    "publisher": Field(_bilingual(max_length=30, max_en=100), required=True, public=True, doc="who publishes it"),
    "sample": Field(Bool(), required=True, public=True,
                    doc="true for fictional sample data: every output is then marked SAMPLE"),
    "mark": Field(Text(pattern=r"marks/[A-Za-z0-9._-]+\.svg", pattern_hint="marks/NAME.svg"), required=True,
                  public=True, doc="the certification mark's artwork, shown in the mark-usage guidance (ZWL-8)"),
    "approval_number": Field(Text(max_length=30), required=True, public=True,
                             doc="the certification body's approval number (认证机构批准号), printed on every "
                                 "certificate"),
    "signatory": Field(Map({
        "name": Field(_bilingual(max_length=10, max_en=30), required=True, public=True, doc="the signatory's name"),
        "title": Field(_bilingual(max_length=10, max_en=30), required=True, public=True,
                       doc="the signatory's title"),
    }), required=True, public=True, doc="who signs the certificates (授权签字人): name and title"),
    "seal": Field(Text(pattern=r"marks/[A-Za-z0-9._-]+\.svg", pattern_hint="marks/NAME.svg"), required=True,
                  public=True, doc="the seal's artwork (公章), printed in the certificate's seal area"),
    "enquiries": Field(Map({
        "email": Field(Text(max_length=100, pattern=r"[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}",
                            pattern_hint="an e-mail address"), public=True, doc="for reports and questions"),
        "phone": Field(Text(max_length=30, pattern=r"\+?[0-9][0-9 ()-]{4,28}", pattern_hint="a telephone number"),
                       public=True, doc="a telephone number"),
        "address": Field(_bilingual(max_length=100, max_en=200), public=True, doc="the postal address"),
    }), public=True, doc="how the public reaches CEC: shown in every page's footer and on the page of an address the "
                         "registry does not have (a suspicious certificate is reported there)"),
    "icp_filing": Field(Text(max_length=40), public=True,
                        doc="the site's ICP filing number (ICP备案号, e.g. 京ICP备12345678号), shown in every page's "
                            "footer with a link to the filing system: a site served from mainland China must show it"),
})

# --- scheme definitions (registry/schemes/*.yml) -------------------------------------------

_label = _bilingual()
_ground_text = Map({
    "zh": Field(Text(), required=True, public=True),
    "en": Field(Text(), required=True, public=True),
    "after_suspension_limit": Field(Bool(), doc="only when a suspension has outlived its limit"),
})


class Names(Spec):
    """A mapping whose keys are free words and whose values share one type."""

    def __init__(self, value: Spec, key_pattern=r"[a-z][a-z0-9_-]*", what="a mapping",
                 key_hint="lower-case letters, digits, - and _", rule=RULE):
        self.value = value
        self.key_re = re.compile(key_pattern)
        self.what = what
        self.key_hint = key_hint
        self.rule = rule

    def convert(self, node, chk, key):
        from yaml.nodes import MappingNode, ScalarNode

        if not isinstance(node, MappingNode):
            chk.error(node, f"{'.'.join(map(str, key))} must be {self.what}", self.rule, key)
            return INVALID
        out, ok = {}, True
        for knode, vnode in node.value:
            name = knode.value if isinstance(knode, ScalarNode) else None
            if name is None or not self.key_re.fullmatch(name):
                chk.error(knode, f"{'.'.join(map(str, key))}: {name!r} is not a valid name "
                                 f"({self.key_hint})", self.rule, key)
                ok = False
                continue
            if name in out:
                chk.error(knode, f"{'.'.join(map(str, key + (name,)))} is given twice; keep one", "REG-YAML",
                          key + (name,))
                ok = False
                continue
            v = self.value.check(vnode, chk, key + (name,))
            ok = ok and v is not INVALID
            out[name] = v
        return out if ok else INVALID

    def json(self):
        return {"type": "object", "additionalProperties": self.value.json(),
                "propertyNames": {"pattern": self.key_re.pattern}}


_field_def = Map({
    "type": Field(Choice(choices=tuple(FIELD_TYPES)), required=True),
    "required": Field(Bool(), required=True),
    "public": Field(Bool(), required=True, doc="shown on the PDF, the site and the open data"),
    "rule": Field(_rule, required=True),
    "unit": Field(Text(max_length=20)),
    "label": Field(_label, required=True),
})

_deadline = Map({
    "rule": Field(_rule, required=True),
    "action": Field(Choice(choices=ACTIONS), required=True),
    "from": Field(Text(pattern=r"[a-z_.]+"), required=True, doc="field of the decision where the period starts"),
    "to": Field(Text(pattern=r"[a-z_.]+"), required=True, doc="field of the decision that must meet the deadline"),
    "working_days": Field(_count(365), doc="Chinese working days (工作日)"),
    "days": Field(_count(3650), doc="calendar days"),
    "excluding": Field(Text(pattern=r"[a-z_.]+"), doc="field of the decision giving days not counted"),
    "level": Field(Choice(choices=("error", "warning")), doc="warning where the rules say 'normally'"),
    "what": Field(Text(), required=True, doc="what must happen in time, for messages"),
})

_ruled = lambda fields: Map({"rule": Field(_rule, required=True), **fields})  # noqa: E731

SCHEME_SPEC = Map({
    "key": Field(Text(pattern=r"[a-z][a-z0-9-]+"), required=True, public=True),
    "code": Field(Text(pattern=r"[A-Z]{2,5}"), required=True, public=True),
    "name": Field(_label, required=True, public=True),
    "rules_document": Field(Map({
        "title": Field(Text(), required=True, public=True),
        "id": Field(Text(), required=True, public=True),
        "in_force": Field(Date(), required=True, public=True),
    }), required=True, public=True),
    "basis": Field(_ruled({"zh": Field(Text(), required=True), "en": Field(Text(), required=True)}),
                   required=True, public=True),
    "number": Field(_ruled({
        "pattern": Field(Text(), required=True),
        "example": Field(Text(), required=True),
    }), required=True, public=True),
    "statuses": Field(List(Choice(choices=STATUSES), min_items=1), required=True, public=True),
    "actions": Field(List(Choice(choices=ACTIONS), min_items=1), required=True, public=True),
    "mode_rule": Field(_rule, required=True, doc="the certification mode, cited for a decision it does not have"),
    "validity": Field(_ruled({
        "kind": Field(Choice(choices=("fixed-term", "reporting-period")), required=True),
        "years": Field(_count(120)),
        "renewal_window_months": Field(_count(120)),
        "max_period_months": Field(_count(120)),
        "max_months_after_period": Field(_count(120, minimum=0)),
    }), required=True, public=True),
    "max_suspension": Field(_ruled({
        "months": Field(_count(120), required=True),
        "restore_rule": Field(_rule, required=True, doc="the rule on restoring after rectification"),
    }), required=True, public=True),
    "surveillance": Field(_ruled({
        "interval_months": Field(_count(120), required=True),
        "nonconformity_close_months": Field(_count(120), required=True),
        "nonconformity_rule": Field(_rule, required=True),
    }), public=True),
    "min_person_days": Field(_ruled({
        "value": Field(Number(), required=True),
        "adjustment_rule": Field(_rule, doc="the rule that wants an adjusted audit time justified"),
    }), required=True),
    "team": Field(_ruled({
        "qualification_needed": Field(Choice(choices=("any", "each")), required=True),
        "qualifications": Field(List(Choice(choices=QUALIFICATIONS), min_items=1), required=True),
        "no_consulting_years": Field(_count(10), doc="no auditor consulted the applicant in these years"),
    }), required=True),
    "net_zero": Field(_ruled({
        "emissions": Field(Text(), required=True, doc="the content field of the emissions"),
        "offsets": Field(Text(), required=True, doc="the content field of the offsets"),
    }), doc="the offsets must cover the emissions"),
    "prerequisites": Field(_ruled({"items": Field(Names(_label), required=True)})),
    "deadlines": Field(List(_deadline), required=True),
    "late_reason_public": Field(Bool(), required=True, public=True,
                                doc="whether the reason a decision came after its deadline (late_reason) is published "
                                    "with it; the lateness itself is always a warning for CEC's own records"),
    "grounds": Field(Names(_ruled({"choices": Field(Names(_ground_text), required=True)})), required=True,
                     public=True),
    "fields": Field(Names(_field_def), required=True, public=True),
    "unit_identity": Field(_ruled({
        "fields": Field(List(Text(), min_items=1), required=True),
        "what": Field(Text(), required=True, doc="what the fields identify, for messages"),
    }), doc="content that may not be certified twice at the same time"),
    "listing": Field(Map({
        "holder": Field(Text(), required=True, doc="the content field (dotted) naming the holder"),
        "product": Field(Text(), required=True, doc="the content field (dotted) naming the product"),
    }), required=True, public=True, doc="what lists and the public look-up show of a certificate"),
    "succession": Field(_ruled({"same": Field(List(Text()), required=True)}), required=True),
    "immutable": Field(_ruled({"fields": Field(List(Text()), required=True)}), required=True),
})

# --- certificates (registry/certificates/NUMBER/certificate.yml) ---------------------------


def certificate_spec(content: Spec) -> Map:
    """The certificate record, with the content declared by its scheme."""
    return Map({
        "number": Field(Text(pattern=NUMBER_SHAPE, pattern_hint="a certificate number such as CEC-ZWL-2025-0001"),
                        required=True, public=True, rule="REG-ID", doc="certificate number"),
        "scheme": Field(Text(pattern=r"[a-z][a-z0-9-]+"), required=True, public=True, doc="scheme key"),
        "follows": Field(Text(pattern=NUMBER_SHAPE, pattern_hint="a certificate number"), public=True,
                         doc="the certificate this one renews or succeeds (next reporting year)"),
        "valid_from": Field(Date(), required=True, public=True, doc="first day of validity: the issue date"),
        "valid_until": Field(Date(), required=True, public=True, doc="last day of validity"),
        "content": Field(content, required=True, doc="what the certificate certifies, as its scheme declares"),
    })


class Anything(Spec):
    """Accepts any node; used where the certificate's scheme is unknown, so its fields cannot be checked."""

    def convert(self, node, chk, key):
        return INVALID

    def json(self):
        return {}


def content_spec(fields: dict, *, partial=False) -> Map:
    """The content Map of a scheme, from its ``fields`` data (all optional when ``partial``)."""
    return Map({
        name: Field(FIELD_TYPES[f["type"]](f["public"], f["rule"]), required=f["required"] and not partial,
                    public=f["public"], rule=f["rule"], doc=f["label"]["en"])
        for name, f in fields.items()
    }, what="the certificate content")


# --- decisions (registry/certificates/NUMBER/decisions/DATE-ACTION.yml) --------------------

_member = Map({
    "name": Field(Text(max_length=60), required=True),
    "role": Field(Choice(choices=("leader", "member", "expert")), required=True),
    "qualifications": Field(List(Choice(choices=QUALIFICATIONS))),
    "consulted_applicant": Field(Bool(), doc="gave the applicant zero-carbon consulting in the last 3 years"),
})

_reason = Field(_bilingual(required_en=False, multiline=True, max_length=1000), public=True,
                rule="REG-ANNOUNCE", doc="the public reason, announced (公告)")


def _ground(grounds):
    if not grounds:  # the certificate's scheme is unknown: that is reported on the certificate
        return Field(Text(), required=True, public=True)
    return Field(Choice(choices=tuple(grounds["choices"]), rule=grounds["rule"]), required=True, public=True,
                 rule=grounds["rule"], doc="the ground in the rules")


def _changes(scheme) -> Spec:
    """The content fields a change may set; the number and validity dates never change (ZWL-7.3)."""
    if scheme is None:
        return Anything()
    spec = content_spec(scheme.fields, partial=True)
    keep = Forbidden(rule="ZWL-7.3", message="a change keeps the certificate's number and validity dates; a "
                                             "renewal is a new certificate that follows this one")
    for name in ("number", "scheme", "follows", "valid_from", "valid_until"):
        spec.fields[name] = Field(keep, rule="ZWL-7.3")
    return spec


def decision_spec(action: str, scheme=None) -> Map:
    """The decision record for ``action``; scheme-dependent parts are checked when ``scheme`` is known."""
    common = {
        "certificate": Field(Text(pattern=NUMBER_SHAPE, pattern_hint="a certificate number"), required=True,
                             public=True, doc="the certificate this decision is about"),
        "action": Field(Choice(choices=ACTIONS), required=True, public=True),
        "date": Field(Date(), required=True, public=True, doc="the day the decision takes effect"),
        "note": Field(Text(multiline=True, max_length=2000), doc="internal note"),
        # REG-ANNOUNCE: the number of the announcement (公告) of an announced decision, kept in its record for ever
        "announcement": Field(Text(pattern=ANNOUNCEMENT_NUMBER, pattern_hint=ANNOUNCEMENT_HINT), public=True,
                              rule="REG-ANNOUNCE", doc=ANNOUNCEMENT_HINT),
        # a decision taken after its deadline is recorded as it happened, with the deadline it missed and why
        "late": Field(Names(Date(), key_pattern=RULE_ID, what="a mapping of rule IDs to the deadlines missed",
                            key_hint="a rule ID such as ZCF-12.1.1"),
                      doc="the deadlines this decision missed: rule ID -> the last day it was due"),
        "late_reason": Field(_bilingual(multiline=True, max_length=1000),
                             doc="why the decision came after its deadline (zh and en)"),
    }
    reason_required = dataclasses.replace(_reason, required=True)
    grounds = scheme.grounds.get(action) if scheme else None
    per_action = {
        "issue": {
            "application": Field(Map({
                "received": Field(Date(), required=True, doc="application complete"),
                "accepted": Field(Date(), required=True, doc="accepted and contract signed"),
            }), required=True, doc="application dates"),
            "person_days": Field(Number(), required=True, doc="on-site audit / initial inspection person-days"),
            "planned_person_days": Field(Number(), doc="person-days in the audit programme, if adjusted"),
            "adjustment_justification": Field(Text(multiline=True, max_length=1000), rule="ZCF-6.3.2"),
            "team": Field(List(_member, min_items=1), required=True, doc="audit or inspection team"),
            "technical_reviewer": Field(Text(max_length=60), required=True, rule="ZCF-9"),
            "prerequisites_checked": Field(List(Text(pattern=r"[a-z0-9_]+")), rule="ZCF-5.2.1"),
            "nonconformities_closed": Field(Date(), doc="day the nonconformities were verified closed"),
            "client_delay_days": Field(_count(3650, minimum=0), doc="days of delay caused by the client"),
            "reason": _reason,
        },
        "change": {
            "changes": Field(_changes(scheme), required=True, public=True, rule="ZWL-7.3",
                             doc="the content fields that change"),
            "corrects": Field(Text(pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z]+(-[0-9]+)?\.yml",
                                   pattern_hint="the file name of an earlier decision"), public=True,
                              rule="REG-APPEND", doc="a clerical error this change corrects"),
            "reason": reason_required,
        },
        "suspend": {
            "ground": _ground(grounds),
            "facts_verified": Field(Date(), required=True, doc="day the facts were verified"),
            "until": Field(Date(), public=True, doc="the planned end of the suspension"),
            "reason": reason_required,
        },
        "restore": {
            "rectification_verified": Field(Date(), required=True,
                                            doc="day CEC verified the rectification"),
            "reason": reason_required,
        },
        "revoke": {
            "ground": _ground(grounds),
            "facts_verified": Field(Date(), required=True, doc="day the facts were verified"),
            "reason": reason_required,
        },
        "cancel": {
            "ground": _ground(grounds),
            "requested": Field(Date(), doc="day the holder asked"),
            "reason": reason_required,
        },
        "reissue": {  # REG-APPEND: the one way a published PDF is issued anew: recorded, with why
            "versions": Field(List(_count(10000), min_items=1), required=True, public=True, rule="REG-APPEND",
                              doc="the versions whose PDF certificate is issued anew"),
            "reason": reason_required,
        },
        "surveillance": {
            "outcome": Field(Choice(choices=SURVEILLANCE_OUTCOMES), required=True, public=True),
            "person_days": Field(Number(), required=True),
            "nonconformities": Field(_count(1000, minimum=0), doc="number of nonconformities found"),
            "quantified_value_decreased": Field(Bool(), required=True, rule="ZWL-6.2"),
            "target_met": Field(Bool(), required=True, rule="ZWL-6.2"),
            "unannounced": Field(Bool(), rule="ZWL-6.1"),
            "reason": _reason,
        },
    }
    return Map({**common, **per_action[action]}, what="a decision")


# --- a scheme's data, checked as a whole -------------------------------------------------------


def _spec_at(spec, dotted: str):
    """The spec of the field at a dotted path inside a Map, or None."""
    for part in dotted.split("."):
        if not isinstance(spec, Map) or part not in spec.fields:
            return None
        spec = spec.fields[part].spec
    return spec


def scheme_consistency(data: dict) -> list[tuple[str, tuple]]:
    """What makes a scheme's data unusable although each field is well formed: (message, key) pairs.

    A scheme is CEC's to edit; a mistake in it must be an error naming the line, not a crash later.
    """
    import re2

    from .schema import linear_regex, regex_error

    out: list[tuple[str, tuple]] = []
    try:  # RE2: matched in time linear in the number, whatever the pattern (Python's re can backtrack for hours)
        number = linear_regex(data["number"]["pattern"])
        if not number.fullmatch(data["number"]["example"]):
            out.append((f'the example {data["number"]["example"]} does not match the pattern', ("number", "example")))
    except re2.error as exc:
        out.append((f"the pattern is not a regular expression that certreg can run ({regex_error(exc)}): it is "
                    "matched with RE2, in linear time, which has no backreferences (\\1) and no lookaround "
                    "((?=...), (?!...), (?<=...), (?<!...))", ("number", "pattern")))
    v = data["validity"]
    needs = {"fixed-term": ("years", "renewal_window_months"),
             "reporting-period": ("max_period_months", "max_months_after_period")}[v["kind"]]
    for name in needs:
        if name not in v:
            out.append((f"validity of kind {v['kind']} needs {name}", ("validity",)))
    content = content_spec(data["fields"])
    if v["kind"] == "reporting-period" and not isinstance(_spec_at(content, "reporting_period"), Period):
        out.append(("validity of kind reporting-period needs a content field reporting_period of type period",
                    ("validity", "kind")))
    actions = data["actions"]
    if ("surveillance" in actions) != ("surveillance" in data):
        out.append(("surveillance: is given exactly when surveillance is one of the actions", ("actions",)))
    for action in ("suspend", "revoke", "cancel"):
        if action in actions and action not in data["grounds"]:
            out.append((f"grounds: has no {action}: list the grounds of that decision", ("grounds",)))
    for i, rule in enumerate(data["deadlines"]):
        where = ("deadlines", i)
        if ("days" in rule) == ("working_days" in rule):
            out.append(("a deadline gives either days or working_days", where))
        if rule["action"] not in actions:
            out.append((f"a deadline of {rule['action']}, which is not one of the actions", where + ("action",)))
            continue
        spec = decision_spec(rule["action"])
        for end in ("from", "to"):
            if not isinstance(_spec_at(spec, rule[end]), Date):
                out.append((f"{rule[end]} is not a date field of a {rule['action']} decision", where + (end,)))
        if "excluding" in rule and not isinstance(_spec_at(spec, rule["excluding"]), Number):
            out.append((f"{rule['excluding']} is not a number field of a {rule['action']} decision",
                        where + ("excluding",)))
    paths = [("unit_identity", "fields"), ("succession", "same")]
    for section, listed in paths:
        for i, dotted in enumerate(data.get(section, {}).get(listed, [])):
            if not isinstance(_spec_at(content, dotted), Text):
                out.append((f"{dotted} is not a text field of the content", (section, listed, i)))
    for end in ("holder", "product"):
        dotted = data["listing"][end]
        if not isinstance(_spec_at(content, dotted), Text):
            out.append((f"{dotted} is not a text field of the content", ("listing", end)))
        elif not data["fields"].get(dotted.split(".")[0], {}).get("public"):
            out.append((f"{dotted} is not a public field (REG-PUBLIC): lists and the look-up show it",
                        ("listing", end)))
    for i, name in enumerate(data["immutable"]["fields"]):
        if name not in data["fields"]:
            out.append((f"{name} is not a content field", ("immutable", "fields", i)))
    if "net_zero" in data:
        for end in ("emissions", "offsets"):
            if not isinstance(_spec_at(content, data["net_zero"][end]), Number):
                out.append((f"{data['net_zero'][end]} is not a number field of the content", ("net_zero", end)))
    return out
