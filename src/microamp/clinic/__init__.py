"""Clinic logic without storage: screening, the gate, consent, course plans, pricing, care."""

from microamp.clinic.care import care_html, care_text
from microamp.clinic.consent import check_signature, consent_text, current_consent_version
from microamp.clinic.gate import GateDecision, Refusal, gate
from microamp.clinic.intake import INTAKE_KEYS, IntakeAnswers, parse_answers
from microamp.clinic.plans import TEMPLATES, CoursePlan, PlannedSession, parse_weekdays, plan_course
from microamp.clinic.pricing import CostEstimate, PackageOffer, estimate_cost, parse_money
from microamp.clinic.rules import Outcome, RuleSet, load_rules
from microamp.clinic.screening import Reason, ScreeningResult, screen

__all__ = [
    "INTAKE_KEYS",
    "TEMPLATES",
    "CostEstimate",
    "CoursePlan",
    "GateDecision",
    "IntakeAnswers",
    "Outcome",
    "PackageOffer",
    "PlannedSession",
    "Reason",
    "Refusal",
    "RuleSet",
    "ScreeningResult",
    "care_html",
    "care_text",
    "check_signature",
    "consent_text",
    "current_consent_version",
    "estimate_cost",
    "gate",
    "load_rules",
    "parse_answers",
    "parse_money",
    "parse_weekdays",
    "plan_course",
    "screen",
]
