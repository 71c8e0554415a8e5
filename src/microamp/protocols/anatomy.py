"""Facial anatomy for protocols: muscles and regions, zones, a front-view map, forbidden placements.

Face-map coordinates are on a front view 400 wide and 540 high (SVG user units): the midline is
x = 200, the hairline near y = 85, the chin near y = 385, the clavicles near y = 495. A paired
muscle's ``path_xy`` is drawn on the person's right side (the left of the picture); its mirror
image (x -> 400 - x) is the person's left. ``path_xy`` is the probes' working direction for the
muscle's default technique, from first point to last.

Zones are those of `microamp.safety.limits.ZONES`, shared with the limit profiles and screening.
Nothing here is a medical claim; it places probes and keeps them away from where they must not go.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, get_args

from microamp.errors import InvalidValue

__all__ = [
    "FORBIDDEN",
    "MAP_HEIGHT",
    "MAP_WIDTH",
    "MIDLINE_X",
    "MUSCLES",
    "TECHNIQUES",
    "ZONE_FORBIDDEN",
    "ForbiddenPlacement",
    "Muscle",
    "Point",
    "Technique",
    "forbidden_at",
    "forbidden_in_cue",
    "get_muscle",
    "mirror",
    "nearest_muscles",
    "path_crosses_head",
]

Technique = Literal["lift-hold", "glide", "lengthen", "lymph", "hold"]
TECHNIQUES: tuple[str, ...] = get_args(Technique)
Point = tuple[float, float]

MAP_WIDTH = 400.0
MAP_HEIGHT = 540.0
MIDLINE_X = 200.0
# Probes further than this from the midline on both sides would pass current through the head.
_HEAD_SIDE_X = 60.0

_VII = "facial nerve (CN VII)"
_V = "trigeminal nerve (CN V)"
LENGTHEN_ONLY = (
    "trainers warn against over-stimulating it (it pulls the face down or frowns): "
    "lengthen it, never lift or shorten it"
)


@dataclass(frozen=True, slots=True)
class Muscle:
    """A muscle (or a named region worked as one) that a protocol step may target."""

    name: str
    label: str
    kind: Literal["muscle", "region"]
    zone: str
    paired: bool
    path_xy: tuple[Point, ...]
    origin: str
    insertion: str
    technique: Technique
    nerve: str | None = None
    lengthen_only: bool = False
    cautions: tuple[str, ...] = ()

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides a step may name: each side in turn for a pair, the midline otherwise."""
        return ("left", "right", "both") if self.paired else ("midline",)

    @property
    def default_side(self) -> Literal["both", "midline"]:
        return "both" if self.paired else "midline"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "zone": self.zone,
            "paired": self.paired,
            "path_xy": [list(p) for p in self.path_xy],
            "origin": self.origin,
            "insertion": self.insertion,
            "technique": self.technique,
            "nerve": self.nerve,
            "lengthen_only": self.lengthen_only,
            "cautions": list(self.cautions),
        }


def _m(
    name: str,
    label: str,
    zone: str,
    path: tuple[Point, ...],
    origin: str,
    insertion: str,
    technique: Technique,
    *,
    nerve: str | None = _VII,
    paired: bool = True,
    lengthen_only: bool = False,
    cautions: tuple[str, ...] = (),
) -> Muscle:
    notes = (LENGTHEN_ONLY, *cautions) if lengthen_only else cautions
    return Muscle(
        name, label, "muscle", zone, paired, path, origin, insertion, technique, nerve,
        lengthen_only, notes,
    )  # fmt: skip


def _r(
    name: str,
    label: str,
    zone: str,
    path: tuple[Point, ...],
    where: str,
    technique: Technique,
    *,
    paired: bool = True,
    cautions: tuple[str, ...] = (),
) -> Muscle:
    return Muscle(name, label, "region", zone, paired, path, where, where, technique, None,
                  False, cautions)  # fmt: skip


_NEAR_EYE = "stay on the bony orbital rim, never on the eyelid or the eye; 200 µA at most"
_LATERAL_NECK = "work only the side of the neck, never the front over the carotid sinus"

_ENTRIES: tuple[Muscle, ...] = (
    # forehead
    _m("frontalis", "Frontalis (occipitofrontalis, frontal belly)", "forehead",
       ((150, 150), (150, 95)), "galea aponeurotica", "skin of the brow", "lift-hold"),
    _m("temporalis", "Temporalis", "forehead", ((100, 175), (95, 118)),
       "temporal fossa", "coronoid process of the mandible", "hold", nerve=_V),
    _m("auricularis-anterior", "Auricularis anterior", "forehead", ((95, 172), (74, 192)),
       "temporal fascia", "helix of the ear", "hold"),
    _m("auricularis-superior", "Auricularis superior", "forehead", ((88, 140), (72, 178)),
       "galea aponeurotica", "upper root of the auricle", "hold"),
    # brows
    _m("procerus", "Procerus", "brows", ((200, 185), (200, 160)),
       "nasal bone and upper lateral nasal cartilage", "skin between the brows", "lengthen",
       paired=False),
    _m("corrugator-supercilii", "Corrugator supercilii", "brows", ((188, 166), (158, 154)),
       "medial end of the superciliary arch", "skin above the middle of the brow", "lengthen",
       lengthen_only=True),
    _m("depressor-supercilii", "Depressor supercilii", "brows", ((190, 180), (182, 157)),
       "medial orbital rim", "skin of the medial brow", "lengthen"),
    _r("brow-tail", "Brow tail", "brows", ((128, 166), (110, 148)),
       "lateral third of the brow", "lift-hold"),
    # eyes
    _m("orbicularis-oculi", "Orbicularis oculi (orbital part)", "eyes",
       ((176, 212), (148, 220), (120, 206)), "medial orbital margin and medial palpebral ligament",
       "lateral palpebral raphe", "lift-hold", cautions=(_NEAR_EYE,)),
    _r("infraorbital-region", "Under-eye (infraorbital) region", "eyes",
       ((170, 224), (128, 216)), "below the lower orbital rim", "lymph", cautions=(_NEAR_EYE,)),
    _r("lateral-canthus-region", "Outer eye corner (lateral canthus) region", "eyes",
       ((118, 186), (108, 170)), "beside the outer corner of the eye", "lift-hold",
       cautions=(_NEAR_EYE,)),
    # nose
    _m("nasalis-transverse", "Nasalis (transverse part)", "nose", ((184, 252), (196, 222)),
       "maxilla beside the nasal notch", "aponeurosis over the nasal bridge", "hold"),
    _m("nasalis-alar", "Nasalis (alar part)", "nose", ((182, 266), (184, 252)),
       "maxilla over the lateral incisor", "alar cartilage", "hold"),
    _m("depressor-septi-nasi", "Depressor septi nasi", "nose", ((200, 294), (200, 270)),
       "maxilla above the central incisor", "mobile part of the nasal septum", "hold",
       paired=False),
    _m("levator-labii-superioris-alaeque-nasi", "Levator labii superioris alaeque nasi", "nose",
       ((181, 276), (186, 190)), "frontal process of the maxilla",
       "ala of the nose and the upper lip", "lift-hold"),
    # cheeks
    _m("levator-labii-superioris", "Levator labii superioris", "cheeks",
       ((174, 298), (160, 226)), "infraorbital margin of the maxilla", "skin of the upper lip",
       "lift-hold"),
    _m("zygomaticus-minor", "Zygomaticus minor", "cheeks", ((171, 298), (134, 230)),
       "zygomatic bone", "lateral upper lip", "lift-hold"),
    _m("zygomaticus-major", "Zygomaticus major", "cheeks", ((166, 306), (107, 232)),
       "zygomatic bone", "modiolus at the angle of the mouth", "lift-hold"),
    _m("levator-anguli-oris", "Levator anguli oris", "cheeks", ((168, 302), (168, 256)),
       "canine fossa of the maxilla", "modiolus at the angle of the mouth", "lift-hold"),
    _m("risorius", "Risorius", "cheeks", ((163, 312), (106, 298)),
       "parotid fascia", "modiolus at the angle of the mouth", "glide"),
    _m("buccinator", "Buccinator", "cheeks", ((160, 306), (118, 284)),
       "alveolar processes and pterygomandibular raphe", "orbicularis oris at the mouth angle",
       "hold"),
    _r("malar-region", "Cheekbone (malar) region", "cheeks", ((152, 242), (104, 216)),
       "over the zygomatic bone", "lift-hold"),
    _r("preauricular-region", "In front of the ear (preauricular nodes)", "cheeks",
       ((90, 228), (92, 272)), "in front of the tragus", "lymph"),
    # mouth
    _m("orbicularis-oris", "Orbicularis oris", "mouth", ((168, 310), (200, 298), (232, 310)),
       "modioli and the maxilla and mandible", "skin and mucosa of the lips", "hold",
       paired=False, cautions=("never cover the mouth with the probes",)),
    _r("modiolus", "Mouth corner (modiolus)", "mouth", ((164, 312), (150, 298)),
       "lateral to the angle of the mouth", "lift-hold"),
    _r("nasolabial-region", "Nasolabial fold region", "mouth", ((168, 300), (180, 266)),
       "from the side of the nose to the mouth corner", "lift-hold"),
    # chin
    _m("depressor-anguli-oris", "Depressor anguli oris", "chin", ((165, 318), (150, 364)),
       "oblique line of the mandible", "modiolus at the angle of the mouth", "lengthen",
       lengthen_only=True),
    _m("depressor-labii-inferioris", "Depressor labii inferioris", "chin",
       ((185, 322), (178, 362)), "oblique line of the mandible", "skin of the lower lip",
       "lengthen", lengthen_only=True),
    _m("mentalis", "Mentalis", "chin", ((200, 366), (200, 336)), "incisive fossa of the mandible",
       "skin of the chin", "lift-hold", paired=False),
    _r("submental-region", "Under the chin (submental nodes)", "chin",
       ((200, 380), (166, 374)), "beneath the point of the chin", "lymph", paired=False),
    # jawline
    _m("masseter", "Masseter", "jawline", ((98, 300), (100, 246)),
       "zygomatic arch", "angle and ramus of the mandible", "hold", nerve=_V),
    _r("mandibular-border", "Jawline (mandibular border)", "jawline",
       ((188, 378), (140, 352), (94, 300)), "along the lower border of the mandible", "glide"),
    # neck
    _m("digastric-anterior", "Digastric (anterior belly)", "neck", ((188, 378), (166, 386)),
       "digastric fossa of the mandible", "intermediate tendon at the hyoid", "hold", nerve=_V),
    _m("mylohyoid", "Mylohyoid", "neck", ((196, 384), (172, 380)),
       "mylohyoid line of the mandible", "hyoid bone and median raphe", "hold", nerve=_V),
    _m("platysma", "Platysma", "neck", ((126, 478), (128, 420), (146, 350)),
       "fascia over the upper chest and shoulder", "lower border of the mandible and the lower lip",
       "glide", cautions=(_LATERAL_NECK,)),
    _m("sternocleidomastoid", "Sternocleidomastoid", "neck", ((140, 470), (112, 362)),
       "manubrium and medial clavicle", "mastoid process", "glide",
       nerve="accessory nerve (CN XI)", cautions=(_LATERAL_NECK,)),
    _r("submandibular-region", "Below the jaw (submandibular nodes)", "neck",
       ((160, 372), (118, 354)), "beneath the body of the mandible", "lymph"),
    _r("supraclavicular-region", "Above the collarbone (supraclavicular nodes)", "neck",
       ((120, 488), (165, 492)), "above the clavicle, beside the neck", "lymph",
       cautions=("stay above the collarbone: never across the chest",)),
)  # fmt: skip

MUSCLES: dict[str, Muscle] = {m.name: m for m in _ENTRIES}


@dataclass(frozen=True, slots=True)
class ForbiddenPlacement:
    """A place probes must never go: an ellipse on the map (``rx`` = 0 for rules without one)."""

    name: str
    description: str
    source: str
    centers_xy: tuple[Point, ...]
    rx: float
    ry: float

    def contains(self, point: Point) -> bool:
        if self.rx <= 0 or self.ry <= 0:
            return False
        x, y = point
        return any(
            ((x - cx) / self.rx) ** 2 + ((y - cy) / self.ry) ** 2 < 1.0
            for cx, cy in self.centers_xy
        )


_IEC = "IEC 60601-2-10: not across or through the head, on the eyes, front of the neck, or chest"
FORBIDDEN: tuple[ForbiddenPlacement, ...] = (
    ForbiddenPlacement("eyes", "directly on the eyes or eyelids", _IEC,
                       ((148, 192), (252, 192)), 24, 12),
    ForbiddenPlacement("carotid-sinus", "the front of the neck, over the carotid sinus", _IEC,
                       ((200, 432),), 48, 44),
    ForbiddenPlacement("chest", "across the chest", _IEC, ((200, 700),), 400, 202),
    ForbiddenPlacement("through-head", "through the head (probes on opposite sides)", _IEC,
                       (), 0, 0),
)  # fmt: skip


_BY_NAME = {f.name: f for f in FORBIDDEN}

# The forbidden placements inside (or bordering) a zone: a step that names only the zone gives no
# probe path to check, so it must draw one that keeps clear of these.
ZONE_FORBIDDEN: dict[str, tuple[ForbiddenPlacement, ...]] = {
    "eyes": (_BY_NAME["eyes"],),
    "neck": (_BY_NAME["carotid-sinus"], _BY_NAME["chest"]),
}

# Words in a cue that put the probes on a forbidden placement, unless the same clause warns
# away from it ("never on the lid" is a good cue, "on each closed eyelid" is not).
_CUE_WORDS: dict[str, tuple[str, ...]] = {
    "eyes": ("eyelid", "on the lid", "on the lids", "on the eye", "on each eye", "eyeball"),
    "carotid-sinus": ("front of the neck", "throat", "carotid", "windpipe", "adam's apple"),
    "chest": ("chest", "heart", "breastbone", "sternum"),
    "through-head": ("across the head", "through the head", "each temple", "both temples",
                     "temple to temple", "ear to ear", "each ear"),
}  # fmt: skip
_NEGATIONS = ("never", "not ", "n't", "avoid", "away from", "keep off", "clear of", "without")
_CLAUSE_ENDS = ".;:,!?()"


def forbidden_in_cue(cue: str) -> ForbiddenPlacement | None:
    """The forbidden placement a cue tells the operator to use, if any (see ``_CUE_WORDS``)."""
    text = cue.lower()
    for mark in _CLAUSE_ENDS:
        text = text.replace(mark, "|")
    for clause in text.split("|"):
        if any(n in clause for n in _NEGATIONS):
            continue
        for name, words in _CUE_WORDS.items():
            if any(w in clause for w in words):
                return _BY_NAME[name]
    return None


def mirror(point: Point) -> Point:
    """The same place on the other side of the face."""
    return (MAP_WIDTH - point[0], point[1])


def forbidden_at(point: Point) -> ForbiddenPlacement | None:
    """The forbidden placement that ``point`` falls in, if any."""
    return next((f for f in FORBIDDEN if f.contains(point)), None)


def path_crosses_head(path: tuple[Point, ...] | list[Point]) -> bool:
    """True if a probe path reaches well onto both sides of the head (current through the head)."""
    xs = [x for x, _ in path]
    return bool(xs) and min(xs) < MIDLINE_X - _HEAD_SIDE_X and max(xs) > MIDLINE_X + _HEAD_SIDE_X


def nearest_muscles(name: str, n: int = 3) -> list[str]:
    """Known names closest to ``name`` (for "did you mean"), best first."""
    wanted = name.strip().lower().replace(" ", "-").replace("_", "-")
    return difflib.get_close_matches(wanted, list(MUSCLES), n=n, cutoff=0.5)


def get_muscle(name: str, field: str = "muscle") -> Muscle:
    """A muscle or region by name; raises `InvalidValue` suggesting the nearest names."""
    if name in MUSCLES:
        return MUSCLES[name]
    close = nearest_muscles(name)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see `anatomy`"
    raise InvalidValue(field, name, f"unknown muscle or region; {hint}")
