"""Referral and participation histories of the synthetic persons (DESIGN §3, §7).

Two halves:

* :func:`participation_story` tells what one person took part in since they came —
  integration course, a repeated level, job-related German, BvB, EQ, an
  apprenticeship, counselling — with outcomes, drop-outs and waiting times, from what
  the generator already knows: age, residence timeline (legal access), German today,
  schooling, the cases and their needs. It is the one place that decides what
  happened; for a share of persons chosen by a hash (``plant_candidates``) it tells
  instead a planted story that shows a pattern of the measure-career detection (#6),
  or a near miss, labelled (``Histories.labels``; docs/careers_truth.md).
* :class:`Histories` turns a story into rows: participations, the referrals they came
  from (steps, snapshots, the consent they were sent on), referrals rejected or
  withdrawn on the way, and the referrals open today. It places steps in offers of the
  synthetic catalogue where one fits (dates, age, German, status, free places) and
  keeps count of the places taken, so that an offer's ``occupied`` is the number of
  participations running in it.

Every person's story draws from a random stream of its own
(``participations:<seed>:<person>``), so these tables leave every other table of a
seed as it was, and one person's story does not move anybody else's.

Rows look like what :mod:`lotse.referrals.services` writes: the statuses follow
``TRANSITIONS``, each step is a ReferralEvent, a sent referral carries the categories
and the basis the person's consent for the purpose ``referral`` gave at sending
(``referral_consent``: consents signed for a referral, in tables of their own so the
consents of the privacy stream stay as they were).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lotse.privacy.categories import Category

from . import pools

if TYPE_CHECKING:
    from .generator import Draw

Row = dict[str, Any]
BERLIN = ZoneInfo("Europe/Berlin")

# In loading order: consents before the referrals sent on them, referrals before their
# steps and participations.
STORY_TABLES = [
    "referral_consent",
    "referral_consent_receiving_organisation",
    "referral",
    "referral_need_type",
    "referral_event",
    "participation",
]

MAX_PARTICIPATIONS = 6
LEVELS = ("none", "A1", "A2", "B1", "B2", "C1")
LANGUAGE_CATEGORIES = frozenset({"integrationskurs", "berufssprachkurs", "sprachkurs"})
ALL_CATEGORIES = sorted(c.value for c in Category)
GERMAN_NEED = {
    "none": "deutsch_a1",
    "A1": "deutsch_a2",
    "A2": "deutsch_b1",
    "B1": "deutsch_b2",
    "B2": "deutsch_c1",
}

ASYLUM = frozenset({"ankunftsnachweis", "gestattung"})
TOLERATED = frozenset(
    {
        "duldung",
        "duldung_ermessen",
        "duldung_ungeklaerte_identitaet",
        "ausbildungsduldung",
        "beschaeftigungsduldung",
        "ausreisepflichtig",
    }
)
# No training, employment or measures of the employment promotion with these.
NO_WORK = frozenset({"ankunftsnachweis", "duldung_ungeklaerte_identitaet", "ausreisepflichtig"})
RECOGNISED = frozenset(
    {
        "ae_25_1",
        "ae_25_2_gfk",
        "ae_25_2_subsidiaer",
        "ae_25_3",
        "ae_familie",
        "ae_23",
        "niederlassungserlaubnis",
        "deutsch",
    }
)
TRAINING_STATUSES = frozenset({"ausbildungsduldung", "ae_16g"})
# Chance that a person gets into an integration course during a period of this status
# (§ 44 AufenthG: entitled, admitted at discretion, hardly ever for a Duldung).
IK_ACCESS = {
    **dict.fromkeys(sorted(RECOGNISED), 0.85),
    "ae_24": 0.8,
    "fiktionsbescheinigung": 0.5,
    "ae_25a": 0.6,
    "ae_25b": 0.6,
    "ae_104c": 0.55,
    "ae_25_5": 0.45,
    "ae_16g": 0.3,
    "ae_19d": 0.3,
    "gestattung": 0.2,
    "duldung_ermessen": 0.35,
    "duldung": 0.05,
    "ausbildungsduldung": 0.08,
    "beschaeftigungsduldung": 0.08,
}
IK_GESTATTUNG_FROM = dt.date(2022, 12, 31)  # Gestattete admitted regardless of prospects

# Referrals: what happens on the way (shares of referrals before a participation).
REJECTED_BEFORE = 0.10
WITHDRAWN_BEFORE = 0.04
VIA_REFERRAL = 0.92  # of participations that began while a case was open
# Participations before the case: the lead organisation records the running ones, most
# often the last language course, of the others a few (no earlier counselling); some
# of them took place elsewhere, before the person moved here.
RECORDED_BEFORE = 0.1
RECORDED_LANGUAGE = 0.4
OUTSIDE_SHARE = 0.2
NEXT_FROM_NEEDS = 0.45  # open cases without a next step: one from an open need
OPEN_STATUSES = [("proposed", 8), ("sent", 40), ("accepted", 22), ("waitlisted", 30)]
REFERRAL_CONSENT_CATEGORIES = [
    (tuple(pools.REFERRAL_CATEGORIES), 55),
    (("master", "education"), 25),
    ((*pools.REFERRAL_CATEGORIES, "participations"), 12),
    (("master",), 8),
]
NON_GERMAN_SPEAKERS = frozenset({"none", "A1", "A2"})


# --- courses -------------------------------------------------------------------------


@dataclass(frozen=True)
class Course:
    """A kind of course or measure a story can contain."""

    key: str
    category: str
    titles: tuple[str, ...]  # as recorded without a catalogue offer
    level: str  # the level it leads to (offers.codes.Level)
    providers: tuple[str, ...]  # pools.ORGANISATIONS keys
    weeks: tuple[int, int]
    drop: float  # share of drop-outs
    matches: tuple[str, ...] = ()  # title prefixes of catalogue offers of this kind
    needs: tuple[str, ...] = ()  # need types a referral to it answers (language: by level)
    german_min: str = ""
    age: tuple[int, int] = (16, 99)
    transfer: float = 0.03  # share transferred to another offer
    certificate: float = 0.0  # share of completions with a certificate (non-language)
    waitlist: float = 0.15  # share of referrals that wait for a place
    reasons: str = "course"  # key of ABORT_REASONS
    school_year: bool = False  # runs with the school year (late August to early July)


IK_PROVIDERS = ("vhs", "bruecke", "bwa", "bbz")
COURSES: dict[str, Course] = {
    c.key: c
    for c in [
        Course(
            "ik",
            "integrationskurs",
            ("Integrationskurs (allgemein)",),
            "B1",
            IK_PROVIDERS,
            (28, 44),
            0.20,
            matches=("Integrationskurs (allgemein)",),
            waitlist=0.5,
            reasons="language",
        ),
        Course(
            "ik_youth",
            "integrationskurs",
            ("Jugendintegrationskurs",),
            "B1",
            ("vhs", "bwa"),
            (40, 48),
            0.22,
            matches=("Jugendintegrationskurs",),
            needs=("berufsorientierung",),
            age=(16, 26),
            waitlist=0.5,
            reasons="language",
        ),
        Course(
            "ik_alpha",
            "integrationskurs",
            ("Integrationskurs mit Alphabetisierung",),
            "A2",
            ("vhs", "bruecke"),
            (50, 60),
            0.26,
            matches=("Integrationskurs mit Alphabetisierung",),
            needs=("alphabetisierung",),
            waitlist=0.5,
            reasons="language",
        ),
        Course(
            "ik_parents",
            "integrationskurs",
            ("Eltern- und Frauenintegrationskurs",),
            "B1",
            ("vhs", "bwa"),
            (40, 52),
            0.22,
            matches=("Eltern- und Frauenintegrationskurs",),
            needs=("kinderbetreuung",),
            age=(20, 99),
            waitlist=0.5,
            reasons="language",
        ),
        Course(
            "ik_repeat",
            "integrationskurs",
            (
                "Integrationskurs – Wiederholung B1 (300 UE)",
                "Integrationskurs – Wiederholerkurs Module 4–6",
            ),
            "B1",
            ("vhs", "bruecke", "bwa"),
            (12, 16),
            0.22,
            waitlist=0.35,
            reasons="language",
        ),
        Course(
            "sk_land",
            "sprachkurs",
            ("Deutschkurs für Geflüchtete (Landesprogramm)",),
            "A2",
            ("bwa", "caritas", "awo"),
            (12, 20),
            0.30,
            matches=("Deutschkurs für Geflüchtete",),
            reasons="language",
        ),
        Course(
            "sk_a1",
            "sprachkurs",
            ("Deutsch im Alltag – Einstiegskurs A1", "Erstorientierungskurs Deutsch"),
            "A1",
            ("vhs", "drk", "miteinander"),
            (10, 14),
            0.30,
            matches=("Deutsch im Alltag",),
            reasons="language",
        ),
        Course(
            "sk_women",
            "sprachkurs",
            ("Deutschkurs für Frauen mit Kinderbetreuung",),
            "A2",
            ("awo", "caritas"),
            (12, 20),
            0.28,
            matches=("Deutschkurs für Frauen",),
            needs=("kinderbetreuung",),
            age=(18, 99),
            reasons="language",
        ),
        Course(
            "bsk_b1",
            "berufssprachkurs",
            ("Berufssprachkurs Spezialmodul A2 → B1",),
            "B1",
            ("bruecke", "bwa"),
            (12, 18),
            0.18,
            matches=("Berufssprachkurs Spezialmodul",),
            german_min="A2",
            age=(18, 99),
            waitlist=0.3,
            reasons="language",
        ),
        Course(
            "bsk_b2",
            "berufssprachkurs",
            ("Berufssprachkurs B1 → B2",),
            "B2",
            ("bruecke", "bwa", "vhs", "bbz"),
            (16, 26),
            0.15,
            matches=(
                "Berufssprachkurs B1 → B2",
                "Berufssprachkurs Einzelhandel",
                "Berufssprachkurs Gewerbe",
                "Berufssprachkurs Fachsprache",
            ),
            german_min="B1",
            age=(18, 99),
            waitlist=0.3,
            reasons="language",
        ),
        Course(
            "bsk_c1",
            "berufssprachkurs",
            ("Berufssprachkurs B2 → C1",),
            "C1",
            ("bruecke", "vhs"),
            (16, 26),
            0.15,
            matches=("Berufssprachkurs B2 → C1",),
            german_min="B2",
            age=(18, 99),
            waitlist=0.3,
            reasons="language",
        ),
        Course(
            "ifk",
            "schulabschluss",
            ("Internationale Förderklasse (IFK) am Berufskolleg",),
            "school_certificate",
            ("bk",),
            (44, 46),
            0.20,
            matches=("Internationale Förderklasse", "Ausbildungsvorbereitung mit Sprachförderung"),
            needs=("schulplatz",),
            age=(16, 18),
            certificate=0.55,
            reasons="school",
            school_year=True,
        ),
        Course(
            "school",
            "schulabschluss",
            (
                "Hauptschulabschluss nach Klasse 9 (Abendform)",
                "Schulabschluss für junge Geflüchtete – Vorbereitungskurs",
            ),
            "school_certificate",
            ("vhs", "bwa", "miteinander"),
            (36, 44),
            0.30,
            matches=("Hauptschulabschluss", "Schulabschluss für junge Geflüchtete"),
            needs=("schulabschluss",),
            german_min="A2",
            age=(18, 27),
            certificate=0.7,
            reasons="school",
        ),
        Course(
            "orientation",
            "berufsorientierung",
            (
                "Perspektiven für junge Geflüchtete (PerjuF)",
                "Kompetenzfeststellung und Praxiserprobung",
            ),
            "orientation",
            ("bbz", "bwa"),
            (4, 24),
            0.15,
            matches=("Perspektiven für junge Geflüchtete", "Kompetenzfeststellung"),
            needs=("berufsorientierung",),
            age=(16, 27),
            certificate=0.5,
            reasons="measure",
        ),
        Course(
            "bvb",
            "bvb",
            ("Berufsvorbereitende Bildungsmaßnahme (BvB)",),
            "preparation",
            ("bwa", "werkstatt"),
            (40, 48),
            0.30,
            matches=("Berufsvorbereitende", "BvB"),
            needs=("ausbildungsvorbereitung",),
            german_min="A2",
            age=(16, 24),
            transfer=0.15,
            certificate=0.5,
            reasons="measure",
        ),
        Course(
            "production",
            "produktionsschule",
            ("Produktionsschule",),
            "preparation",
            ("bwa",),
            (26, 52),
            0.35,
            matches=("Produktionsschule",),
            needs=("ausbildungsvorbereitung",),
            age=(16, 24),
            transfer=0.08,
            certificate=0.4,
            reasons="measure",
        ),
        Course(
            "eq",
            "eq",
            ("Einstiegsqualifizierung (EQ) Lager und Logistik", "Einstiegsqualifizierung (EQ)"),
            "preparation",
            ("ihk", "hwk"),
            (26, 52),
            0.25,
            matches=("Einstiegsqualifizierung",),
            needs=("einstiegsqualifizierung",),
            german_min="A2",
            age=(16, 35),
            transfer=0.1,
            certificate=0.6,
            reasons="measure",
        ),
        Course(
            "apprenticeship",
            "ausbildung",
            (
                "Ausbildung Fachlagerist/in (m/w/d)",
                "Ausbildung Verkäufer/in (m/w/d)",
                "Ausbildung Koch/Köchin (m/w/d)",
                "Ausbildung Elektroniker/in (m/w/d)",
                "Ausbildung Maler/in und Lackierer/in (m/w/d)",
                "Ausbildung Kfz-Mechatroniker/in (m/w/d)",
                "Ausbildung Pflegefachassistenz",
            ),
            "qualification",
            ("ihk", "hwk"),
            (104, 182),
            0.25,
            matches=("Ausbildung ", "Pflegefachassistenz"),
            needs=("ausbildungsplatz",),
            german_min="B1",
            age=(16, 35),
            transfer=0.02,
            certificate=0.88,
            waitlist=0.0,
            reasons="apprenticeship",
        ),
        Course(
            "asa",
            "asa_flex",
            ("Assistierte Ausbildung flexibel (AsA flex)",),
            "qualification",
            ("bwa", "bbz"),
            (52, 104),
            0.15,
            matches=("Assistierte Ausbildung",),
            needs=("ausbildungsbegleitung",),
            transfer=0.0,
            reasons="measure",
        ),
        Course(
            "work_agh",
            "arbeit",
            ("Arbeitsgelegenheit nach § 5 AsylbLG",),
            "",
            ("werkstatt",),
            (12, 40),
            0.30,
            matches=("Arbeitsgelegenheit nach § 5",),
            needs=("arbeitsplatz",),
            age=(18, 99),
            reasons="measure",
        ),
        Course(
            "work_kompas",
            "arbeit",
            ("Kompetenzen, Aktivierung und Spracherwerb (KompAS)",),
            "",
            ("bbz",),
            (16, 30),
            0.30,
            matches=("Kompetenzen, Aktivierung",),
            needs=("arbeitsplatz",),
            german_min="A1",
            age=(18, 99),
            reasons="measure",
        ),
        Course(
            "work_turbo",
            "arbeit",
            ("Job-Turbo Coaching – Arbeitsaufnahme begleiten",),
            "",
            ("bwa",),
            (12, 26),
            0.22,
            matches=("Job-Turbo",),
            needs=("arbeitsplatz",),
            german_min="A2",
            age=(18, 99),
            reasons="measure",
        ),
        Course(
            "advice_recognition",
            "beratung",
            ("Anerkennungsberatung für ausländische Berufsabschlüsse",),
            "",
            ("ihk", "ki"),
            (4, 16),
            0.15,
            matches=("Anerkennungsberatung",),
            needs=("anerkennung",),
            age=(18, 99),
            transfer=0.0,
            waitlist=0.05,
            reasons="advice",
        ),
        Course(
            "advice_career",
            "beratung",
            ("Berufsberatung für Geflüchtete",),
            "",
            ("agentur",),
            (4, 20),
            0.15,
            matches=("Berufsberatung für Geflüchtete",),
            needs=("berufsorientierung",),
            age=(16, 27),
            transfer=0.0,
            waitlist=0.0,
            reasons="advice",
        ),
        Course(
            "advice_residence",
            "beratung",
            ("Bleiberechtsberatung für Geduldete",),
            "",
            ("diakonie",),
            (4, 26),
            0.15,
            matches=("Bleiberechtsberatung",),
            needs=("aufenthaltsperspektive",),
            transfer=0.0,
            waitlist=0.0,
            reasons="advice",
        ),
        Course(
            "advice_housing",
            "beratung",
            ("Wohnraumberatung – Auszug aus der Unterkunft",),
            "",
            ("caritas", "ki"),
            (4, 20),
            0.15,
            matches=("Wohnraumberatung",),
            needs=("wohnung",),
            age=(18, 99),
            transfer=0.0,
            waitlist=0.0,
            reasons="advice",
        ),
        Course(
            "advice_debt",
            "beratung",
            ("Schuldner- und Insolvenzberatung",),
            "",
            ("diakonie",),
            (8, 30),
            0.20,
            matches=("Schuldner- und Insolvenzberatung",),
            needs=("schulden",),
            age=(18, 99),
            transfer=0.0,
            waitlist=0.1,
            reasons="advice",
        ),
    ]
}
IK_KEYS = frozenset({"ik", "ik_youth", "ik_alpha", "ik_parents", "ik_repeat"})
# An open need of the current case → the courses that answer it, first fitting wins.
NEED_COURSES: dict[str, tuple[str, ...]] = {
    "deutsch_a1": ("sk_a1", "ik"),
    "deutsch_a2": ("ik", "sk_land"),
    "deutsch_b1": ("ik_repeat", "bsk_b1", "ik"),
    "deutsch_b2": ("bsk_b2",),
    "deutsch_c1": ("bsk_c1",),
    "alphabetisierung": ("ik_alpha",),
    "schulabschluss": ("school",),
    "schulplatz": ("ifk",),
    "berufsorientierung": ("orientation", "advice_career"),
    "ausbildungsvorbereitung": ("bvb", "production"),
    "einstiegsqualifizierung": ("eq",),
    "ausbildungsplatz": ("apprenticeship",),
    "anerkennung": ("advice_recognition",),
    "arbeitsplatz": ("work_turbo", "work_kompas"),
    "aufenthaltsperspektive": ("advice_residence",),
    "wohnung": ("advice_housing",),
    "schulden": ("advice_debt",),
}

# Reasons for dropping out, per kind of course (AbortReason codes, weights).
ABORT_REASONS: dict[str, list[tuple[str, float]]] = {
    "language": [
        ("work", 30),
        ("family", 18),
        ("health", 12),
        ("moved", 12),
        ("motivation", 14),
        ("demands", 8),
        ("other", 6),
    ],
    "school": [
        ("motivation", 25),
        ("demands", 25),
        ("work", 20),
        ("family", 12),
        ("moved", 10),
        ("health", 8),
    ],
    "measure": [
        ("motivation", 25),
        ("work", 20),
        ("demands", 18),
        ("health", 10),
        ("moved", 10),
        ("family", 8),
        ("provider", 4),
        ("other", 5),
    ],
    "apprenticeship": [
        ("demands", 28),
        ("work", 14),
        ("motivation", 14),
        ("provider", 12),
        ("health", 10),
        ("moved", 10),
        ("family", 8),
        ("other", 4),
    ],
    "advice": [("motivation", 50), ("moved", 20), ("other", 30)],
}
# A case closed for one of these reasons while the person took part: the participation
# ended then, with this reason (for the other reasons it went on).
CLOSING_ABORT = {
    "moved_away": "moved",
    "departed": "residence",
    "no_contact": "motivation",
    "declined": "motivation",
}
ABORT_NOTES = {
    "work": (
        "Arbeitsaufnahme als Helfer:in in der Logistik.",
        "Minijob mit Schichtarbeit, Kurszeiten passen nicht mehr.",
        "Hat eine Vollzeitstelle in der Gastronomie angenommen.",
    ),
    "moved": ("Umzug in eine andere Kommune.", "Umzug zu Familienangehörigen."),
    "health": ("Längere Erkrankung.", "Krankheitsbedingt nicht mehr teilgenommen."),
    "family": ("Kinderbetreuung nicht gesichert.", "Geburt eines Kindes."),
    "motivation": (
        "Seit mehreren Wochen nicht mehr erschienen.",
        "Kein Interesse mehr, Ziel hat sich geändert.",
    ),
    "demands": (
        "Überforderung, niedrigschwelligeres Angebot geplant.",
        "Berufsschule zu schwer, Prüfung nicht zugelassen.",
    ),
    "residence": ("Aufenthalt beendet.",),
    "provider": ("Maßnahme vom Träger vorzeitig beendet.", "Betrieb hat den Vertrag gekündigt."),
    "other": ("Sonstige Gründe.",),
}
CERTIFICATE_NOTES = {
    "integrationskurs": ("DTZ bestanden, Test „Leben in Deutschland“ bestanden.", ""),
    "berufssprachkurs": ("telc-Prüfung bestanden.", "Zertifikat liegt vor."),
    "sprachkurs": ("Teilnahmebescheinigung mit Lernstand.", ""),
    "schulabschluss": ("Hauptschulabschluss erreicht.", "Abschlusszeugnis liegt vor."),
    "ausbildung": ("Abschlussprüfung bestanden.", "Gesellenprüfung bestanden."),
    "bvb": ("Übergang in Ausbildung vorbereitet.", ""),
    "eq": ("Zertifikat der Kammer über die EQ.", ""),
    "berufsorientierung": ("Kompetenzprofil erstellt.", ""),
}
REFERRAL_REASONS = {
    "integrationskurs": (
        "Berechtigungsschein liegt vor; Deutsch bis B1 als Grundlage für Ausbildung und Arbeit.",
        "Verpflichtung durch das Jobcenter; Einstufungstest bitte beim Träger.",
        "Person möchte den nächsten Kurs besuchen, Kinderbetreuung ist geklärt.",
    ),
    "sprachkurs": (
        "Kein Zugang zum Integrationskurs; Deutsch für den Alltag.",
        "Überbrückung bis zum Integrationskurs.",
    ),
    "berufssprachkurs": (
        "Für die angestrebte Ausbildung wird B2 gebraucht.",
        "Berechtigungsschein des Jobcenters liegt vor.",
    ),
    "schulabschluss": (
        "Kein anerkannter Schulabschluss; Hauptschulabschluss als Ziel.",
        "Schulpflichtig, Platz in der Internationalen Förderklasse gesucht.",
    ),
    "berufsorientierung": ("Berufswunsch noch offen; Praxiserprobung sinnvoll.",),
    "bvb": (
        "Ausbildungsreife soll hergestellt werden; Interesse an Handwerk.",
        "Nach dem Sprachkurs Übergang in Ausbildung vorbereiten.",
    ),
    "produktionsschule": ("Praktisches Lernen statt Unterricht; Tagesstruktur.",),
    "eq": ("Betrieb bietet EQ mit Aussicht auf Ausbildung an.",),
    "ausbildung": (
        "Bewerbung um einen Ausbildungsplatz; Praktikum im Betrieb war erfolgreich.",
        "Ausbildungsplatz für eine Ausbildungsduldung bzw. § 16g gesucht.",
    ),
    "asa_flex": ("Begleitung in der Ausbildung: Berufsschule und Fachsprache.",),
    "arbeit": ("Heranführung an den Arbeitsmarkt.", "Unterstützung bei der Arbeitsaufnahme."),
    "beratung": ("Bitte um Beratung und Begleitung.", "Fragen zu Unterlagen und Fristen."),
}
REJECT_NOTES = {
    "prerequisites": "Sprachniveau für diesen Kurs noch nicht ausreichend.",
    "no_place": "Kurs ausgebucht, keine Warteliste.",
    "unsuitable": "Angebot passt nicht zum Bedarf.",
    "not_reached": "Person auf Einladungen nicht erreichbar.",
    "declined": "Person hat sich für ein anderes Angebot entschieden.",
    "other": "Kursbeginn verschoben, neue Anmeldung nötig.",
}
REJECT_REASONS = [
    ("no_place", 35),
    ("prerequisites", 20),
    ("unsuitable", 12),
    ("not_reached", 15),
    ("declined", 13),
    ("other", 5),
]
WITHDRAW_NOTES = (
    "Person hat eine Arbeit aufgenommen.",
    "Person ist umgezogen.",
    "Anderes Angebot passt besser.",
    "",
)
OUTCOME_EVENT_NOTES = {
    "completed_certificate": "Abgeschlossen mit Zertifikat.",
    "completed": "Abgeschlossen.",
    "aborted": "Abgebrochen.",
    "transferred": "In ein anderes Angebot gewechselt.",
}
OUTCOME_STATUS = {
    "completed_certificate": "completed",
    "completed": "completed",
    "transferred": "completed",
    "aborted": "aborted",
}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1


def lower(a: str, b: str) -> str:
    return a if rank(a) <= rank(b) else b


def higher(a: str, b: str) -> str:
    return a if rank(a) >= rank(b) else b


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- the person, as the generator knows them ------------------------------------------


# (id or None, receiving organisation id, categories, signed_on, valid_until, withdrawn_at)
ReferralConsent = tuple[int | None, int, tuple[str, ...], dt.date, dt.date | None, Any]


@dataclass
class StoryStaff:
    user_id: int
    org_key: str
    label: str


@dataclass
class StoryCase:
    id: int
    lead: str
    manager: StoryStaff
    phase: str
    opened: dt.date
    closed: dt.date | None
    reason: str = ""
    needs: list[tuple[str, str]] = field(default_factory=list)  # (need type, status)

    def open_on(self, day: dt.date) -> bool:
        return self.opened <= day and (self.closed is None or day <= self.closed)


@dataclass
class StoryPerson:
    id: int
    birth: dt.date
    entry: dt.date
    gender: str
    german: str  # level of German today
    school_years: int
    first_language: str
    segments: Sequence[tuple[dt.date, str]]  # residence timeline: (from, status)
    cases: Sequence[StoryCase]  # oldest first; the last is the current one
    training_since: dt.date | None = None  # from the facts of the eligibility check
    # The steps of the person's integration plans: (created on, due date, status).
    plan_steps: Sequence[tuple[dt.date, dt.date | None, str]] = ()
    # The person's consents for a referral so far; those of the privacy stream have no
    # id here (the referrals of these tables cannot point at them).
    referral_consents: list[ReferralConsent] = field(default_factory=list)

    @property
    def case(self) -> StoryCase:
        return self.cases[-1]

    def status_on(self, day: dt.date) -> str:
        status = self.segments[0][1] if self.segments else "gestattung"
        for start, code in self.segments:
            if start > day:
                break
            status = code
        return status

    def case_on(self, day: dt.date) -> StoryCase | None:
        return next((c for c in self.cases if c.open_on(day)), None)


# --- the story -----------------------------------------------------------------------


@dataclass
class Step:
    """One participation of the story (or, with ``open_status``, the next one, referred
    but not begun)."""

    course: str
    start: dt.date
    planned_end: dt.date
    level_before: str = "none"
    end: dt.date | None = None  # None: running today (or not begun)
    outcome: str = ""
    abort_reason: str = ""
    level_reached: str = ""
    next_step: str = ""  # what followed (Verbleib), set from the story (_follow_ups)
    note: str = ""
    offer: Row | None = None
    provider: str | None = None  # organisation key; None: elsewhere, before moving here
    title: str = ""
    waited: int = 0  # days on a waiting list before the start
    open_status: str = ""  # proposed, sent, accepted or waitlisted: not begun yet
    concurrent: bool = False  # alongside the main track (AsA flex, counselling)
    # Planted steps (#6) are written as told: recorded by the lead organisation
    # (``sent`` None) or from a referral sent on ``sent`` (waiting ``waited`` days).
    planted: bool = False
    sent: dt.date | None = None

    @property
    def running(self) -> bool:
        return self.end is None and not self.open_status

    @property
    def category(self) -> str:
        return str(self.offer["category"]) if self.offer else COURSES[self.course].category

    @property
    def level(self) -> str:
        return str(self.offer["level"]) if self.offer else COURSES[self.course].level


@dataclass
class Story:
    steps: list[Step]
    next: Step | None = None  # an open referral today
    plant: Plant | None = None  # the pattern planted in place of the drawn story
    note: str = ""  # what was planted, in a few words (for the label)


# Finds an offer for a step (see Histories.place).
Placer = Callable[[Step, StoryPerson, "Draw"], Step]


# --- planted patterns (ground truth of the measure-career detection, #6) ---------------

PLANTS = ("cycle", "repetition", "no_progression", "gap", "waiting", "dropout_chain")
# Share of persons chosen for a plant (Config.plant_share) and of those a positive.
PLANT_SHARE = 0.21
POSITIVE_SHARE = 0.6
POSITIVE, DECOY = "positive", "decoy"
# Measures a planted career is made of (MEASURE categories, short enough for a cycle).
PLANT_MEASURES = (
    "sk_land",
    "sk_a1",
    "orientation",
    "bvb",
    "production",
    "eq",
    "work_agh",
    "work_kompas",
    "work_turbo",
)
# Weights of the rule tried first: gap and waiting need an open case (and gap no
# active plan step), so fewer persons fit them; dropout_chain gets the most fallbacks.
PLANT_WEIGHTS = {
    "cycle": 1.2,
    "repetition": 1.2,
    "no_progression": 1.2,
    "gap": 1.6,
    "waiting": 1.6,
    "dropout_chain": 0.5,
}
IK_LIMIT = 56  # days the default waiting rule allows an integration course referral
DEFAULT_LIMIT = 90  # and any other referral


@dataclass(frozen=True)
class Plant:
    rule: str  # one of PLANTS
    label: str  # POSITIVE or DECOY


def plant_candidates(seed: int, person_id: int, share: float) -> list[Plant]:
    """The plants to try for a person, in order; empty when the person is not chosen.

    From a hash of seed and person, not the person's random stream: the same persons
    are chosen whatever else changes, and a larger share only adds persons. The label
    is drawn once; the rules follow in a rotated order, the first one the person is
    eligible for wins (:func:`participation_story`)."""
    digest = hashlib.sha256(f"plant:{seed}:{person_id}".encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= share:
        return []
    label = POSITIVE if digest[8] < 256 * POSITIVE_SHARE else DECOY
    r = int.from_bytes(digest[9:13], "big") / 2**32 * sum(PLANT_WEIGHTS.values())
    first = 0
    for i, rule in enumerate(PLANTS):
        r -= PLANT_WEIGHTS[rule]
        if r < 0:
            first = i
            break
    return [Plant(rule, label) for rule in PLANTS[first:] + PLANTS[:first]]


def participation_story(
    p: StoryPerson,
    d: Draw,
    place: Placer,
    *,
    today: dt.date,
    plant: Plant | Sequence[Plant] | None = None,
) -> Story:
    """What the person took part in since entry, oldest first, and the next step if a
    referral for it is open today.

    ``place`` finds an offer of the catalogue for a step (and may move its dates to the
    offer's, or put the person on the waiting list of a full one).

    ``plant`` (#6): a :class:`Plant` — or several, the first the person is eligible for
    wins — replaces the drawn story by one that shows the rule's pattern (``positive``)
    or a near miss it must not flag (``decoy``); the story's ``plant`` and ``note`` say
    which. The drawn story is told first all the same: a person whose drawn story takes
    a place running today in an offer with a capacity is not eligible, so that the
    places other persons find free stay as they were. Planted stories hold only ended
    participations (and, for ``waiting``, an open referral): nothing else in the
    person's history can make a decoy fire. See docs/careers_truth.md.
    """
    teller = _Teller(p, d, place, today)
    teller.language()
    teller.vocational()
    teller.counselling()
    teller.from_needs()
    steps = sorted(teller.steps, key=lambda s: (s.start, s.concurrent))
    _follow_ups(steps, p, today)
    drawn = Story(steps=steps, next=teller.next)
    plants = [plant] if isinstance(plant, Plant) else list(plant or ())
    if not plants or any(
        s.running and s.offer is not None and s.offer["capacity"] is not None for s in steps
    ):
        return drawn
    # A person not planted after all writes their rows from the stream as it was.
    state = d.rng.getstate()
    planter = _Planter(p, d, place, today)
    if planter.eligible():
        for candidate in plants:
            story = planter.tell(candidate)
            if story is not None:
                return story
    d.rng.setstate(state)
    return drawn


Item = tuple[str, int, str, str]  # course key, days, outcome, level reached


class _Planter:
    """Tells a planted story: ended participations laid out backwards from an end day,
    each checked against age, status and German like the drawn ones."""

    def __init__(self, p: StoryPerson, d: Draw, place: Placer, today: dt.date) -> None:
        self.p, self.d, self.place, self.today = p, d, place, today
        self.teller = _Teller(p, d, place, today)
        self.yesterday = today - days(1)
        closed = p.case.closed
        self.horizon = min(closed, self.yesterday) if closed else self.yesterday
        self.earliest = p.entry + days(30)
        self.exits: list[Step] = []  # steps whose next step was a job (not in the story)

    def eligible(self) -> bool:
        p = self.p
        if p.case.phase == "intake" or p.training_since is not None:
            return False  # nothing recorded yet; an apprenticeship the timeline tells of
        if any(code in TRAINING_STATUSES for _start, code in p.segments):
            return False
        return age_on(p.birth, self.horizon) >= 17

    def tell(self, plant: Plant) -> Story | None:
        tellers: dict[str, Callable[[bool], tuple[list[Step], Step | None, str] | None]] = {
            "cycle": self.cycle,
            "repetition": self.repetition,
            "no_progression": self.no_progression,
            "gap": self.gap,
            "waiting": self.waiting,
            "dropout_chain": self.dropout_chain,
        }
        told = tellers[plant.rule](plant.label == POSITIVE)
        if told is None:
            return None
        steps, following, note = told
        _follow_ups(steps, self.p, self.today)
        for s in self.exits:
            s.next_step = "employment"
        return Story(steps=steps, next=following, plant=plant, note=note)

    # --- helpers ---------------------------------------------------------------

    def days_of(self, key: str, lo: int = 0, hi: int = 10_000) -> int:
        weeks = COURSES[key].weeks
        return min(max(self.d.rng.randint(*weeks) * 7 - 3, lo), hi)

    def reached(self, key: str) -> str:
        """The level a certificate of the course states, as far as the German the
        person has today allows ("" when it allows none)."""
        course = COURSES[key]
        if course.category not in LANGUAGE_CATEGORIES:
            return course.level
        got = lower(course.level or "A1", self.p.german)
        return "" if got == "none" else got

    def measures(self, n: int, around: dt.date, *, work: bool = True) -> list[str] | None:
        """``n`` measures the person may take about then (repeats only if few fit);
        ``work`` False: none of the work measures (few of them end in a drop-out)."""
        options = [
            k
            for k in PLANT_MEASURES
            if (work or COURSES[k].category != "arbeit")
            and self.teller.allowed(COURSES[k], around, self.p.german)
            and self.teller.allowed(COURSES[k], around - days(600), self.p.german)
        ]
        if not options:
            return None
        # The three work measures count as one choice (they are rarer in drawn stories).
        jobs = [k for k in options if COURSES[k].category == "arbeit"]
        if len(jobs) > 1:
            keep = self.d.pick(jobs)
            options = [k for k in options if k not in jobs or k == keep]
        picks = list(options)
        self.d.rng.shuffle(picks)
        while len(picks) < n:
            picks.append(self.d.pick(options))
        return picks[:n]

    def measure_item(self, key: str, outcome: str = "", most: int = 150) -> Item:
        """A measure with an outcome drawn (or given) and no exit."""
        d = self.d
        if not outcome:
            drop = 15 if COURSES[key].category == "arbeit" else 25
            outcome = d.weighted(
                [("completed", 50), ("aborted", drop), ("completed_certificate", 15)]
            )
        if outcome == "aborted":
            return key, d.rng.randint(20, min(most, 120)), outcome, ""
        if outcome == "completed_certificate":
            reached = self.reached(key)
            if not reached:
                outcome = "completed"
            return key, self.days_of(key, 28, most), outcome, reached
        return key, self.days_of(key, 28, most), outcome, ""

    def lay(self, items: Sequence[Item], gaps: Sequence[int], end: dt.date) -> list[Step] | None:
        """The items one after the other, ``gaps[i]`` days between item i and i+1, the
        last ending on ``end``; None when they do not fit the person."""
        p = self.p
        starts: list[dt.date] = []
        cursor = end
        for i in range(len(items) - 1, -1, -1):
            start = cursor - days(items[i][1])
            starts.append(start)
            if i:
                cursor = start - days(gaps[i - 1])
        starts.reverse()
        if starts[0] < self.earliest or end > self.horizon:
            return None
        steps: list[Step] = []
        level = "none"
        for (key, length, outcome, reached), start in zip(items, starts, strict=True):
            course = COURSES[key]
            language = course.category in LANGUAGE_CATEGORIES
            before = level if language else higher(level, p.german)
            if not self.teller.allowed(course, start, before):
                return None
            if p.case_on(start) is None and not any(c.opened > start for c in p.cases):
                return None  # between the closing of the last case and today: unrecorded
            steps.append(self.step(key, start, start + days(length), outcome, reached, before))
            if language and reached in LEVELS:
                level = higher(level, reached)
        return steps

    def step(
        self, key: str, start: dt.date, end: dt.date, outcome: str, reached: str, before: str
    ) -> Step:
        d, p = self.d, self.p
        course = COURSES[key]
        planned = end
        if outcome in ("aborted", "transferred"):
            planned = max(end + days(14), start + days(self.days_of(key)))
            planned = min(planned, self.yesterday)
        step = Step(key, start, planned, level_before=before, planted=True)
        trial = Step(key, start, planned, level_before=before)
        placed = self.place(trial, p, d)
        if (
            placed.offer is not None
            and not placed.open_status
            and placed.start == start
            and placed.planned_end >= end
            and placed.category == course.category
            and placed.level == course.level
        ):
            step.offer, step.provider, step.title = placed.offer, placed.provider, placed.title
            step.planned_end = placed.planned_end
        else:
            step.provider = d.pick(course.providers)
            step.title = d.pick(course.titles)
        step.end, step.outcome = end, outcome
        step.level_reached = reached if outcome != "aborted" else ""
        if outcome == "aborted":
            reasons = list(ABORT_REASONS[course.reasons])
            if p.status_on(start) in TOLERATED:
                reasons.append(("residence", 4))
            step.abort_reason = d.weighted(reasons)
            step.note = d.pick(ABORT_NOTES[step.abort_reason]) if d.chance(0.6) else ""
        elif outcome == "completed_certificate" and d.chance(0.5):
            step.note = d.pick(CERTIFICATE_NOTES.get(course.category, ("",)))
        return step

    def via_referrals(self, steps: Sequence[Step]) -> None:
        """Steps while a case was open come from a referral sent 5–30 days before."""
        for s in steps:
            case = self.p.case_on(s.start)
            if case is not None and (s.start - case.opened).days >= 6:
                s.sent = max(case.opened + days(1), s.start - days(self.d.rng.randint(5, 30)))

    def end_day(self, most: int = 400) -> dt.date:
        return self.horizon - days(self.d.rng.randint(5, most))

    def gaps(self, n: int, lo: int = 14, hi: int = 75) -> list[int]:
        return [self.d.rng.randint(lo, hi) for _ in range(n)]

    # --- the rules -------------------------------------------------------------

    def cycle(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d = self.d
        end = self.end_day()
        if positive:
            n = d.pick((3, 4))
            keys = self.measures(n, end)
            if keys is None:
                return None
            items = [self.measure_item(k, most=120) for k in keys]
            steps = self.lay(items, self.gaps(n - 1), end)
            if steps is None:
                return None
            months = _months(steps[0].start, steps[-1].start)
            if months >= 20:
                return None
            self.via_referrals(steps)
            return steps, None, f"{n} measures started within {months + 1} months, no exit"
        keys = self.measures(3, end)
        if keys is None:
            return None
        if d.chance(0.4):
            items = [self.measure_item(k, most=120) for k in keys[:2]]
            steps = self.lay(items, self.gaps(1), end)
            note = "2 measures only"
        else:
            first = [self.measure_item(k, most=120) for k in keys[:2]]
            last = self.measure_item(keys[2], most=120)
            apprenticeship: Item = ("apprenticeship", d.rng.randint(60, 240), "aborted", "")
            steps = self.lay([*first, apprenticeship, last], self.gaps(3), end)
            note = "3 measures with an apprenticeship in between"
            if steps is None:  # no apprenticeship allowed: a job in between
                steps = self.lay([*first, last], [d.rng.randint(20, 60), 150], end)
                if steps is not None:
                    self.exits = [steps[1]]
                note = "3 measures with employment in between"
        if steps is None:
            return None
        self.via_referrals(steps)
        return steps, None, note

    def repetition(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d, german = self.d, self.p.german
        if rank(german) < rank("A2"):
            return None
        end = self.end_day()
        if positive:
            first: Item
            if rank(german) >= rank("A2") and d.chance(0.6):
                first = ("ik", self.days_of("ik"), "completed", "A2")
                note = "B1 integration course ended with A2, then a second B1 course"
            else:
                first = ("ik", d.rng.randint(40, 180), "aborted", "")
                note = "B1 integration course aborted, then a second B1 course"
            reached = self.reached("ik_repeat")
            again: Item = (
                "ik_repeat",
                self.days_of("ik_repeat"),
                "completed_certificate" if reached == "B1" else "completed",
                reached if reached == "B1" else "",
            )
            steps = self.lay([first, again], [d.rng.randint(20, 150)], end)
        elif rank(german) >= rank("B1") and d.chance(0.6):
            first = ("ik", self.days_of("ik"), "completed_certificate", "B1")
            second = self.measure_item("bsk_b2", d.pick(("completed", "completed_certificate")))
            steps = self.lay([first, second], [d.rng.randint(20, 200)], end)
            note = "B1 certificate, then job-related German B2"
        else:
            first = ("ik", d.rng.randint(60, 200), "transferred", "")
            reached = self.reached("ik_repeat")
            again = ("ik_repeat", self.days_of("ik_repeat"), "completed", reached)
            steps = self.lay([first, again], [d.rng.randint(7, 30)], end)
            note = "transferred from a B1 course to another B1 course"
        if steps is None:
            return None
        self.via_referrals(steps)
        return steps, None, note

    def no_progression(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d, german = self.d, self.p.german
        end = self.end_day()
        keys = self.measures(3, end)
        if keys is None:
            return None
        # Three ended without a level: aborted, or completed without one.
        flat = [
            self.measure_item(
                k,
                "completed"
                if COURSES[k].category == "arbeit"
                else d.weighted([("aborted", 35), ("completed", 65)]),
            )
            for k in keys
        ]
        prior: list[Item] = []
        if rank(german) >= rank("A1") and d.chance(0.6):
            prior = [("sk_a1", self.days_of("sk_a1"), "completed_certificate", "A1")]
        if positive:
            items = [*prior, *flat]
            note = "3 ended participations without a level rise"
        else:
            rise: Item | None = None
            best = "A1" if prior else "none"
            if self.teller.allowed(COURSES["orientation"], end - days(300), german):
                rise = (
                    "orientation",
                    self.days_of("orientation", 28),
                    "completed_certificate",
                    "orientation",
                )
            elif rank(german) > rank(best):
                key = "sk_a1" if best == "none" else "sk_land"
                if rank(self.reached(key)) > rank(best):
                    rise = (key, self.days_of(key), "completed_certificate", self.reached(key))
            if rise is None:
                return None
            flat[d.rng.randrange(3)] = rise
            items = [*prior, *flat]
            note = f"a level rise ({rise[3]}) in the last three"
        steps = self.lay(items, self.gaps(len(items) - 1), end)
        if steps is None:
            return None
        self.via_referrals(steps)
        return steps, None, note

    def covered(self, g0: dt.date, g1: dt.date) -> bool:
        """A plan step active in the gap (as the gap rule sees it)."""
        return any(
            status != "cancelled"
            and created <= g1
            and (status in ("open", "in_progress") or (due is not None and due >= g0))
            for created, due, status in self.p.plan_steps
        )

    def gap(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d, p = self.d, self.p
        if p.case.closed is not None:
            return None
        end = self.end_day()
        keys = self.measures(2, end)
        if keys is None:
            return None
        items = [self.measure_item(k, most=200) for k in keys]
        length = d.rng.randint(120, 300)
        if positive:
            g0 = self.today - days(length)
            if not self.covered(g0, self.today):
                steps = self.lay(items, self.gaps(1), g0)
                note = f"no participation for {length} days until today, no plan step"
            else:  # between two participations, before the plan steps were made
                made = [c for c, _due, status in p.plan_steps if status != "cancelled"]
                g1 = min(made) - days(d.rng.randint(1, 60))
                steps = self.lay(items, [length], min(g1 + days(items[1][1]), self.horizon))
                if steps is not None:
                    g1 = steps[1].start
                    # The gap rule looks back 24 months (``within_months``): older gaps
                    # are history, not a positive.
                    if self.covered(g1 - days(length), g1) or g1 < self.today - days(700):
                        return None
                note = f"{length} days between two participations, before the plan"
        elif self.covered(self.today - days(length), self.today) and d.chance(0.6):
            steps = self.lay(items, self.gaps(1), self.today - days(length))
            note = f"no participation for {length} days, covered by an active plan step"
        else:
            n = d.pick((2, 3))
            keys = self.measures(n, end) or keys
            items = [self.measure_item(k, most=200) for k in keys[:n]]
            last = self.today - days(d.rng.randint(40, 85))
            steps = self.lay(items, self.gaps(len(items) - 1, 40, 85), last)
            note = "gaps of 40–85 days only"
        if steps is None:
            return None
        self.via_referrals(steps)
        return steps, None, note

    def waiting(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d, p = self.d, self.p
        case = p.case
        if case.closed is not None or case.phase == "assessment":
            return None
        if d.chance(0.5):
            # Still waiting today for an integration course place.
            step = Step(
                "ik",
                self.today + days(d.rng.randint(14, 90)),
                self.today + days(240),
                level_before=lower("A1", p.german),
                open_status=d.pick(("sent", "accepted", "waitlisted")),
                planted=True,
            )
            step = self.place(step, p, d)
            if step.offer is not None and step.offer["category"] != "integrationskurs":
                step.offer = None
            limit = IK_LIMIT if step.offer is not None else DEFAULT_LIMIT
            waited = d.rng.randint(limit + 14, 140) if positive else d.rng.randint(14, 50)
            step.sent = self.today - days(waited)
            if step.sent <= case.opened:
                return None
            kind = "waiting" if positive else "sent"
            return [], step, f"integration course referral {kind} for {waited} days (limit {limit})"
        # Started after a wait: an integration course, or (decoys) another measure.
        key = "ik"
        if not positive and d.chance(0.4):
            options = self.measures(1, self.today - days(200))
            if options is None:
                return None
            key = options[0]
        item = self.measure_item(key, d.pick(("completed", "aborted")), most=300)
        end = self.today - days(d.rng.randint(5, 200))
        steps = self.lay([item], [], end)
        if steps is None:
            return None
        step = steps[0]
        ik = step.category == "integrationskurs"
        limit = IK_LIMIT if ik and step.offer is not None else DEFAULT_LIMIT
        if positive:
            waited = d.rng.randint(limit + 4, limit + 50)
        elif ik:
            waited = d.rng.randint(28, 42)
        else:
            waited = d.rng.randint(60, 85)
        step.sent = step.start - days(waited)
        if step.sent <= case.opened:
            return None
        what = "integration course" if ik else COURSES[key].category
        return steps, None, f"{what} started {waited} days after the referral (limit {limit})"

    def dropout_chain(self, positive: bool) -> tuple[list[Step], Step | None, str] | None:
        d = self.d
        end = self.end_day()
        keys = self.measures(3, end, work=False)
        if keys is None:
            return None
        # Integration courses are the most frequent drop-outs; EQs are few.
        keys = ["ik" if k == "eq" or (i == 0 and d.chance(0.4)) else k for i, k in enumerate(keys)]
        if positive:
            n = d.pick((2, 2, 3))
            items = [self.measure_item(k, "aborted") for k in keys[:n]]
            if d.chance(0.4):
                items.insert(0, self.measure_item(self.d.pick(keys), "completed"))
            note = f"{n} aborted participations in a row"
        else:
            middle = d.pick(("completed", "completed_certificate", "transferred"))
            items = [
                self.measure_item(keys[0], "aborted"),
                self.measure_item(keys[1], "completed" if middle == "transferred" else middle),
                self.measure_item(keys[2], "aborted"),
            ]
            if middle == "transferred":
                key, length, _outcome, _reached = items[1]
                items[1] = (key, length, "transferred", "")
            note = f"aborted, {items[1][2].replace('_', ' ')}, aborted"
        steps = self.lay(items, self.gaps(len(items) - 1), end)
        if steps is None:
            return None
        self.via_referrals(steps)
        return steps, None, note


def _months(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from ``a`` to ``b`` (b's day counted as in add_months)."""
    months = (b.year - a.year) * 12 + b.month - a.month
    return months - (b.day < a.day)


# What a provider records as "what followed" when nothing in the story says it: often
# nothing is known; drawn from a hash, not the person's stream, so that no other row
# of the seed changes.
FOLLOW_UP_WINDOW = days(183)


def _follow_ups(steps: list[Step], p: StoryPerson, today: dt.date) -> None:
    """``next_step`` of each ended step, from what the main track of the story says
    followed within six months: an apprenticeship (a step of category ausbildung or
    the training of the eligibility facts), another course or measure, a school-leaving
    certificate reached; otherwise "nothing yet" or "not known"."""
    main = [s for s in steps if not s.concurrent]
    for step in steps:
        if step.end is None:
            continue
        horizon = step.end + FOLLOW_UP_WINDOW
        after = [s for s in main if s is not step and step.start < s.start <= horizon]
        if any(s.category == "ausbildung" for s in after) or (
            p.training_since is not None and step.end <= p.training_since <= horizon
        ):
            step.next_step = "apprenticeship"
        elif step.level_reached == "school_certificate":
            step.next_step = "school_qualification"
        elif after:
            step.next_step = "measure"
        elif horizon < today:
            step.next_step = "unknown" if (p.id * 7 + step.start.toordinal()) % 3 == 0 else "none"


class _Teller:
    def __init__(self, p: StoryPerson, d: Draw, place: Placer, today: dt.date) -> None:
        self.p, self.d, self.place, self.today = p, d, place, today
        self.yesterday = today - days(1)
        self.steps: list[Step] = []
        self.next: Step | None = None
        self.stopped = False  # the main track waits (running step or on a waiting list)
        self.cursor = p.entry + days(d.rng.randint(20, 120))
        self.level = "none"
        years_here = (today - p.entry).days / 365.25
        if rank(p.german) >= rank("B2") and years_here < 2.5:
            self.level = "A2"  # came with some German (studied it before)
        self.level = lower(self.level, p.german)
        closed = p.case.closed
        self.horizon = min(closed, self.yesterday) if closed else self.yesterday
        self.had_language = False

    # --- helpers ---------------------------------------------------------------

    def gap(self) -> dt.timedelta:
        d = self.d
        return days(d.weighted([(d.rng.randint(10, 60), 60), (d.rng.randint(60, 200), 30)]))

    def age(self, day: dt.date) -> int:
        return age_on(self.p.birth, day)

    def allowed(self, course: Course, start: dt.date, level: str) -> bool:
        age = self.age(start)
        if not course.age[0] <= age <= course.age[1]:
            return False
        if course.german_min and rank(level) < rank(course.german_min):
            return False
        status = self.p.status_on(start)
        if course.category in (
            "bvb",
            "eq",
            "ausbildung",
            "asa_flex",
            "arbeit",
            "produktionsschule",
        ):
            if status in NO_WORK:
                return False
            if status == "gestattung" and (start - self.p.entry).days < 90:
                return False
        return not (course.key == "advice_residence" and status not in TOLERATED)

    def work_level(self) -> str:
        """The German a measure can count on: what courses reached, or what the person
        has today if no course is known."""
        return self.level if self.had_language else higher(self.level, self.p.german)

    def may_open(self) -> bool:
        case = self.p.case
        return case.closed is None and case.phase not in ("intake",)

    # --- one step --------------------------------------------------------------

    def take(
        self,
        key: str,
        start: dt.date,
        *,
        concurrent: bool = False,
        forced: str = "",
        end: dt.date | None = None,
    ) -> Step | None:
        """Add the course starting on ``start`` (or refer to it if that lies ahead).
        ``forced``: "running" or an outcome the timeline requires (with ``end``)."""
        if (self.stopped and not concurrent) or len(self.steps) >= MAX_PARTICIPATIONS:
            return None
        course = COURSES[key]
        level = self.work_level() if course.category not in LANGUAGE_CATEGORIES else self.level
        if not forced and not self.allowed(course, start, level):
            return None
        if course.school_year:
            year = start.year if start <= dt.date(start.year, 8, 20) else start.year + 1
            start = dt.date(year, 8, 20)
            start += days((7 - start.weekday()) % 7)
            planned = dt.date(year + 1, 7, 3)
        else:
            planned = start + days(self.d.rng.randint(*course.weeks) * 7 - 3)
        if start > self.horizon:
            if not concurrent:
                self.propose(key, start)
                self.stopped = True
            return None
        step = Step(key, start, planned, level_before=level, concurrent=concurrent)
        if not forced:
            step = self.place(step, self.p, self.d)
            if step.open_status:  # the offer is full: the person waits for a place
                if not concurrent and self.may_open() and self.next is None:
                    self.next = step
                    self.stopped = True
                return None
            if step.start > self.horizon:
                if not concurrent:
                    self.propose(key, step.start)
                    self.stopped = True
                return None
        else:
            step.provider = self.d.pick(course.providers)
            step.title = self.d.pick(course.titles)
        self.outcome(step, course, forced, end)
        self.steps.append(step)
        if step.running and not concurrent:
            self.stopped = True
        if course.category in LANGUAGE_CATEGORIES:
            self.had_language = True
            if step.level_reached in LEVELS:
                self.level = higher(self.level, step.level_reached)
        return step

    def outcome(self, step: Step, course: Course, forced: str, forced_end: dt.date | None) -> None:
        d, p = self.d, self.p
        length = max((step.planned_end - step.start).days, 0)
        if forced == "running":
            step.planned_end = max(step.planned_end, self.today + days(30))
            step.end = None
            return
        if forced:  # a completion the residence timeline requires
            step.end = forced_end or step.planned_end
            step.outcome = "completed_certificate"
            step.level_reached = course.level
            self.cut(step)
            return
        drop = course.drop
        if p.status_on(step.start) in TOLERATED:
            drop += 0.05
        if p.school_years < 6:
            drop += 0.04
        r = d.rng.random()
        if r < drop:
            step.outcome = "aborted"
            step.end = step.start + days(int(length * d.rng.uniform(0.08, 0.85)))
            reasons = list(ABORT_REASONS[course.reasons])
            if p.gender == "female" and self.age(step.start) >= 22:
                reasons.append(("family", 12))
            if p.status_on(step.start) in TOLERATED:
                reasons.append(("residence", 4))
            step.abort_reason = d.weighted(reasons)
            step.note = d.pick(ABORT_NOTES[step.abort_reason]) if d.chance(0.6) else ""
        elif r < drop + course.transfer:
            step.outcome = "transferred"
            step.end = step.start + days(int(length * d.rng.uniform(0.3, 0.9)))
        else:
            step.end = forced_end or step.planned_end
            self.completion(step, course)
        self.cut(step)

    def completion(self, step: Step, course: Course) -> None:
        d = self.d
        if course.category in LANGUAGE_CATEGORIES:
            goal = course.level or "A1"
            reach = lower(goal, self.p.german)
            before = step.level_before
            if rank(reach) <= rank(before):
                # no progress: attended to the end, the level stays
                step.outcome = "completed"
                step.level_reached = "" if reach == "none" or d.chance(0.3) else reach
            elif reach == goal:
                step.outcome = "completed_certificate" if d.chance(0.92) else "completed"
                step.level_reached = reach
            else:  # the DTZ certifies A2 where B1 was not reached
                step.outcome = "completed_certificate" if d.chance(0.6) else "completed"
                step.level_reached = reach
        elif course.certificate and d.chance(course.certificate):
            step.outcome = "completed_certificate"
            step.level_reached = course.level
        else:
            step.outcome = "completed"
            step.level_reached = course.level if course.level and d.chance(0.3) else ""
            if course.category in ("ausbildung", "schulabschluss", "asa_flex"):
                step.level_reached = ""  # without the certificate, no qualification
        if step.outcome == "completed_certificate" and d.chance(0.5):
            step.note = d.pick(CERTIFICATE_NOTES.get(step.category, ("",)))

    def cut(self, step: Step) -> None:
        """Today and the closing of the case end what the story can know."""
        closed, reason = self.p.case.closed, self.p.case.reason
        if (
            step.end is not None
            and closed is not None
            and step.end > closed
            and reason in CLOSING_ABORT
        ):
            step.end = max(closed, step.start)
            step.outcome = "aborted"
            step.abort_reason = CLOSING_ABORT[reason]
            step.level_reached = ""
            step.note = ""
        if step.end is not None and step.end >= self.today:
            step.end = None
            step.outcome = step.abort_reason = step.level_reached = step.note = ""

    def propose(self, key: str, start: dt.date) -> None:
        """The next step lies ahead: an open referral, if the current case is open."""
        if self.next is not None or not self.may_open():
            return
        if start > self.today + days(200):
            return
        course = COURSES[key]
        d = self.d
        if self.p.case.phase == "assessment":
            status = "proposed"
        else:
            pairs = [
                (s, w * (1.6 if s == "waitlisted" and key in IK_KEYS else 1))
                for s, w in OPEN_STATUSES
            ]
            status = d.weighted(pairs)
        start = max(start, self.today + days(d.rng.randint(3, 30)))
        planned = start + days(d.rng.randint(*course.weeks) * 7 - 3)
        level = self.work_level() if course.category not in LANGUAGE_CATEGORIES else self.level
        step = Step(key, start, planned, level_before=level, open_status=status)
        self.next = self.place(step, self.p, d)

    # --- the tracks ------------------------------------------------------------

    def ik_start(self, after: dt.date) -> dt.date | None:
        """When the person gets into an integration course (None: not before today)."""
        d, p = self.d, self.p
        segments = list(p.segments) or [(p.entry, "gestattung")]
        for i, (start, status) in enumerate(segments):
            end = segments[i + 1][0] if i + 1 < len(segments) else self.today + days(365)
            if end <= after:
                continue
            chance = IK_ACCESS.get(status, 0.0)
            if status == "gestattung" and max(start, after) >= IK_GESTATTUNG_FROM:
                chance = 0.5
            if chance and d.chance(chance):
                return max(start, after) + days(d.rng.randint(20, 200))
        return None

    def language(self) -> None:
        d, p = self.d, self.p
        target = p.german
        entry_age = self.age(p.entry)
        if entry_age <= 17 and d.chance(0.75):
            step = self.take("ifk", self.cursor)
            if step is not None:
                self.had_language = True
                self.level = lower(higher(self.level, "A2"), target)
                self.cursor = (step.end or step.planned_end) + self.gap()
                if d.chance(0.7):
                    return  # school instead of the integration course
        ik = self.ik_start(self.cursor)
        status = p.status_on(self.cursor)
        waiting = ik is None or (ik - self.cursor).days > 300
        if waiting and (status in ASYLUM or status in TOLERATED) and d.chance(0.5):
            # a course for the time before the integration course (or instead of it)
            key = "sk_land"
            if p.gender == "female" and self.age(self.cursor) >= 22 and d.chance(0.3):
                key = "sk_women"
            elif d.chance(0.3):
                key = "sk_a1"
            step = self.take(key, self.cursor + days(d.rng.randint(10, 150)))
            if step is not None and step.end is not None:
                self.cursor = step.end + self.gap()
                if ik is not None and ik < self.cursor:
                    ik = self.cursor + days(d.rng.randint(14, 90))
        if ik is not None:
            self.integration_course(ik)
        elif rank(target) >= rank("A2") and status in TOLERATED and d.chance(0.35):
            # Geduldete: job-related German after six months instead of the course
            start = max(self.cursor, p.entry + days(200)) + days(d.rng.randint(30, 300))
            step = self.take("bsk_b1", start)
            if step is not None and step.end is not None:
                self.cursor = step.end + self.gap()
        self.job_german()

    def integration_course(self, start: dt.date) -> None:
        d, p = self.d, self.p
        target = p.german
        age = self.age(start)
        key = "ik"
        if p.school_years < 4 and d.chance(0.7):
            key = "ik_alpha"
        elif age <= 26 and d.chance(0.25):
            key = "ik_youth"
        elif p.gender == "female" and age >= 22 and d.chance(0.15):
            key = "ik_parents"
        step = self.take(key, start)
        attempts = 1
        while step is not None and step.end is not None and attempts < 3:
            ended = step.end
            self.cursor = ended + self.gap()
            reached = step.level_reached or step.level_before
            if step.outcome == "aborted":
                if not d.chance(0.45):
                    break
                # back in a course after dropping out: a new course, or the rest of it
                step = self.take(d.pick(("ik", "ik_repeat")), ended + days(d.rng.randint(60, 360)))
            elif rank(reached) < rank("B1") <= rank(target) and d.chance(0.75):
                # B1 not certified: a second B1 course (Wiederholerkurs)
                step = self.take("ik_repeat", ended + days(d.rng.randint(20, 120)))
            elif rank(reached) < rank("B1") and target == "A2" and d.chance(0.3):
                step = self.take("ik_repeat", ended + days(d.rng.randint(20, 150)))
            else:
                break
            attempts += 1
        if step is not None and step.end is not None:
            self.cursor = step.end + self.gap()

    def job_german(self) -> None:
        d, p = self.d, self.p
        if rank(self.level) < rank("B1") or self.stopped:
            return
        share = 0.8 if rank(p.german) >= rank("B2") else 0.25
        if not d.chance(share):
            return
        step = self.take("bsk_b2", self.cursor + days(d.rng.randint(14, 200)))
        if step is None or step.end is None:
            return
        self.cursor = step.end + self.gap()
        if p.german == "C1" and self.level == "B2" and d.chance(0.5):
            step = self.take("bsk_c1", self.cursor)
            if step is not None and step.end is not None:
                self.cursor = step.end + self.gap()

    def anchor(self) -> tuple[dt.date, str] | None:
        """An apprenticeship the residence timeline tells of (Ausbildungsduldung, § 16g):
        its start, and "running" or "completed" (a § 19d permit followed)."""
        p = self.p
        segs = list(p.segments)
        for i, (start, status) in enumerate(segs):
            if status in TRAINING_STATUSES:
                begin = p.training_since if p.training_since and p.training_since <= start else None
                if begin is None:
                    begin = start - days(self.d.rng.randint(0, 60))
                begin = max(begin, p.entry + days(90))
                after = segs[i + 1][1] if i + 1 < len(segs) else ""
                return begin, "completed" if after == "ae_19d" else "running"
        return None

    def vocational(self) -> None:
        d, p = self.d, self.p
        anchor = self.anchor()
        t = self.cursor
        if anchor is not None:
            begin, state = anchor
            if self.age(t) <= 24 and (begin - t).days > 330 and d.chance(0.4):
                key = d.pick(("bvb", "eq"))
                step = self.take(key, t)
                if step is not None and (step.end is None or step.end > begin - days(14)):
                    self.steps.remove(step)  # would overlap the apprenticeship
            self.stopped = False
            end = None
            if state == "completed":
                later = [s for s, code in p.segments if code == "ae_19d" and s > begin]
                end = later[0] - days(d.rng.randint(1, 45)) if later else None
            step = self.take(
                "apprenticeship",
                begin,
                forced="completed_certificate" if end else "running",
                end=end,
            )
            if step is not None and d.chance(0.4):
                self.take("asa", begin + days(d.rng.randint(0, 180)), concurrent=True)
            return
        if self.stopped:
            return
        age = self.age(t)
        if age <= 27:
            self.young(t)
        else:
            self.adult(t)

    def young(self, t: dt.date) -> None:
        d, p = self.d, self.p
        if d.chance(0.3):
            step = self.take("orientation", t + days(d.rng.randint(0, 90)))
            if step is not None and step.end is not None:
                t = step.end + self.gap()
        if p.school_years < 9 and d.chance(0.55):
            step = self.take("school", t + days(d.rng.randint(0, 120)))
            if step is not None and step.end is not None:
                t = step.end + self.gap()
        prep = d.weighted(
            [
                ("bvb", 3),
                ("production", 1.5 if p.school_years < 9 else 0.5),
                ("eq", 2),
                ("", 2.5),
            ]
        )
        train = 0.35
        if prep:
            step = self.take(prep, t + days(d.rng.randint(0, 150)))
            while step is not None and step.outcome == "aborted" and d.chance(0.35):
                # one drop-out after another: the next measure
                assert step.end is not None
                step = self.take(
                    d.pick(("production", "bvb", "orientation")), step.end + self.gap()
                )
            if step is None or step.end is None:
                return
            t = step.end + self.gap()
            train = {"transferred": 0.9, "aborted": 0.1}.get(step.outcome, 0.55)
            if step.course == "eq" and step.outcome != "aborted":
                train = 0.7
        if d.chance(train):
            self.apprenticeship(t)

    def apprenticeship(self, t: dt.date) -> None:
        d = self.d
        start = dt.date(t.year, 8, 1)
        if start < t and not (t.month in (8, 9, 10) and d.chance(0.5)):
            start = dt.date(t.year + 1, 8, 1)
        start = max(start, t)
        step = self.take("apprenticeship", start)
        if step is not None and d.chance(0.35):
            self.take("asa", step.start + days(d.rng.randint(0, 180)), concurrent=True)

    def adult(self, t: dt.date) -> None:
        d, p = self.d, self.p
        status = p.status_on(t)
        options: list[tuple[str, float]] = [("", 4)]
        if status in ASYLUM or status in TOLERATED:
            options.append(("work_agh", 2.5))
        if status in RECOGNISED or status in ("ae_24", "ae_25a", "ae_25b"):
            options += [("work_kompas", 1.5), ("work_turbo", 1.5)]
        if rank(self.work_level()) >= rank("B1") and self.age(t) <= 35:
            options.append(("apprenticeship", 0.6))
        key = d.weighted(options)
        if key == "apprenticeship":
            self.apprenticeship(t)
        elif key:
            self.take(key, t + days(d.rng.randint(0, 120)))

    def counselling(self) -> None:
        d, p = self.d, self.p
        count = d.weighted([(0, 70), (1, 25), (2, 5)])
        first = p.cases[0].opened
        lo = max(p.entry + days(60), first - days(60))
        for _ in range(count):
            if lo >= self.horizon:
                return
            options: list[tuple[str, float]] = [("advice_housing", 1), ("advice_debt", 0.4)]
            if p.school_years >= 12:
                options.append(("advice_recognition", 3))
            if self.age(self.horizon) <= 27:
                options.append(("advice_career", 3))
            if p.status_on(self.horizon) in TOLERATED:
                options.append(("advice_residence", 3))
            start = lo + days(d.rng.randint(0, (self.horizon - lo).days))
            self.take(d.weighted(options), start, concurrent=True)

    def from_needs(self) -> None:
        """An open case with nothing running and nothing referred: the next step for one
        of its open needs."""
        case = self.p.case
        if self.next is not None or not self.may_open() or case.phase == "assessment":
            return
        if any(s.running and not s.concurrent for s in self.steps):
            return
        if not self.d.chance(NEXT_FROM_NEEDS):
            return
        wanted = [code for code, status in case.needs if status in ("open", "in_progress")]
        status = self.p.status_on(self.today)
        for code in wanted:
            for key in NEED_COURSES.get(code, ()):
                course = COURSES[key]
                level = self.level if course.category in LANGUAGE_CATEGORIES else self.work_level()
                if key in IK_KEYS and IK_ACCESS.get(status, 0.0) < 0.3:
                    continue
                start = self.today + days(self.d.rng.randint(7, 90))
                if self.allowed(course, start, level):
                    self.propose(key, start)
                    return


# --- rows ----------------------------------------------------------------------------


@dataclass
class World:
    """What the rows need of the generator's reference data and catalogue."""

    seed: int
    today: dt.date
    past_limit: dt.datetime
    org_ids: Mapping[str, int]
    organisations: Mapping[str, Row]  # key → organisation row
    staff: Mapping[str, Sequence[StoryStaff]]  # receiving staff per organisation key
    user_email: Mapping[int, str]
    need_codes: frozenset[str]
    offers: Sequence[Row]
    next_id: Callable[[str], int]
    plant_share: float = 0.0  # share of persons chosen for a planted pattern (#6)
    running: Counter[int] = field(default_factory=Counter)  # participations per offer
    changed: dict[int, dt.datetime] = field(default_factory=dict)  # last start/end


def snapshot_org(org: Row) -> dict[str, str]:
    """What `referrals.services._snapshot_org` keeps."""
    return {
        "organisation": org["name"],
        "org_type": org["org_type"],
        "email": org["email"],
        "phone": org["phone"],
        "address": org["address"],
    }


class Histories:
    """Turns stories into rows; keeps the places taken in the catalogue's offers."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.key_by_id = {pk: key for key, pk in world.org_ids.items()}
        # One label per planted person (#6), in the order of the persons.
        self.labels: list[Row] = []
        self.by_course: dict[str, list[Row]] = {}
        for key, course in COURSES.items():
            self.by_course[key] = [
                o
                for o in world.offers
                if o["category"] == course.category
                and course.matches
                and o["title"].startswith(course.matches)
            ]

    # --- placing a step in an offer ---------------------------------------------

    def _fits_person(self, o: Row, p: StoryPerson, day: dt.date, level: str) -> bool:
        age = age_on(p.birth, day)
        if o["age_min"] is not None and age < o["age_min"]:
            return False
        if o["age_max"] is not None and age > o["age_max"]:
            return False
        if o["german_min"] and rank(level) < rank(o["german_min"]):
            return False
        return not (o["statuses"] and p.status_on(day) not in o["statuses"])

    def _full(self, o: Row) -> bool:
        return o["capacity"] is not None and self.w.running[o["id"]] >= o["capacity"]

    def place(self, step: Step, p: StoryPerson, d: Draw) -> Step:
        """An offer of the catalogue for the step, if one fits; its dates become the
        step's. A step that would run today in a full offer goes on its waiting list
        (``open_status``)."""
        course = COURSES[step.course]
        today = self.w.today
        fitting: list[tuple[Row, dt.date, dt.date]] = []
        full: list[Row] = []
        for o in self.by_course.get(step.course, ()):
            created = o["created_at"].date()
            starts, ends = o["starts_on"], o["ends_on"]
            fixed = starts is not None and not o["rolling_entry"]
            if step.open_status:
                if not o["is_active"] or (ends is not None and ends <= today + days(30)):
                    continue
                if fixed:
                    if not today < starts <= today + days(200):
                        continue
                    start, end = starts, ends or step.planned_end
                else:
                    start = max(step.start, starts or step.start)
                    end = min(step.planned_end, ends) if ends else step.planned_end
            else:
                if fixed:
                    # the course that began about then (not long before: the step
                    # follows what came before it)
                    if not -21 <= (starts - step.start).days <= 120 or starts >= today:
                        continue
                    start, end = starts, ends or step.planned_end
                else:
                    if created > step.start or (starts is not None and starts > step.start):
                        continue
                    if ends is not None and ends < step.start + days(14):
                        continue
                    start = step.start
                    end = min(step.planned_end, ends) if ends else step.planned_end
                if start < created:
                    continue
                if end >= today and not o["is_active"]:
                    continue
            if not self._fits_person(o, p, start, step.level_before):
                continue
            runs_today = start <= today <= end
            if (runs_today or step.open_status) and self._full(o):
                full.append(o)
                continue
            fitting.append((o, start, end))
        if fitting:
            o, start, end = d.pick(fitting)
            step.offer, step.start, step.planned_end = o, start, max(end, start)
            step.provider = self.key_by_id[o["provider_id"]]
            step.title = o["title"]
            if step.open_status == "accepted" and o["starts_on"] is None:
                step.open_status = d.pick(("accepted", "sent"))
        elif full and (step.open_status or step.start >= today - days(120)):
            o = d.pick(full)
            step.offer = o
            step.provider = self.key_by_id[o["provider_id"]]
            step.title = o["title"]
            step.open_status = "waitlisted"
        else:
            step.provider = d.pick(course.providers)
            step.title = d.pick(course.titles)
        return step

    # --- rows of one person -----------------------------------------------------

    def person(self, rows: Mapping[str, list[Row]], p: StoryPerson, d: Draw) -> Story:
        plants = plant_candidates(self.w.seed, p.id, self.w.plant_share)
        story = participation_story(p, d, self.place, today=self.w.today, plant=plants)
        writer = _PersonRows(self, rows, p, d)
        if story.plant is not None:
            self.labels.append(writer.planted(story))
            return story
        first = p.cases[0].opened
        language = [s for s in story.steps if s.start < first and s.category in LANGUAGE_CATEGORIES]
        last_language = language[-1] if language else None
        for step in story.steps:
            writer.participation(step, last_language)
        if story.next is not None:
            writer.open_referral(story.next)
        return story


class _PersonRows:
    """The rows of one person's story."""

    def __init__(
        self, h: Histories, rows: Mapping[str, list[Row]], p: StoryPerson, d: Draw
    ) -> None:
        self.h, self.w, self.rows, self.p, self.d = h, h.w, rows, p, d
        # open referrals per case and receiving organisation (one each, as the database
        # allows when referrals name no offer)
        self.open: set[tuple[int, int]] = set()

    def moment(self, day: dt.date, hours: tuple[int, int] = (8, 17)) -> dt.datetime:
        return self.d.moment_until(day, self.w.past_limit, hours)

    def receiving_staff(self, key: str | None) -> StoryStaff | None:
        if key is None:
            return None
        staff = self.w.staff.get(key)
        return self.d.pick(staff) if staff else None

    # --- participations --------------------------------------------------------

    def participation(self, step: Step, last_language: Step | None = None) -> None:
        p, d = self.p, self.d
        case = p.case_on(step.start)
        if case is None:
            # Before the first case or between two: the lead organisation records it.
            case = next((c for c in p.cases if c.opened > step.start), None)
            if case is None or case.phase == "intake":
                return  # nobody has recorded it yet
            if step.end is not None:
                share = RECORDED_LANGUAGE if step is last_language else RECORDED_BEFORE
                if step.concurrent or not d.chance(share):
                    return
            if d.chance(OUTSIDE_SHARE) and step.offer is None:
                step.provider = None
            self.record(step, case)
            return
        staff = self.receiving_staff(step.provider)
        if staff is None or not d.chance(VIA_REFERRAL):
            self.record(step, case)
            return
        receiver = self.w.org_ids[staff.org_key]
        if step.running and (case.id, receiver) in self.open:
            self.record(step, case)
            return
        course = COURSES[step.course]
        waited = 0
        if d.chance(course.waitlist):
            waited = d.rng.randint(28, 112) if step.course in IK_KEYS else d.rng.randint(14, 60)
        lead_time = d.rng.randint(5, 30)
        sent = step.start - days(waited + lead_time)
        if sent < case.opened:
            room = (step.start - case.opened).days
            if room < 4:
                self.record(step, case)
                return
            waited = min(waited, max(room - 3, 0))
            sent = step.start - days(waited + min(lead_time, room - waited))
            sent = max(sent, case.opened)
        before = sent - days(d.rng.randint(21, 70))
        if before >= case.opened and d.chance(REJECTED_BEFORE + WITHDRAWN_BEFORE):
            self.prelude(step, case, before)
        referral_id = self.referral_for(step, case, staff, sent, waited)
        self.participation_row(step, case, referral_id, staff)

    def planted(self, story: Story) -> Row:
        """The rows of a planted story, exactly as told (no drawn detours: no earlier
        rejected referrals, no unrecorded steps); returns its label."""
        p, d = self.p, self.d
        assert story.plant is not None
        participation_ids: list[int] = []
        referral_ids: list[int] = []
        for step in story.steps:
            case = p.case_on(step.start) or next(c for c in p.cases if c.opened > step.start)
            staff = self.receiving_staff(self.staffed(step))
            if step.sent is None or staff is None or p.case_on(step.sent) is not case:
                self.record(step, case)
            else:
                wait = (step.start - step.sent).days
                waited = max(wait - d.rng.randint(5, 20), 0) if wait > 30 else 0
                referral_ids.append(self.referral_for(step, case, staff, step.sent, waited))
                self.participation_row(step, case, referral_ids[-1], staff)
            participation_ids.append(self.rows["participation"][-1]["id"])
        if story.next is not None:
            referral_ids.append(self.planted_open_referral(story.next))
        return {
            "person_id": p.id,
            "rule": story.plant.rule,
            "label": story.plant.label,
            "participation_ids": participation_ids,
            "referral_ids": referral_ids,
            "note": story.note,
        }

    def staffed(self, step: Step) -> str | None:
        """The step's provider, or one of the course's with staff to receive a referral
        (then without the offer)."""
        if step.provider is not None and self.w.staff.get(step.provider):
            return step.provider
        keys = [k for k in COURSES[step.course].providers if self.w.staff.get(k)]
        if not keys:
            return step.provider
        step.offer, step.provider = None, self.d.pick(keys)
        return step.provider

    def planted_open_referral(self, step: Step) -> int:
        """A referral sent on ``step.sent`` and not begun today."""
        d, case, today = self.d, self.p.case, self.w.today
        assert step.sent is not None
        staff = self.receiving_staff(self.staffed(step))
        assert staff is not None
        sender, recv = ("sender", case.manager), ("receiver", staff)
        sent = step.sent
        proposed = max(case.opened, sent - days(d.rng.randint(0, 5)))
        events: list[tuple[str, dt.date, tuple[str, StoryStaff], str]] = [
            ("proposed", proposed, sender, ""),
            ("sent", sent, sender, ""),
        ]
        # not listed longer than the drawn waiting lists (at most 112 days)
        decided = max(sent + days(d.rng.randint(2, 14)), today - days(d.rng.randint(90, 112)))
        decided = min(decided, today - days(1))
        if step.open_status == "waitlisted":
            events.append(("waitlisted", decided, recv, "Kurs ausgebucht; Platz im nächsten Kurs."))
        elif step.open_status == "accepted":
            events.append(("accepted", decided, recv, ""))
        return self.referral(step, case, staff.org_key, events)

    def record(self, step: Step, case: StoryCase) -> None:
        """Recorded by the lead organisation, without a referral."""
        d = self.d
        day = max(case.opened, step.start) + days(d.rng.randint(0, 21))
        if step.end is not None:
            day = max(day, min(step.end + days(d.rng.randint(0, 14)), self.w.today - days(1)))
        day = min(day, self.w.today - days(1))
        created = self.moment(day)
        staff = StoryStaff(case.manager.user_id, case.lead, case.manager.label)
        self.participation_row(step, case, None, staff, created=created, by_lead=True)

    def participation_row(
        self,
        step: Step,
        case: StoryCase,
        referral_id: int | None,
        staff: StoryStaff,
        *,
        created: dt.datetime | None = None,
        by_lead: bool = False,
    ) -> None:
        d, w = self.d, self.w
        created = created or self.moment(step.start)
        updated = created
        if step.end is not None:
            updated = max(created, self.moment(step.end))
            if step.outcome == "aborted":
                attendance = d.rng.randint(15, 70)
            else:
                attendance = d.rng.randint(70, 98)
            attendance_percent: int | None = attendance if d.chance(0.8) else None
        else:
            attendance_percent = d.rng.randint(55, 98) if d.chance(0.6) else None
            if attendance_percent is not None:
                recent = self.w.today - days(d.rng.randint(1, 30))
                updated = max(created, self.moment(max(recent, step.start)))
        offer = step.offer
        provider_id = w.org_ids[step.provider] if step.provider else None
        if offer is not None:
            provider_id = offer["provider_id"]
            if step.end is None:
                w.running[offer["id"]] += 1
            last = updated if step.end is not None else created
            w.changed[offer["id"]] = max(w.changed.get(offer["id"], last), last)
        title = step.title or COURSES[step.course].titles[0]
        if step.provider is None and offer is None:
            title = f"{title} (vor dem Zuzug)"
        self.rows["participation"].append(
            {
                "id": w.next_id("participation"),
                "person_id": self.p.id,
                "case_id": case.id,
                "referral_id": referral_id,
                "offer_id": offer["id"] if offer else None,
                "provider_id": provider_id,
                "title": title[:200],
                "category": step.category,
                "level": step.level,
                "started_on": step.start,
                "ended_on": step.end,
                "attendance_percent": attendance_percent,
                "attendance_note": "",
                "outcome": step.outcome,
                "abort_reason": step.abort_reason if step.outcome == "aborted" else "",
                "outcome_note": step.note,
                "level_reached": step.level_reached if step.outcome != "aborted" else "",
                "next_step": step.next_step if step.end is not None else "",
                "recorded_by_id": w.org_ids[case.lead] if by_lead else w.org_ids[staff.org_key],
                "created_by_id": staff.user_id,
                "created_at": created,
                "updated_at": updated,
            }
        )

    # --- referrals -------------------------------------------------------------

    def referral_for(
        self, step: Step, case: StoryCase, staff: StoryStaff, sent: dt.date, waited: int
    ) -> int:
        """The referral a participation came from: proposed → sent → accepted
        [→ waitlisted] → started → completed / aborted."""
        d = self.d
        sender = ("sender", case.manager)
        receiver = ("receiver", staff)
        proposed = max(case.opened, sent - days(d.rng.randint(0, 6)))
        events: list[tuple[str, dt.date, tuple[str, StoryStaff], str]] = [
            ("proposed", proposed, sender, ""),
            ("sent", sent, sender, ""),
        ]
        decided = min(sent + days(d.rng.randint(2, 14)), step.start)
        if waited:
            listed = min(decided, step.start - days(waited))
            listed = max(listed, sent)
            events.append(("waitlisted", listed, receiver, "Nächster freier Kursplatz."))
            if d.chance(0.5):
                accepted = min(step.start, listed + days(waited))
                events.append(("accepted", accepted, receiver, ""))
        else:
            events.append(("accepted", decided, receiver, ""))
        events.append(("started", step.start, receiver, ""))
        if step.end is not None:
            events.append(
                (
                    OUTCOME_STATUS[step.outcome],
                    step.end,
                    receiver,
                    f"{OUTCOME_EVENT_NOTES[step.outcome]} {step.note}".strip(),
                )
            )
        return self.referral(step, case, staff.org_key, events)

    def prelude(self, step: Step, case: StoryCase, sent: dt.date) -> None:
        """A referral before the one that worked: rejected, or withdrawn by the sender."""
        d = self.d
        course = COURSES[step.course]
        others = [k for k in course.providers if k != step.provider and self.w.staff.get(k)]
        key = d.pick(others) if others and d.chance(0.6) else step.provider
        staff = self.receiving_staff(key)
        if staff is None:
            return
        sender = ("sender", case.manager)
        receiver = ("receiver", staff)
        proposed = max(case.opened, sent - days(d.rng.randint(0, 5)))
        events: list[tuple[str, dt.date, tuple[str, StoryStaff], str]] = [
            ("proposed", proposed, sender, "")
        ]
        if d.chance(REJECTED_BEFORE / (REJECTED_BEFORE + WITHDRAWN_BEFORE)):
            events.append(("sent", sent, sender, ""))
            decided = sent + days(d.rng.randint(2, 20))
            reason = d.weighted(REJECT_REASONS)
            if reason == "no_place" and d.chance(0.3):
                events.append(("waitlisted", decided, receiver, ""))
                decided += days(d.rng.randint(14, 60))
            events.append(("rejected", decided, receiver, REJECT_NOTES[reason]))
            self.referral(step, case, staff.org_key, events, with_offer=False, reject=reason)
        else:
            if d.chance(0.6):
                events.append(("sent", sent, sender, ""))
                if d.chance(0.4):
                    events.append(("accepted", sent + days(d.rng.randint(2, 10)), receiver, ""))
            last = events[-1][1]
            events.append(
                ("withdrawn", last + days(d.rng.randint(1, 20)), sender, d.pick(WITHDRAW_NOTES))
            )
            self.referral(step, case, staff.org_key, events, with_offer=False)

    def open_referral(self, step: Step) -> None:
        """The next step, referred and not begun: proposed, sent, accepted or on the
        waiting list today."""
        d, case, today = self.d, self.p.case, self.w.today
        staff = self.receiving_staff(step.provider)
        if staff is None or case.closed is not None:
            return
        receiver = self.w.org_ids[staff.org_key]
        if (case.id, receiver) in self.open:
            return
        sender = ("sender", case.manager)
        recv = ("receiver", staff)
        status = step.open_status
        events: list[tuple[str, dt.date, tuple[str, StoryStaff], str]] = []
        if status == "proposed":
            day = max(case.opened, today - days(d.rng.randint(1, 20)))
            events.append(("proposed", day, sender, ""))
        elif status == "sent":
            sent = max(case.opened, today - days(d.rng.randint(1, 21)))
            events += [("proposed", sent, sender, ""), ("sent", sent, sender, "")]
        elif status == "accepted":
            sent = max(case.opened, today - days(d.rng.randint(10, 60)))
            decided = min(today - days(1), sent + days(d.rng.randint(2, 14)))
            events += [
                ("proposed", sent, sender, ""),
                ("sent", sent, sender, ""),
                ("accepted", decided, recv, ""),
            ]
        else:
            waiting = d.rng.randint(28, 112) if step.course in IK_KEYS else d.rng.randint(7, 60)
            listed = max(case.opened, today - days(waiting))
            sent = max(case.opened, listed - days(d.rng.randint(2, 14)))
            events += [
                ("proposed", sent, sender, ""),
                ("sent", sent, sender, ""),
                ("waitlisted", listed, recv, "Kurs ausgebucht; Platz im nächsten Kurs."),
            ]
        self.referral(step, case, staff.org_key, events)

    def basis(
        self, case: StoryCase, receiver_key: str, sent: dt.date, until: dt.date
    ) -> tuple[str, list[str], int | None]:
        """What the receiver gets at sending, and on which basis: the lead organisation
        itself, or the person's consent for a referral to it (signed now if none is
        valid)."""
        w, p = self.w, self.p
        receiver = w.org_ids[receiver_key]
        if receiver == w.org_ids[case.lead]:
            return "lead_organisation", list(ALL_CATEGORIES), None
        sent_at = dt.datetime(sent.year, sent.month, sent.day, 12, tzinfo=BERLIN)

        def valid(c: ReferralConsent) -> bool:
            _cid, org, _cats, signed, valid_until, withdrawn = c
            return (
                org == receiver
                and signed <= sent
                and (valid_until is None or sent <= valid_until)
                and (withdrawn is None or withdrawn > sent_at)
            )

        current = [c for c in p.referral_consents if valid(c)]
        # one of ours that lasts as long as the participation will (else a new one)
        ours = [
            c
            for c in current
            if c[0] is not None and "master" in c[2] and (c[4] is None or c[4] >= until)
        ]
        if ours:
            consent_id = max(ours, key=lambda c: (c[3], c[0] or 0))[0]
        else:
            consent_id = self.consent(case, receiver, sent, until)
            current.append(p.referral_consents[-1])
        shared = sorted({cat for c in current for cat in c[2]})
        return "consent", shared, consent_id

    def consent(self, case: StoryCase, receiver: int, sent: dt.date, until: dt.date) -> int:
        d, w, p = self.d, self.w, self.p
        signed = max(case.opened, sent - days(d.rng.randint(0, 7)))
        categories = d.weighted(REFERRAL_CONSENT_CATEGORIES)
        valid_until: dt.date | None
        if d.chance(0.05):
            valid_until = None
        else:
            year = dt.date(signed.year + 1, signed.month, min(signed.day, 28))
            valid_until = max(year, until + days(90)) - days(1)
        interpreter = ""
        if p.german in NON_GERMAN_SPEAKERS and d.chance(0.5) and p.first_language != "other":
            interpreter = p.first_language
        cid = w.next_id("referral_consent")
        self.rows["referral_consent"].append(
            {
                "id": cid,
                "person_id": p.id,
                "purpose": "referral",
                "categories": list(categories),
                "signed_on": signed,
                "valid_until": valid_until,
                "interpreter_language": interpreter,
                "form_language": pools.FORM_LANGUAGE.get(p.first_language, "de"),
                "document_id": None,
                "recorded_by_id": case.manager.user_id,
                "recorded_for_id": w.org_ids[case.lead],
                "recorded_at": self.moment(signed),
                "withdrawn_at": None,
                "withdrawn_by_id": None,
                "withdrawal_note": "",
            }
        )
        self.rows["referral_consent_receiving_organisation"].append(
            {
                "id": w.next_id("referral_consent_receiving_organisation"),
                "consent_id": cid,
                "organisation_id": receiver,
            }
        )
        p.referral_consents.append((cid, receiver, tuple(categories), signed, valid_until, None))
        return cid

    def referral(
        self,
        step: Step,
        case: StoryCase,
        receiver_key: str,
        events: list[tuple[str, dt.date, tuple[str, StoryStaff], str]],
        *,
        with_offer: bool = True,
        reject: str = "",
    ) -> int:
        """One referral row for the step, with its steps from (status, day, (side,
        staff), note); ``with_offer`` False: to the organisation (an earlier try)."""
        d, w, p = self.d, self.w, self.p
        c = COURSES[step.course]
        offer = step.offer if with_offer else None
        receiver = w.org_ids[receiver_key]
        if offer is not None and offer["provider_id"] != receiver:
            offer = None
        rid = w.next_id("referral")
        # moments, in order and never later than yesterday evening
        moments: list[dt.datetime] = []
        for _status, day, _who, _note in events:
            m = self.moment(min(day, w.today - days(1)))
            if moments and m <= moments[-1]:
                m = min(moments[-1] + dt.timedelta(minutes=d.rng.randint(5, 90)), w.past_limit)
            moments.append(m)
        for (status, _day, (_side, staff), note), at in zip(events, moments, strict=True):
            self.rows["referral_event"].append(
                {
                    "id": w.next_id("referral_event"),
                    "referral_id": rid,
                    "status": status,
                    "at": at,
                    "by_id": staff.user_id,
                    "by_organisation_id": w.org_ids[staff.org_key],
                    "note": note,
                }
            )
        statuses = [e[0] for e in events]
        when = dict(zip(statuses, moments, strict=True))
        days_by = {e[0]: e[1] for e in events}
        final = statuses[-1]
        sent_at = when.get("sent")
        shared: list[str] = []
        basis, consent_id = "", None
        sender_snapshot: Row = {}
        receiver_snapshot: Row = {}
        if sent_at is not None:
            basis, shared, consent_id = self.basis(
                case, receiver_key, days_by["sent"], step.planned_end
            )
            lead = w.organisations[case.lead]
            sender_snapshot = {
                **snapshot_org(lead),
                "user": case.manager.label,
                "user_email": w.user_email.get(case.manager.user_id, ""),
            }
            receiver_snapshot = snapshot_org(w.organisations[receiver_key])
            if offer is not None:
                receiver_snapshot |= {
                    "offer": offer["title"],
                    "category": offer["category"],
                    "level": offer["level"],
                    "contact": offer["contact_name"],
                    "contact_email": offer["contact_email"],
                    "contact_phone": offer["contact_phone"],
                }
        decided_at = next((when[s] for s in statuses if s in ("accepted", "waitlisted")), None)
        if "rejected" in when:
            decided_at = when["rejected"]
        waitlisted_on = days_by.get("waitlisted")
        days_waited = None
        if waitlisted_on is not None:
            after = statuses[statuses.index("waitlisted") + 1 :]
            if after:
                days_waited = max((days_by[after[0]] - waitlisted_on).days, 0)
        closed_at = None
        if final in ("completed", "aborted", "rejected", "withdrawn"):
            closed_at = when[final]
        need_codes = set(c.needs)
        if c.category in LANGUAGE_CATEGORIES:
            need_codes.add(GERMAN_NEED.get(step.level_before, "deutsch_c1"))
        for code in sorted(need_codes & w.need_codes):
            self.rows["referral_need_type"].append(
                {"id": w.next_id("referral_need_type"), "referral_id": rid, "need_type": code}
            )
        if final in ("proposed", "sent", "accepted", "waitlisted", "started"):
            self.open.add((case.id, receiver))
        self.rows["referral"].append(
            {
                "id": rid,
                "case_id": case.id,
                "person_id": p.id,
                "offer_id": offer["id"] if offer is not None else None,
                "receiver_id": receiver,
                "sender_id": w.org_ids[case.lead],
                "status": final,
                "reason": d.pick(REFERRAL_REASONS.get(c.category, REFERRAL_REASONS["beratung"])),
                "sender_snapshot": sender_snapshot,
                "receiver_snapshot": receiver_snapshot,
                "override_reason": "",
                "exclusion_reasons": [],
                "shared_categories": shared,
                "sharing_basis": basis,
                "consent_id": consent_id,
                "reject_reason": reject if final == "rejected" else "",
                "created_by_id": case.manager.user_id,
                "created_at": moments[0],
                "sent_at": sent_at,
                "decided_at": decided_at,
                "waitlisted_on": waitlisted_on,
                "days_waited": days_waited,
                "closed_at": closed_at,
                "updated_at": moments[-1],
            }
        )
        return rid
