"""The intake questions as the pages ask them, by answer key."""

from __future__ import annotations

__all__ = ["QUESTIONS"]

QUESTIONS = {
    "pregnant": "Pregnant, or could be pregnant",
    "breastfeeding": "Breastfeeding",
    "pacemaker_or_implanted_device": "Pacemaker, defibrillator or other implanted electronic device",
    "heart_condition": "Heart condition",
    "epilepsy_or_seizures": "Epilepsy or seizures",
    "cancer_treatment": "Receiving cancer treatment",
    "thrombosis_or_phlebitis": "Thrombosis or phlebitis",
    "bleeding_disorder_or_heavy_bleeding": "Bleeding disorder or heavy bleeding",
    "diabetes": "Diabetes",
    "metal_in_face_zones": "Metal implants, plates, pins, braces or piercings in",
    "skin_conditions_zones": "Open sores, active acne, eczema, psoriasis or cold sores in",
    "last_injectables_date": "Last injectables (fillers, botulinum toxin)",
    "last_facial_procedure_date": "Last facial procedure (peel, laser, microneedling, surgery)",
}
