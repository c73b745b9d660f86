"""The synthetic offer catalogue (Angebotslandkarte): about 150 offers of the providers.

A municipality's catalogue does not grow with its clients, so the number of offers is
fixed (:data:`CATALOGUE_SIZE`) whatever `--persons` says. The offers draw from a random
stream of their own (``offers:<seed>``), so adding them left every other table of a
seed as it was; for a seed they are the same for any number of persons.

Each :class:`Kind` is a typical offer of a German municipality — integration courses,
job-related German courses, BvB, EQ, AsA flex, company apprenticeships, counselling,
mentoring, leisure — with its category, field of action, providers, level, needs,
legal and practical constraints, schedules, capacity and how its dates fall. The
proportions follow what a Kreis of this size typically lists; everything is invented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lotse.people.names import fold

from . import pools

if TYPE_CHECKING:
    from .generator import Draw, NeedTypeSpec

Row = dict[str, Any]
BERLIN = ZoneInfo("Europe/Berlin")

# A title, and the organisations (pools.ORGANISATIONS keys) that offer it; none: the
# kind's providers.
Title = tuple[str, tuple[str, ...]]
# A label for the title (empty: none) and the schedule it stands for.
Slot = tuple[str, str]

# How the dates of an offer fall:
#   course        fixed start and end: some ended, many running, some starting soon
#   rolling       a programme period that began in the past; entry at any time
#   ongoing       a standing offer (counselling, cafés): usually no dates at all
#   apprenticeship  the next training year (1 August), a few vacant places of this one
#   school_year   the current school year, entry during the year
COURSE_PHASES = [("ended", 12), ("running", 45), ("soon", 30), ("later", 13)]
OUTDATED_SHARE = 0.10  # offers whose review is overdue
INACTIVE_SHARE = 0.02  # paused by the provider (ended offers: more)

RECOGNISED = ("ae_25_1", "ae_25_2_gfk", "ae_25_2_subsidiaer", "ae_25_3", "ae_24")
ASYLBLG = ("gestattung", "duldung", "duldung_ermessen", "duldung_ungeklaerte_identitaet")
TOLERATED = (
    "duldung",
    "duldung_ermessen",
    "duldung_ungeklaerte_identitaet",
    "ausbildungsduldung",
    "beschaeftigungsduldung",
)

IK_NEEDS = ("deutsch_a1", "deutsch_a2", "deutsch_b1")
IK_PREREQ = (
    "Berechtigung oder Verpflichtung zur Teilnahme (BAMF, Jobcenter oder Ausländerbehörde)",
    "Berechtigungsschein des BAMF oder Verpflichtung durch Jobcenter/Ausländerbehörde; "
    "Einstufungstest beim Träger",
)
IK_COST = (
    "Kostenbeitrag je Unterrichtseinheit; Befreiung auf Antrag, z. B. bei Leistungsbezug",
    "Für Verpflichtete mit Leistungsbezug kostenfrei; Fahrtkostenzuschuss möglich",
)
BSK_PREREQ = (
    "Berechtigungsschein von Jobcenter oder Agentur für Arbeit, Einstufung beim Träger",
    "Anmeldung über Jobcenter/Agentur oder direkt beim BAMF-Kursträger",
)
BSK_COST = (
    "Für Arbeit- und Ausbildungsuchende kostenfrei; Beschäftigte mit Kostenbeitrag",
    "Kostenfrei mit Berechtigungsschein",
)
FULL_DAY: tuple[Slot, ...] = (
    ("Vormittag", "Mo–Fr 8:30–12:45"),
    ("Nachmittag", "Mo–Fr 13:15–17:30"),
    ("Abendkurs", "Mo–Do 17:30–20:45"),
    ("Teilzeit", "Mo, Mi und Fr 9:00–12:15"),
)
COUNSELLING_LANGUAGES = ("ar", "fa", "en", "ru", "tr", "uk", "ku", "prs", "fr", "ti")


@dataclass(frozen=True)
class Kind:
    key: str
    count: int
    category: str
    field: str
    titles: tuple[Title, ...]
    descriptions: tuple[str, ...]
    providers: tuple[str, ...] = ()
    timing: str = "course"
    weeks: tuple[int, int] = (12, 12)
    slots: tuple[Slot, ...] = (("", ""),)
    label_in_title: bool = False
    level: str = ""
    needs: tuple[str, ...] = ()
    age: tuple[int | None, int | None] = (None, None)
    german_min: str = ""
    statuses: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ("",)
    funding: str = "free"
    cost_notes: tuple[str, ...] = ("",)
    capacity: tuple[int, int] | None = None
    full_share: float = 0.25  # running offers that are full
    rolling_share: float = 0.0  # fixed-date courses with entry into running modules
    support: tuple[str, ...] = ()  # languages supporting German (some offers)
    support_share: float = 0.0
    childcare_share: float = 0.0
    outreach_share: float = 0.0  # held in another district than the provider's


KINDS: list[Kind] = [
    # --- integration courses (BAMF) ---------------------------------------------
    Kind(
        "ik_general",
        12,
        "integrationskurs",
        "language",
        (("Integrationskurs (allgemein)", ()),),
        (
            "Allgemeiner Integrationskurs mit 600 Unterrichtseinheiten Sprachkurs und 100 "
            "Unterrichtseinheiten Orientierungskurs. Abschluss mit dem Deutsch-Test für "
            "Zuwanderer (DTZ) und dem Test „Leben in Deutschland“.",
            "Deutsch von A1 bis B1 in sechs Modulen, danach Orientierungskurs zu Rechtsordnung, "
            "Geschichte und Kultur. Einstufungstest vor Kursbeginn.",
            "Integrationskurs in kleiner Gruppe mit digitalen Lernangeboten. Prüfung DTZ und "
            "„Leben in Deutschland“ im Haus.",
        ),
        providers=("vhs", "bruecke", "bwa", "bbz"),
        weeks=(28, 44),
        slots=FULL_DAY,
        label_in_title=True,
        level="B1",
        needs=IK_NEEDS,
        prerequisites=IK_PREREQ,
        funding="bamf",
        cost_notes=IK_COST,
        capacity=(18, 25),
        rolling_share=0.25,
        support=("ar", "fa", "uk", "en"),
        support_share=0.2,
        childcare_share=0.1,
        outreach_share=0.2,
    ),
    Kind(
        "ik_youth",
        3,
        "integrationskurs",
        "language",
        (("Jugendintegrationskurs", ()),),
        (
            "Integrationskurs für junge Menschen bis 27 Jahre mit bis zu 1.000 "
            "Unterrichtseinheiten, Berufsorientierung und Praktikum. Vorbereitung auf "
            "Schule, Ausbildung oder Studium.",
            "Jugendintegrationskurs mit Betriebsbesuchen, Bewerbungstraining und "
            "sozialpädagogischer Begleitung.",
        ),
        providers=("vhs", "bwa"),
        weeks=(40, 48),
        slots=(("", "Mo–Fr 8:30–13:30"), ("", "Mo–Fr 9:00–14:00")),
        level="B1",
        needs=(*IK_NEEDS, "berufsorientierung"),
        age=(16, 27),
        prerequisites=IK_PREREQ,
        funding="bamf",
        cost_notes=IK_COST,
        capacity=(16, 22),
        support=("ar", "fa"),
        support_share=0.2,
    ),
    Kind(
        "ik_alpha",
        4,
        "integrationskurs",
        "language",
        (("Integrationskurs mit Alphabetisierung", ()),),
        (
            "Für Menschen, die nicht oder kaum lesen und schreiben können: Lesen und "
            "Schreiben in lateinischer Schrift und Deutsch im Alltag, bis zu 1.300 "
            "Unterrichtseinheiten in kleiner Gruppe.",
            "Alphabetisierungskurs im Rahmen des Integrationskurses. Langsames Lerntempo, "
            "viele Wiederholungen, Lernbegleitung in der Herkunftssprache möglich.",
        ),
        providers=("vhs", "bruecke"),
        weeks=(50, 60),
        slots=(("Vormittag", "Mo–Fr 8:30–12:45"), ("Nachmittag", "Mo–Fr 13:00–17:15")),
        label_in_title=True,
        level="A2",
        needs=("alphabetisierung", "deutsch_a1", "deutsch_a2"),
        prerequisites=IK_PREREQ,
        funding="bamf",
        cost_notes=IK_COST,
        capacity=(12, 16),
        support=("ar", "prs", "ti", "ku"),
        support_share=0.5,
        childcare_share=0.25,
        outreach_share=0.25,
    ),
    Kind(
        "ik_parents",
        2,
        "integrationskurs",
        "language",
        (("Eltern- und Frauenintegrationskurs", ()),),
        (
            "Integrationskurs für Mütter und Väter mit Themen rund um Kita, Schule und "
            "Gesundheit. Kinderbetreuung im Haus während der Kurszeiten.",
        ),
        providers=("vhs", "bwa"),
        weeks=(40, 52),
        slots=(("", "Mo–Fr 9:00–12:15"), ("", "Mo–Do 8:45–12:00")),
        level="B1",
        needs=(*IK_NEEDS, "kinderbetreuung"),
        prerequisites=IK_PREREQ,
        funding="bamf",
        cost_notes=IK_COST,
        capacity=(12, 20),
        childcare_share=1.0,
        support=("ar", "fa", "uk"),
        support_share=0.3,
        outreach_share=0.5,
    ),
    Kind(
        "ik_second_script",
        1,
        "integrationskurs",
        "language",
        (("Integrationskurs für Zweitschriftlernende", ()),),
        (
            "Für Menschen, die in einer anderen Schrift (z. B. Arabisch, Kyrillisch) lesen "
            "und schreiben: Einstieg in die lateinische Schrift und Deutsch bis B1.",
        ),
        providers=("bruecke",),
        weeks=(44, 52),
        slots=(("", "Mo–Fr 8:30–12:45"),),
        level="B1",
        needs=("alphabetisierung", *IK_NEEDS),
        prerequisites=IK_PREREQ,
        funding="bamf",
        cost_notes=IK_COST,
        capacity=(14, 20),
        support=("ar", "uk", "ru"),
        support_share=0.5,
    ),
    # --- job-related German courses (Berufssprachkurse, BAMF) ----------------------
    Kind(
        "bsk_b2",
        5,
        "berufssprachkurs",
        "language",
        (("Berufssprachkurs B1 → B2", ()),),
        (
            "Berufsbezogenes Deutsch (DeuFöV) mit 400 Unterrichtseinheiten: Telefonieren, "
            "E-Mails, Besprechungen und Bewerbungen. Abschluss mit der Prüfung telc Deutsch B2 "
            "Beruf.",
            "Basismodul B2 für Arbeit- und Ausbildungsuchende und Beschäftigte. Kommunikation "
            "im Betrieb, Fachtexte verstehen, Prüfungsvorbereitung.",
        ),
        providers=("bruecke", "bwa", "vhs", "bbz"),
        weeks=(16, 26),
        slots=(
            ("Vollzeit", "Mo–Fr 8:30–13:30"),
            ("Teilzeit", "Mo–Do 13:30–16:45"),
            ("berufsbegleitend", "Di und Do 17:30–20:45, Sa 9:00–13:00"),
        ),
        label_in_title=True,
        level="B2",
        needs=("deutsch_b2",),
        german_min="B1",
        prerequisites=BSK_PREREQ,
        funding="bamf",
        cost_notes=BSK_COST,
        capacity=(15, 25),
        rolling_share=0.2,
        outreach_share=0.1,
    ),
    Kind(
        "bsk_c1",
        3,
        "berufssprachkurs",
        "language",
        (("Berufssprachkurs B2 → C1", ()),),
        (
            "Deutsch für qualifizierte Tätigkeiten und akademische Berufe, 400 "
            "Unterrichtseinheiten, Abschluss telc Deutsch C1 Beruf.",
            "Aufbaumodul C1: Präsentieren, Verhandeln, Berichte schreiben; Vorbereitung auf "
            "Anerkennung und Studium.",
        ),
        providers=("bruecke", "vhs"),
        weeks=(16, 26),
        slots=(("Vollzeit", "Mo–Fr 8:30–13:30"), ("Abendkurs", "Mo–Do 18:00–21:15")),
        label_in_title=True,
        level="C1",
        needs=("deutsch_c1",),
        german_min="B2",
        prerequisites=BSK_PREREQ,
        funding="bamf",
        cost_notes=BSK_COST,
        capacity=(15, 25),
    ),
    Kind(
        "bsk_a2",
        2,
        "berufssprachkurs",
        "language",
        (("Berufssprachkurs Spezialmodul A2 → B1", ()),),
        (
            "Für alle, die im Integrationskurs B1 knapp nicht erreicht haben: 300 "
            "Unterrichtseinheiten berufsbezogenes Deutsch bis zur B1-Prüfung.",
        ),
        providers=("bruecke", "bwa"),
        weeks=(12, 18),
        slots=(("", "Mo–Fr 8:30–12:45"), ("", "Mo–Fr 13:00–17:15")),
        level="B1",
        needs=("deutsch_b1",),
        german_min="A2",
        prerequisites=(
            "Abgeschlossener Integrationskurs mit A2; Berechtigungsschein von Jobcenter oder "
            "Agentur",
        ),
        funding="bamf",
        cost_notes=BSK_COST,
        capacity=(15, 22),
        support=("ar", "fa"),
        support_share=0.2,
    ),
    Kind(
        "bsk_special",
        3,
        "berufssprachkurs",
        "language",
        (
            ("Berufssprachkurs Fachsprache Pflege und Gesundheit (B1 → B2)", ("bruecke", "bbz")),
            ("Berufssprachkurs Gewerbe und Technik (B1 → B2)", ("bbz",)),
            ("Berufssprachkurs Einzelhandel (B1 → B2)", ("bwa",)),
        ),
        (
            "Spezialmodul mit Fachwortschatz, Dokumentation und Gesprächen im Berufsalltag; "
            "Praxistage bei Partnerbetrieben.",
            "Deutsch für den Beruf mit Schwerpunkt auf der Fachsprache der Branche, "
            "Abschlussprüfung B2.",
        ),
        weeks=(18, 26),
        slots=(("", "Mo–Fr 8:30–13:30"), ("", "Mo–Do 13:30–17:30")),
        level="B2",
        needs=("deutsch_b2", "arbeitsplatz"),
        german_min="B1",
        prerequisites=BSK_PREREQ,
        funding="bamf",
        cost_notes=BSK_COST,
        capacity=(14, 20),
    ),
    Kind(
        "bsk_health",
        1,
        "berufssprachkurs",
        "language",
        (("Berufssprachkurs für akademische Heilberufe (C1)", ()),),
        (
            "Fachsprache Medizin für Ärztinnen, Ärzte, Zahnärzte und Apotheker: "
            "Anamnese, Arztbrief, Vorbereitung auf die Fachsprachprüfung der Ärztekammer.",
        ),
        providers=("bruecke",),
        weeks=(20, 26),
        slots=(("", "Mo–Fr 8:30–13:30"),),
        level="C1",
        needs=("deutsch_c1", "anerkennung"),
        german_min="B2",
        prerequisites=("Deutsch B2; Antrag auf Approbation oder Berufserlaubnis gestellt",),
        funding="bamf",
        cost_notes=BSK_COST,
        capacity=(12, 16),
        support=("en", "ar"),
        support_share=0.5,
    ),
    # --- other German courses (Land, municipality, volunteers) ---------------------
    Kind(
        "sk_land",
        3,
        "sprachkurs",
        "language",
        (("Deutschkurs für Geflüchtete (Landesprogramm)", ()),),
        (
            "Deutsch für Geflüchtete, die (noch) keinen Zugang zum Integrationskurs haben, "
            "gefördert vom Land NRW. Alltagsdeutsch bis A2, Orientierung im Ort.",
            "Niedrigschwelliger Deutschkurs für Menschen im Asylverfahren und mit Duldung; "
            "Einstieg jederzeit nach Rücksprache.",
        ),
        providers=("bwa", "caritas", "awo"),
        weeks=(12, 20),
        slots=(("", "Mo–Do 9:00–12:00"), ("", "Di und Do 14:00–17:00")),
        level="A2",
        needs=("deutsch_a1", "deutsch_a2"),
        statuses=("gestattung", "duldung", "duldung_ermessen"),
        funding="land",
        capacity=(12, 20),
        rolling_share=0.5,
        support=("ar", "fa", "ti", "ku"),
        support_share=0.4,
        outreach_share=0.4,
    ),
    Kind(
        "sk_cafe",
        5,
        "sprachkurs",
        "language",
        (
            ("Sprachcafé", ("ehrenamt", "caritas", "drk")),
            ("Deutsch-Café für Frauen", ("miteinander",)),
            ("Sprechcafé Deutsch–Ukrainisch", ("ehrenamt",)),
            ("Konversationstreff Deutsch", ("kulturverein", "ehrenamt")),
        ),
        (
            "Deutsch sprechen üben bei Kaffee und Tee, ohne Anmeldung. Ehrenamtliche helfen "
            "auch bei Briefen und Formularen.",
            "Offener Treff zum Deutschlernen in entspannter Runde; alle Niveaus willkommen.",
        ),
        timing="ongoing",
        slots=(
            ("", "Di 15–17 Uhr"),
            ("", "Do 16:30–18 Uhr"),
            ("", "Mi 10–12 Uhr"),
            ("", "Sa 11–13 Uhr"),
        ),
        needs=("deutsch_a1", "deutsch_a2", "freizeit"),
        prerequisites=("", "Keine Anmeldung nötig"),
        funding="free",
        cost_notes=("kostenlos",),
        support=("uk", "ar", "fa", "en"),
        support_share=0.6,
        childcare_share=0.2,
        outreach_share=0.6,
    ),
    Kind(
        "sk_women",
        2,
        "sprachkurs",
        "language",
        (("Deutschkurs für Frauen mit Kinderbetreuung", ()),),
        (
            "Deutsch für Mütter mit kleinen Kindern: Alltag, Kita, Arztbesuch. Die Kinder "
            "werden nebenan betreut.",
        ),
        providers=("awo", "caritas"),
        weeks=(12, 20),
        slots=(("", "Mo und Mi 9:00–11:30"), ("", "Di und Do 9:30–12:00")),
        level="A2",
        needs=("deutsch_a1", "deutsch_a2", "kinderbetreuung"),
        funding="municipality",
        capacity=(10, 15),
        rolling_share=0.5,
        childcare_share=1.0,
        support=("ar", "fa", "ti", "so"),
        support_share=0.5,
        outreach_share=0.5,
    ),
    Kind(
        "sk_municipal",
        3,
        "sprachkurs",
        "language",
        (("Deutsch im Alltag – Einstiegskurs A1", ()),),
        (
            "Erste Schritte auf Deutsch: sich vorstellen, einkaufen, Termine machen. "
            "Gefördert von der Kommune.",
        ),
        providers=("vhs", "drk", "miteinander"),
        weeks=(10, 14),
        slots=(("", "Di und Do 17–19 Uhr"), ("", "Mo und Mi 18:00–20:15")),
        level="A1",
        needs=("deutsch_a1",),
        funding="municipality",
        cost_notes=("kostenlos", "Lehrbuch wird gestellt"),
        capacity=(12, 20),
        support=("uk", "ar", "en"),
        support_share=0.3,
        outreach_share=0.4,
    ),
    Kind(
        "sk_dtz",
        1,
        "sprachkurs",
        "language",
        (("Prüfungsvorbereitung Deutsch-Test für Zuwanderer (B1)", ()),),
        ("Intensives Training für die mündliche und schriftliche DTZ-Prüfung, Modellprüfung.",),
        providers=("vhs",),
        weeks=(4, 8),
        slots=(("", "Sa 9:00–13:00"),),
        level="B1",
        needs=("deutsch_b1",),
        german_min="A2",
        funding="fee",
        cost_notes=("35 € für acht Termine; Ermäßigung mit Leistungsbescheid",),
        capacity=(12, 16),
    ),
    Kind(
        "sk_learning",
        2,
        "sprachkurs",
        "language",
        (("Lernwerkstatt Deutsch – Übungen und Hausaufgaben", ()),),
        (
            "Ehrenamtliche Lernbegleitung für Teilnehmende an Integrations- und "
            "Berufssprachkursen: Hausaufgaben, Prüfungsangst, Wortschatz.",
        ),
        providers=("ehrenamt", "kulturverein"),
        timing="rolling",
        slots=(("", "Mo und Do 16–18 Uhr"), ("", "Mi 17–19 Uhr")),
        needs=("deutsch_a2", "deutsch_b1"),
        funding="free",
        cost_notes=("kostenlos",),
        support=("ar", "fa"),
        support_share=0.5,
    ),
    # --- transition to training ------------------------------------------------
    Kind(
        "bvb",
        5,
        "bvb",
        "training",
        (
            ("Berufsvorbereitende Bildungsmaßnahme (BvB)", ("bwa", "bbz")),
            ("BvB mit berufsbezogener Sprachförderung", ("bwa",)),
            ("BvB – Schwerpunkt Handwerk und Technik", ("werkstatt", "bbz")),
        ),
        (
            "Zehn Monate Vorbereitung auf eine Ausbildung: Berufsfelder erproben, Praktika in "
            "Betrieben, Bewerbungstraining; der Hauptschulabschluss kann nachgeholt werden.",
            "Berufsvorbereitung mit Bildungsbegleitung, Fachpraxis in Werkstätten und "
            "betrieblichen Qualifizierungsphasen.",
        ),
        timing="rolling",
        slots=(("", "Mo–Fr 8:00–15:30 (Praktikumsphasen im Betrieb)"),),
        level="preparation",
        needs=("ausbildungsvorbereitung", "berufsorientierung", "schulabschluss"),
        age=(16, 24),
        german_min="A2",
        prerequisites=(
            "Zuweisung durch die Berufsberatung der Agentur für Arbeit; Vollzeitschulpflicht "
            "erfüllt",
        ),
        funding="jobcenter",
        cost_notes=("Zuweisung durch die Agentur für Arbeit; Fahrtkosten werden erstattet",),
        capacity=(12, 20),
        full_share=0.3,
    ),
    Kind(
        "eq",
        6,
        "eq",
        "training",
        (
            ("Einstiegsqualifizierung (EQ) Fachlagerist/in – Logistik Brandt GmbH", ("ihk",)),
            ("Einstiegsqualifizierung (EQ) Verkauf – Frischmarkt Auental", ("ihk",)),
            ("Einstiegsqualifizierung (EQ) Koch/Köchin – Hotel Zur Linde", ("ihk",)),
            ("Einstiegsqualifizierung (EQ) Elektronik – Elektro Krämer GmbH", ("hwk",)),
            ("Einstiegsqualifizierung (EQ) Anlagenmechanik SHK – Haustechnik Yıldız", ("hwk",)),
            ("Einstiegsqualifizierung (EQ) Maler/in – Farbwerk Rosental", ("hwk",)),
        ),
        (
            "Betriebliches Langzeitpraktikum von sechs bis zwölf Monaten als Brücke in die "
            "Ausbildung; bei Übernahme kann die Ausbildung verkürzt werden.",
            "EQ im Betrieb mit Berufsschulbesuch; Vermittlung über die Kammer, Förderung durch "
            "Agentur für Arbeit oder Jobcenter.",
        ),
        weeks=(26, 52),
        slots=(("", "Vollzeit im Betrieb, Mo–Fr"), ("", "Mo–Fr 7:00–15:30")),
        level="preparation",
        needs=("einstiegsqualifizierung", "ausbildungsplatz"),
        german_min="A2",
        prerequisites=(
            "Bei Gestattung oder Duldung: Beschäftigungserlaubnis der Ausländerbehörde",
            "Bewerbung mit Lebenslauf; Beschäftigungserlaubnis, falls erforderlich",
        ),
        funding="jobcenter",
        cost_notes=("Vergütung durch den Betrieb, Zuschuss der Agentur für Arbeit",),
        capacity=(1, 2),
        full_share=0.3,
        rolling_share=0.5,
    ),
    Kind(
        "asa_flex",
        3,
        "asa_flex",
        "training",
        (("Assistierte Ausbildung flexibel (AsA flex)", ()),),
        (
            "Unterstützung vor und während der Ausbildung: Nachhilfe in Fachtheorie, Deutsch "
            "für die Berufsschule, Prüfungsvorbereitung und Begleitung bei Problemen im Betrieb.",
            "Ausbildungsbegleitung mit festem Ansprechpartner; Einzel- und Gruppenförderung "
            "neben der Ausbildung.",
        ),
        providers=("bwa", "bbz"),
        timing="rolling",
        slots=(
            ("", "Di und Do 15–19 Uhr und nach Vereinbarung"),
            ("", "Mo–Do 14:00–18:00, Förderzeiten nach Vereinbarung"),
        ),
        level="qualification",
        needs=("ausbildungsbegleitung",),
        prerequisites=(
            "Ausbildungsverhältnis oder Ausbildungswunsch; Zugang über Agentur für Arbeit oder "
            "Jobcenter",
        ),
        funding="jobcenter",
        cost_notes=("kostenfrei für Auszubildende und Betriebe",),
        capacity=(25, 40),
        full_share=0.1,
        support=("ar", "fa", "en"),
        support_share=0.3,
    ),
    Kind(
        "apprenticeship",
        12,
        "ausbildung",
        "training",
        (
            ("Ausbildung Fachlagerist/in (m/w/d) – Logistik Brandt GmbH", ("ihk",)),
            ("Ausbildung Fachkraft für Lagerlogistik (m/w/d) – Spedition Auental", ("ihk",)),
            ("Ausbildung Verkäufer/in (m/w/d) – Frischmarkt Auental", ("ihk",)),
            ("Ausbildung Koch/Köchin (m/w/d) – Hotel Zur Linde", ("ihk",)),
            ("Ausbildung Maschinen- und Anlagenführer/in (m/w/d) – Steinmann Metall", ("ihk",)),
            (
                "Ausbildung Elektroniker/in Energie- und Gebäudetechnik (m/w/d) – "
                "Elektro Krämer GmbH",
                ("hwk",),
            ),
            ("Ausbildung Anlagenmechaniker/in SHK (m/w/d) – Haustechnik Yıldız", ("hwk",)),
            ("Ausbildung Kfz-Mechatroniker/in (m/w/d) – Autohaus Bergheide", ("hwk",)),
            ("Ausbildung Tischler/in (m/w/d) – Tischlerei Holzwerk Falkenrode", ("hwk",)),
            ("Ausbildung Maler/in und Lackierer/in (m/w/d) – Farbwerk Rosental", ("hwk",)),
            ("Ausbildung Bäcker/in (m/w/d) – Bäckerei Kornblume", ("hwk",)),
            ("Pflegefachassistenz (einjährige Ausbildung)", ("bk",)),
        ),
        (
            "Duale Ausbildung im Betrieb und am Berufskolleg. Der Betrieb ist offen für "
            "Bewerberinnen und Bewerber mit Fluchtgeschichte; Unterstützung durch AsA flex "
            "möglich.",
            "Ausbildungsplatz, vermittelt über die Willkommenslotsen der Kammer. Ein Praktikum "
            "vorab ist erwünscht.",
            "Freier Ausbildungsplatz; Bewerbung mit Lebenslauf und Zeugnissen (Übersetzung "
            "genügt).",
        ),
        timing="apprenticeship",
        slots=(("", "Vollzeit, Berufsschule zwei Tage pro Woche"), ("", "Vollzeit im Betrieb")),
        level="qualification",
        needs=("ausbildungsplatz",),
        age=(16, None),
        german_min="B1",
        prerequisites=(
            "Hauptschulabschluss oder vergleichbar; bei Gestattung oder Duldung "
            "Beschäftigungserlaubnis der Ausländerbehörde",
            "Deutsch auf B1-Niveau; Praktikum im Betrieb",
        ),
        funding="free",
        cost_notes=("Ausbildungsvergütung nach Tarif",),
        capacity=(1, 3),
    ),
    # --- school-leaving certificates and production school ---------------------
    Kind(
        "school_bk",
        2,
        "schulabschluss",
        "education",
        (
            ("Internationale Förderklasse (IFK) am Berufskolleg", ()),
            ("Ausbildungsvorbereitung mit Sprachförderung am Berufskolleg", ()),
        ),
        (
            "Einjähriger Bildungsgang für neu zugewanderte Jugendliche: Deutsch, Mathematik, "
            "Berufsorientierung und Praktika; Erwerb des Hauptschulabschlusses möglich.",
        ),
        providers=("bk",),
        timing="school_year",
        slots=(("", "Mo–Fr 7:45–13:15"),),
        level="school_certificate",
        needs=("schulabschluss", "schulplatz", "deutsch_a2"),
        age=(16, 18),
        funding="free",
        cost_notes=("kostenlos; Anmeldung über das Kommunale Integrationszentrum",),
        capacity=(18, 25),
        full_share=0.5,
    ),
    Kind(
        "school_vhs",
        2,
        "schulabschluss",
        "education",
        (
            ("Hauptschulabschluss nach Klasse 9 (Abendform)", ()),
            ("Hauptschulabschluss nach Klasse 10 und Mittlerer Schulabschluss", ()),
        ),
        (
            "Schulabschluss im zweiten Bildungsweg: Deutsch, Mathematik, Englisch und "
            "Gesellschaftslehre, staatliche Prüfung am Ende.",
        ),
        providers=("vhs",),
        weeks=(40, 44),
        slots=(("", "Mo–Do 17:30–21:00"),),
        level="school_certificate",
        needs=("schulabschluss",),
        age=(18, None),
        german_min="B1",
        prerequisites=("Deutsch B1; Beratungsgespräch vor der Anmeldung",),
        funding="land",
        cost_notes=("kostenfrei (Landesförderung)",),
        capacity=(15, 25),
    ),
    Kind(
        "school_young",
        2,
        "schulabschluss",
        "education",
        (("Schulabschluss für junge Geflüchtete – Vorbereitung auf die Externenprüfung", ()),),
        (
            "Für junge Erwachsene, die nicht mehr schulpflichtig sind: Unterricht in kleinen "
            "Gruppen, Lernbegleitung und Prüfung als Externe am Berufskolleg.",
        ),
        providers=("bwa", "miteinander"),
        weeks=(36, 44),
        slots=(("", "Mo–Fr 9:00–13:00"), ("", "Mo–Do 13:30–17:00")),
        level="school_certificate",
        needs=("schulabschluss",),
        age=(18, 27),
        german_min="A2",
        funding="esf",
        cost_notes=("kostenfrei, gefördert aus Mitteln des ESF Plus",),
        capacity=(12, 18),
        support=("ar", "fa", "ti"),
        support_share=0.5,
    ),
    Kind(
        "production_school",
        2,
        "produktionsschule",
        "training",
        (("Produktionsschule", ("werkstatt", "bwa")),),
        (
            "Lernen durch Arbeiten in echten Aufträgen: Holz, Metall, Küche und Garten. "
            "Mit Lernbegleitung, Deutschförderung und Vorbereitung auf Ausbildung oder "
            "Schulabschluss.",
        ),
        timing="rolling",
        slots=(("", "Mo–Do 8:00–15:30, Fr 8:00–12:30"),),
        level="preparation",
        needs=("ausbildungsvorbereitung", "berufsorientierung", "schulabschluss"),
        age=(16, 24),
        prerequisites=("Zuweisung durch Jobcenter oder Jugendamt, oder Erstgespräch beim Träger",),
        funding="esf",
        cost_notes=("Teilnahme kostenlos, Produktionsschulgeld für Teilnehmende",),
        capacity=(16, 24),
        full_share=0.3,
    ),
    # --- vocational orientation ------------------------------------------------
    Kind(
        "bo_perjuf",
        2,
        "berufsorientierung",
        "training",
        (("Perspektiven für junge Geflüchtete (PerjuF)", ("bwa", "bbz")),),
        (
            "Vier bis sechs Monate Berufsorientierung mit Praxisphasen in drei Berufsfeldern, "
            "berufsbezogenem Deutsch und Bewerbungstraining.",
        ),
        weeks=(16, 24),
        slots=(("", "Mo–Fr 8:00–14:30"),),
        level="orientation",
        needs=("berufsorientierung", "ausbildungsvorbereitung"),
        age=(16, 24),
        german_min="A2",
        prerequisites=("Zuweisung durch Agentur für Arbeit oder Jobcenter",),
        funding="jobcenter",
        capacity=(12, 18),
        rolling_share=0.5,
    ),
    Kind(
        "bo_workshop",
        2,
        "berufsorientierung",
        "training",
        (("Werkstatttage Handwerk", ("hwk", "werkstatt")),),
        (
            "Zwei Wochen Handwerk ausprobieren: Elektro, Metall, Holz, Farbe und Bau in den "
            "Lehrwerkstätten, mit Betriebsbesuchen.",
        ),
        weeks=(2, 2),
        slots=(("", "Mo–Fr 8:00–14:00"),),
        level="orientation",
        needs=("berufsorientierung",),
        age=(16, 27),
        funding="free",
        capacity=(8, 12),
        support=("ar", "fa", "uk"),
        support_share=0.3,
    ),
    Kind(
        "bo_competence",
        2,
        "berufsorientierung",
        "training",
        (("Kompetenzfeststellung und Praxiserprobung", ("bbz", "bwa")),),
        (
            "Was kann ich, was will ich? Praktische Arbeitsproben, Gespräche über mitgebrachte "
            "Erfahrungen und ein Kompetenzprofil für die Bewerbung.",
        ),
        weeks=(3, 6),
        slots=(("", "Mo–Fr 8:30–14:00"),),
        level="orientation",
        needs=("berufsorientierung", "anerkennung"),
        funding="jobcenter",
        prerequisites=("Zuweisung mit Aktivierungs- und Vermittlungsgutschein (AVGS)",),
        capacity=(8, 14),
        support=("ar", "fa", "en", "uk"),
        support_share=0.4,
    ),
    Kind(
        "bo_women",
        1,
        "berufsorientierung",
        "training",
        (("Berufsorientierung für Frauen – Wege in Arbeit", ()),),
        (
            "Berufe kennenlernen, Vereinbarkeit mit Familie planen, erste Bewerbungen "
            "schreiben; Kinderbetreuung im Haus.",
        ),
        providers=("awo", "miteinander"),
        weeks=(10, 14),
        slots=(("", "Di und Do 9:00–12:30"),),
        level="orientation",
        needs=("berufsorientierung", "kinderbetreuung"),
        funding="esf",
        capacity=(10, 14),
        childcare_share=1.0,
        support=("ar", "fa", "ti"),
        support_share=0.6,
    ),
    Kind(
        "bo_applications",
        3,
        "berufsorientierung",
        "training",
        (
            ("Bewerbungstraining für junge Menschen", ("jmd1", "jmd2")),
            ("Ausbildungs-Speed-Dating und Praktikumsbörse", ("ki", "ihk")),
        ),
        (
            "Lebenslauf, Anschreiben und Vorstellungsgespräch üben; Kontakt zu Betrieben mit "
            "freien Praktikums- und Ausbildungsplätzen.",
        ),
        weeks=(1, 4),
        slots=(("", "Mi 14–17 Uhr"), ("", "Fr 9:00–13:00")),
        level="orientation",
        needs=("berufsorientierung", "ausbildungsplatz"),
        age=(16, 27),
        funding="free",
        capacity=(10, 20),
        support=("ar", "fa", "uk"),
        support_share=0.3,
    ),
    # --- counselling -----------------------------------------------------------
    Kind(
        "mbe",
        4,
        "beratung",
        "counselling",
        (("Migrationsberatung für Erwachsene (MBE)", ("mbe", "caritas", "awo")),),
        (
            "Beratung für Zugewanderte ab 27 Jahren: Aufenthalt, Sprachkurse, Anerkennung, "
            "Arbeit, Familie, Leistungen. Begleitung nach einem Förderplan.",
            "Individuelle Beratung und Case Management in den ersten Jahren nach der "
            "Einreise; Hilfe bei Anträgen und Behördenbriefen.",
        ),
        timing="ongoing",
        slots=(
            ("", "Offene Sprechstunde Di 9–12 Uhr, Termine nach Vereinbarung"),
            ("", "Mo–Do 9–16 Uhr nach Terminvereinbarung"),
        ),
        needs=("leistungen", "familie", "anerkennung", "aufenthaltsperspektive"),
        age=(27, None),
        cost_notes=("kostenlos und vertraulich; gefördert vom Bund",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.9,
        outreach_share=0.25,
    ),
    Kind(
        "jmd",
        3,
        "beratung",
        "counselling",
        (
            ("Jugendmigrationsdienst – Beratung und Begleitung", ("jmd1", "jmd2")),
            ("Sprechstunde des Jugendmigrationsdienstes in der Unterkunft", ("jmd1",)),
        ),
        (
            "Beratung für junge Zugewanderte von 12 bis 27 Jahren zu Schule, Ausbildung, "
            "Beruf und Aufenthalt; Begleitung über einen Integrationsförderplan.",
        ),
        timing="ongoing",
        slots=(
            ("", "Mo–Fr nach Vereinbarung, offene Sprechstunde Mi 14–17 Uhr"),
            ("", "Do 10–13 Uhr"),
        ),
        needs=("schulplatz", "berufsorientierung", "ausbildungsplatz", "aufenthaltsperspektive"),
        age=(12, 27),
        cost_notes=("kostenlos und vertraulich",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.9,
        outreach_share=0.3,
    ),
    Kind(
        "asylum_counselling",
        2,
        "beratung",
        "counselling",
        (("Asylverfahrensberatung", ("drk", "caritas")),),
        (
            "Unabhängige Beratung vor und während des Asylverfahrens: Anhörung, Bescheid, "
            "Fristen und Rechtsmittel.",
        ),
        timing="ongoing",
        slots=(("", "Mo und Mi 9–13 Uhr"), ("", "Di 13–16 Uhr, Do 9–12 Uhr")),
        needs=("aufenthaltsperspektive",),
        statuses=("ankunftsnachweis", "gestattung"),
        cost_notes=("kostenlos",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.9,
        outreach_share=0.5,
    ),
    Kind(
        "refugee_law",
        2,
        "beratung",
        "counselling",
        (("Flüchtlingsrechtsberatung", ("caritas", "diakonie")),),
        (
            "Rechtsberatung zu Aufenthalt, Familiennachzug, Passbeschaffung und "
            "Beschäftigungserlaubnis; Zusammenarbeit mit Fachanwältinnen und -anwälten.",
        ),
        timing="ongoing",
        slots=(("", "Termine nach Vereinbarung, Mi 9–12 Uhr"),),
        needs=("aufenthaltsperspektive", "beschaeftigungserlaubnis", "identitaetsklaerung"),
        cost_notes=("kostenlos",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.8,
    ),
    Kind(
        "stay_counselling",
        1,
        "beratung",
        "counselling",
        (("Bleiberechtsberatung für Geduldete (§§ 25a, 25b, 60c, 60d AufenthG)", ()),),
        (
            "Welche Wege zu einem Aufenthaltstitel gibt es? Beratung zu Ausbildungs- und "
            "Beschäftigungsduldung, Bleiberecht für gut integrierte Jugendliche und "
            "nachhaltige Integration.",
        ),
        providers=("diakonie",),
        timing="ongoing",
        slots=(("", "Do 13–17 Uhr nach Vereinbarung"),),
        needs=("aufenthaltsperspektive", "beschaeftigungserlaubnis", "identitaetsklaerung"),
        statuses=TOLERATED,
        cost_notes=("kostenlos",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.8,
    ),
    Kind(
        "debt",
        2,
        "beratung",
        "counselling",
        (("Schuldner- und Insolvenzberatung", ("diakonie", "awo")),),
        (
            "Hilfe bei Schulden, Mahnungen und Pfändungen: Überblick verschaffen, mit "
            "Gläubigern verhandeln, P-Konto, Insolvenzverfahren.",
        ),
        timing="ongoing",
        slots=(("", "Termine nach Vereinbarung, telefonische Sprechstunde Mo 10–12 Uhr"),),
        needs=("schulden", "leistungen"),
        age=(18, None),
        funding="municipality",
        cost_notes=("kostenlos für Einwohnerinnen und Einwohner des Kreises",),
        support=("en", "ar", "tr"),
        support_share=0.3,
    ),
    Kind(
        "recognition",
        2,
        "beratung",
        "counselling",
        (("Anerkennungsberatung für ausländische Berufsabschlüsse", ("ihk", "ki")),),
        (
            "Welche Stelle ist zuständig, welche Unterlagen werden gebraucht? Beratung zur "
            "Anerkennung und zu Anpassungsqualifizierungen.",
        ),
        timing="ongoing",
        slots=(("", "Sprechstunde jeden 1. und 3. Mittwoch, 10–15 Uhr"),),
        needs=("anerkennung", "arbeitsplatz"),
        age=(18, None),
        cost_notes=("Beratung kostenlos; Gebühren des Anerkennungsverfahrens fallen gesondert an",),
        support=("en", "ar", "ru", "uk"),
        support_share=0.6,
    ),
    Kind(
        "psychosocial",
        2,
        "beratung",
        "health",
        (
            ("Psychosoziale Beratung für Geflüchtete", ("psz",)),
            ("Stabilisierungsgruppe für junge Geflüchtete", ("psz",)),
        ),
        (
            "Beratung und Therapievermittlung bei psychischen Belastungen nach Flucht und "
            "Gewalt, mit Sprachmittlung.",
        ),
        timing="ongoing",
        slots=(("", "Termine nach Vereinbarung"), ("", "Di 16–17:30 Uhr")),
        needs=("psychosozial", "gesundheit"),
        cost_notes=("kostenlos; Wartezeit für Erstgespräche etwa acht Wochen",),
        support=("ar", "fa", "prs", "ti", "ku", "uk"),
        support_share=0.9,
    ),
    Kind(
        "health_guides",
        2,
        "beratung",
        "health",
        (("Gesundheitslotsen – Begleitung zu Arztterminen", ("drk", "kulturverein")),),
        (
            "Ehrenamtliche Lotsinnen und Lotsen erklären das Gesundheitssystem und begleiten "
            "zu Arzt- und Kliniktermine, auf Wunsch mit Sprachmittlung.",
        ),
        timing="ongoing",
        slots=(("", "Terminvergabe Mo–Fr 9–12 Uhr"),),
        needs=("gesundheit",),
        cost_notes=("kostenlos",),
        support=("ar", "fa", "ti", "so", "uk", "ru"),
        support_share=0.8,
    ),
    Kind(
        "housing",
        2,
        "beratung",
        "housing",
        (("Wohnraumberatung – Auszug aus der Unterkunft", ("caritas", "ki")),),
        (
            "Unterstützung bei der Wohnungssuche: Wohnberechtigungsschein, Mietangebote prüfen, "
            "Kontakt zu Vermietern, Mietübernahme durch Jobcenter oder Sozialamt.",
        ),
        timing="ongoing",
        slots=(("", "Mo 14–17 Uhr und nach Vereinbarung"),),
        needs=("wohnung",),
        age=(18, None),
        cost_notes=("kostenlos",),
        support=("ar", "fa", "uk"),
        support_share=0.5,
        outreach_share=0.3,
    ),
    Kind(
        "agency_counselling",
        2,
        "beratung",
        "work",
        (
            ("Integration Point – Beratung für Geflüchtete im Jobcenter", ("jobcenter",)),
            ("Berufsberatung für Geflüchtete", ("agentur",)),
        ),
        (
            "Beratung zu Arbeit, Ausbildung und Förderung; Abstimmung von Sprachkurs und "
            "Maßnahmen. Termin über die Eingangszone.",
        ),
        timing="ongoing",
        slots=(("", "Mo–Fr 8–12:30 Uhr, Do bis 18 Uhr"),),
        needs=("arbeitsplatz", "ausbildungsplatz", "berufsorientierung", "leistungen"),
        age=(15, None),
        cost_notes=("kostenlos",),
        support=("en", "ar", "uk"),
        support_share=0.5,
    ),
    Kind(
        "family",
        2,
        "beratung",
        "counselling",
        (("Beratung zum Familiennachzug", ("caritas", "drk")),),
        (
            "Voraussetzungen, Fristen und Visumverfahren beim Familiennachzug; Hilfe bei "
            "Terminen der Botschaft und beim Suchdienst.",
        ),
        timing="ongoing",
        slots=(("", "Di 9–12 Uhr und nach Vereinbarung"),),
        needs=("familie",),
        cost_notes=("kostenlos",),
        support=COUNSELLING_LANGUAGES,
        support_share=0.8,
    ),
    # --- employment measures ---------------------------------------------------
    Kind(
        "fim",
        2,
        "arbeit",
        "work",
        (("Arbeitsgelegenheit nach § 5 AsylbLG", ("werkstatt", "drk")),),
        (
            "Gemeinnützige Tätigkeit in Werkstatt, Kleiderkammer oder Grünpflege mit "
            "Aufwandsentschädigung; erster Kontakt zur Arbeitswelt.",
        ),
        timing="rolling",
        slots=(("", "Mo–Do 8:00–12:00"), ("", "Mo–Fr 9:00–13:00")),
        needs=("arbeitsplatz",),
        age=(18, None),
        statuses=ASYLBLG,
        prerequisites=("Zuweisung durch das Sozialamt",),
        funding="municipality",
        cost_notes=("Aufwandsentschädigung 80 Cent je Stunde",),
        capacity=(8, 16),
    ),
    Kind(
        "kompas",
        2,
        "arbeit",
        "work",
        (("Kompetenzen, Aktivierung und Spracherwerb (KompAS)", ("bwa", "bbz")),),
        (
            "Maßnahme zur Aktivierung und beruflichen Eingliederung, eng verzahnt mit dem "
            "Integrationskurs: Praxis am Nachmittag, Sprache am Vormittag.",
        ),
        weeks=(20, 30),
        slots=(("", "Mo–Fr 13:30–17:00"),),
        needs=("arbeitsplatz", "deutsch_b1"),
        age=(18, None),
        german_min="A1",
        prerequisites=("Zuweisung durch das Jobcenter; Teilnahme am Integrationskurs",),
        funding="jobcenter",
        cost_notes=("Zuweisung mit AVGS",),
        capacity=(12, 20),
        rolling_share=0.5,
    ),
    Kind(
        "job_turbo",
        2,
        "arbeit",
        "work",
        (("Job-Turbo Coaching – Arbeitsaufnahme begleiten", ("bwa", "bruecke")),),
        (
            "Coaching für Geflüchtete mit Bleibeperspektive: Stellensuche, Bewerbung und "
            "Begleitung in den ersten Monaten im Job, parallel zum Spracherwerb.",
        ),
        timing="rolling",
        slots=(("", "Einzelcoaching nach Vereinbarung"),),
        needs=("arbeitsplatz",),
        age=(18, None),
        statuses=RECOGNISED,
        prerequisites=("Zuweisung durch das Jobcenter",),
        funding="jobcenter",
        cost_notes=("Zuweisung mit AVGS",),
        capacity=(20, 30),
        support=("ar", "uk", "en", "fa"),
        support_share=0.6,
    ),
    Kind(
        "agh",
        1,
        "arbeit",
        "work",
        (("Arbeitsgelegenheit Sozialkaufhaus (§ 16d SGB II)", ()),),
        ("Mitarbeit im Sozialkaufhaus: Verkauf, Lager, Fahrradwerkstatt, mit Anleitung.",),
        providers=("werkstatt", "awo"),
        timing="rolling",
        slots=(("", "Mo–Fr 8:00–13:00"),),
        needs=("arbeitsplatz",),
        age=(18, None),
        prerequisites=("Zuweisung durch das Jobcenter",),
        funding="jobcenter",
        cost_notes=("Mehraufwandsentschädigung",),
        capacity=(10, 15),
    ),
    Kind(
        "job_board",
        1,
        "arbeit",
        "work",
        (("Jobbörse für Geflüchtete – Minijobs und Teilzeitstellen", ()),),
        (
            "Ehrenamtliche vermitteln Kontakte zu Betrieben im Kreis und helfen bei "
            "Bewerbungen und der Beschäftigungserlaubnis.",
        ),
        providers=("ehrenamt",),
        timing="ongoing",
        slots=(("", "Fr 15–17 Uhr"),),
        needs=("arbeitsplatz", "beschaeftigungserlaubnis"),
        age=(18, None),
        cost_notes=("kostenlos",),
        support=("ar", "fa", "uk"),
        support_share=0.5,
    ),
    # --- mentoring -------------------------------------------------------------
    Kind(
        "mentoring_young",
        2,
        "mentoring",
        "participation",
        (("Patenschaften für junge Geflüchtete („Gemeinsam klappt's“)", ("ehrenamt",)),),
        (
            "Ehrenamtliche Patinnen und Paten begleiten junge Erwachsene ein Jahr lang: "
            "Behördengänge, Wohnungssuche, Ausbildung und Freizeit.",
        ),
        timing="ongoing",
        slots=(("", "Treffen nach Absprache, Patenstammtisch jeden 2. Dienstag, 18 Uhr"),),
        needs=("mentoring", "freizeit"),
        age=(18, 27),
        cost_notes=("kostenlos",),
        capacity=(20, 40),
        full_share=0.4,
    ),
    Kind(
        "mentoring_training",
        1,
        "mentoring",
        "training",
        (("Ausbildungspatenschaften", ("ehrenamt",)),),
        (
            "Erfahrene Fachleute im Ruhestand begleiten Auszubildende bis zur Prüfung: "
            "Lernen, Berufsschule, Konflikte im Betrieb.",
        ),
        timing="ongoing",
        slots=(("", "Treffen nach Absprache, wöchentlich"),),
        needs=("mentoring", "ausbildungsbegleitung"),
        age=(16, None),
        cost_notes=("kostenlos",),
        capacity=(15, 25),
    ),
    Kind(
        "mentoring_other",
        4,
        "mentoring",
        "participation",
        (
            ("Mentoring für Frauen – Wege in den Beruf", ("miteinander",)),
            ("Lernpatenschaften für Schülerinnen und Schüler", ("kulturverein",)),
            ("Sprachtandem Deutsch", ("ehrenamt",)),
            ("Alltagslotsen – Begleitung zu Ämtern", ("kulturverein", "miteinander")),
        ),
        (
            "Ehrenamtliche Begleitung eins zu eins; Vermittlung nach einem Kennenlerngespräch.",
            "Tandems aus Einheimischen und Zugewanderten treffen sich regelmäßig; die "
            "Koordinatorin vermittelt und begleitet.",
        ),
        timing="ongoing",
        slots=(("", "Treffen nach Absprache"), ("", "Koordination Mo und Mi 10–12 Uhr")),
        needs=("mentoring",),
        cost_notes=("kostenlos",),
        capacity=(10, 30),
        support=("ar", "fa", "uk", "tr"),
        support_share=0.5,
    ),
    # --- leisure and sport -----------------------------------------------------
    Kind(
        "leisure",
        7,
        "freizeit",
        "participation",
        (
            ("Fußball für alle", ("ehrenamt",)),
            ("Internationales Frauencafé", ("miteinander",)),
            ("Fahrradwerkstatt", ("ehrenamt", "werkstatt")),
            ("Nähcafé", ("caritas",)),
            ("Gemeinschaftsgarten", ("miteinander",)),
            ("Jugendtreff International", ("jmd2",)),
            ("Interkulturelles Kochen", ("kulturverein",)),
        ),
        (
            "Offenes Angebot ohne Anmeldung; neue Leute kennenlernen und nebenbei Deutsch "
            "sprechen.",
            "Treffpunkt für Einheimische und Zugewanderte; Material wird gestellt.",
        ),
        timing="ongoing",
        slots=(
            ("", "Mi 17–19 Uhr"),
            ("", "Sa 10–13 Uhr"),
            ("", "Fr 16–19 Uhr"),
            ("", "Di 15–17 Uhr"),
        ),
        needs=("freizeit",),
        cost_notes=("kostenlos",),
        support=("ar", "fa", "uk", "ti"),
        support_share=0.4,
        childcare_share=0.15,
        outreach_share=0.6,
    ),
    Kind(
        "leisure_course",
        3,
        "freizeit",
        "participation",
        (
            ("Schwimmkurs für Frauen", ("awo",)),
            ("Radfahrkurs für Erwachsene", ("drk",)),
            ("Theaterprojekt „Ankommen“", ("bwa", "kulturverein")),
        ),
        ("Kurs in kleiner Gruppe mit erfahrener Leitung; Anmeldung erforderlich.",),
        weeks=(6, 12),
        slots=(("", "So 9–10:30 Uhr"), ("", "Sa 10–12 Uhr"), ("", "Do 18–20 Uhr")),
        needs=("freizeit",),
        funding="fee",
        cost_notes=("10 € für den ganzen Kurs, Ermäßigung möglich",),
        capacity=(8, 14),
        full_share=0.4,
        childcare_share=0.3,
    ),
    # --- other -----------------------------------------------------------------
    Kind(
        "first_aid",
        1,
        "other",
        "health",
        (("Erste-Hilfe-Kurs mit Sprachmittlung", ()),),
        ("Erste Hilfe im Alltag und für den Führerschein, ein Tag mit Bescheinigung.",),
        providers=("drk",),
        weeks=(0, 0),
        slots=(("", "Sa 9–16:30 Uhr"),),
        needs=("gesundheit",),
        funding="fee",
        cost_notes=("45 €; kostenlos mit Leistungsbescheid",),
        capacity=(12, 20),
        support=("ar", "fa", "uk"),
        support_share=1.0,
    ),
    Kind(
        "tenancy",
        1,
        "other",
        "housing",
        (("Mieterführerschein – Wohnen in Deutschland", ()),),
        (
            "Mietvertrag, Nebenkosten, Mülltrennung, Lüften und Heizen: vier Abende mit "
            "Zertifikat, das viele Vermieter kennen.",
        ),
        providers=("caritas", "ki"),
        weeks=(4, 4),
        slots=(("", "Mo 17–19 Uhr"),),
        needs=("wohnung",),
        age=(18, None),
        funding="municipality",
        cost_notes=("kostenlos",),
        capacity=(12, 20),
        support=("ar", "fa", "uk", "ti"),
        support_share=0.7,
    ),
    Kind(
        "childcare",
        1,
        "other",
        "education",
        (("Brückenprojekt Kinderbetreuung während der Kurszeiten", ()),),
        (
            "Betreuung für Kinder ab einem Jahr, deren Eltern einen Sprach- oder Integrationskurs "
            "besuchen und noch keinen Kita-Platz haben.",
        ),
        providers=("awo",),
        timing="rolling",
        slots=(("", "Mo–Fr 8:15–12:45"),),
        needs=("kinderbetreuung",),
        funding="land",
        cost_notes=("kostenlos",),
        capacity=(10, 15),
        full_share=0.5,
        childcare_share=1.0,
    ),
]
CATALOGUE_SIZE = sum(k.count for k in KINDS)

VENUES = [
    "Bürgerhaus",
    "Stadtteilzentrum",
    "Gemeindehaus",
    "Familienzentrum",
    "Jugendzentrum",
    "Begegnungsstätte",
]


@dataclass(frozen=True)
class Provider:
    id: int
    key: str
    name: str
    short_name: str
    district_id: int
    address: str
    phone: str


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _monday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def search_text(
    *,
    title: str,
    description: str,
    prerequisites: str,
    provider_name: str,
    provider_short_name: str,
    address: str,
    need_names: Sequence[str],
) -> str:
    """What `lotse.offers.selectors.offer_search_text` gives for these parts."""
    parts = [title, description, prerequisites, provider_name]
    parts += [provider_short_name, address, *need_names]
    return " ".join(fold(p) for p in parts if p)


class Catalogue:
    """Builds the offer rows from one random stream."""

    def __init__(
        self,
        d: Draw,
        *,
        today: dt.date,
        providers: Mapping[str, Provider],
        districts: Sequence[tuple[int, str, str, int]],  # id, code, name, weight
        need_types: Mapping[str, NeedTypeSpec],
        next_offer_id: Callable[[], int],
        next_link_id: Callable[[], int],
    ) -> None:
        self.d = d
        self.today = today
        self.providers = providers
        self.districts = districts
        self.need_types = need_types
        self.next_offer_id = next_offer_id
        self.next_link_id = next_link_id

    def rows(self) -> dict[str, list[Row]]:
        rows: dict[str, list[Row]] = {"offer": [], "offer_need_type": []}
        for kind in KINDS:
            titles = self._spread(kind.titles, kind.count)
            slots = self._spread(kind.slots, kind.count)
            for title, slot in zip(titles, slots, strict=True):
                self._offer(rows, kind, title, slot)
        return rows

    def _spread(self, items: Sequence[Any], n: int) -> list[Any]:
        """n items, each as often as the others (±1), in random order."""
        out: list[Any] = []
        while len(out) < n:
            out += self.d.rng.sample(list(items), len(items))
        return out[:n]

    def _district(self, exclude: int) -> tuple[int, str, str, int]:
        others = [x for x in self.districts if x[0] != exclude]
        return self.d.weighted([(x, x[3]) for x in others])

    def _address(self, district_name: str, district_code: str) -> str:
        d = self.d
        place = pools.TOWN if district_code.startswith("auenstadt") else district_name
        venue = d.pick(VENUES)
        if d.chance(0.15):
            return d.pick(pools.SHELTERS) + f", {place}"
        return f"{venue} {district_name}, {d.pick(pools.STREETS)} {d.rng.randint(1, 60)}, {place}"

    def _offer(self, rows: dict[str, list[Row]], kind: Kind, title: Title, slot: Slot) -> None:
        d = self.d
        text, title_providers = title
        provider = self.providers[d.pick(title_providers or kind.providers)]
        label, schedule = slot
        if kind.label_in_title and label:
            text = f"{text} – {label}"
        district_id, address = provider.district_id, provider.address
        if d.chance(kind.outreach_share):
            did, code, name, _w = self._district(provider.district_id)
            district_id, address = did, self._address(name, code)
        starts, ends, rolling, phase = self._dates(kind, text)
        capacity = d.rng.randint(*kind.capacity) if kind.capacity else None
        occupied = self._occupied(kind, capacity, phase)
        languages = ["de"]
        if kind.support and d.chance(kind.support_share):
            k = 1 if kind.category != "beratung" else d.pick((1, 2, 2, 3))
            languages += d.rng.sample(list(kind.support), min(k, len(kind.support)))
        description = d.pick(kind.descriptions)
        prerequisites = d.pick(kind.prerequisites)
        needs = [code for code in kind.needs if code in self.need_types]
        first, last = d.pick(pools.STAFF_GIVEN), d.pick(pools.STAFF_FAMILY)
        mailbox = ".".join(fold(x).replace(" ", "") for x in (first, last))
        review_due, created, updated = self._review(starts)
        inactive = INACTIVE_SHARE if phase != "ended" else 0.3
        oid = self.next_offer_id()
        rows["offer"].append(
            {
                "id": oid,
                "provider_id": provider.id,
                "title": text,
                "description": description,
                "field_of_action": kind.field,
                "category": kind.category,
                "level": kind.level,
                "statuses": list(kind.statuses),
                "age_min": kind.age[0],
                "age_max": kind.age[1],
                "german_min": kind.german_min,
                "prerequisites": prerequisites,
                "district_id": district_id,
                "address": address,
                "starts_on": starts,
                "ends_on": ends,
                "rolling_entry": rolling,
                "schedule": schedule,
                "capacity": capacity,
                "occupied": occupied,
                "languages": languages,
                "funding": kind.funding,
                "cost_note": d.pick(kind.cost_notes),
                "contact_name": f"{first} {last}",
                "contact_email": f"{mailbox}@{provider.key}.auental.example",
                "contact_phone": ""
                if d.chance(0.2)
                else f"{provider.phone}-{d.rng.randint(10, 89)}",
                "childcare": d.chance(kind.childcare_share),
                "review_due": review_due,
                "is_active": not d.chance(inactive),
                "search_text": search_text(
                    title=text,
                    description=description,
                    prerequisites=prerequisites,
                    provider_name=provider.name,
                    provider_short_name=provider.short_name,
                    address=address,
                    need_names=[self.need_types[c].name for c in needs],
                ),
                "created_at": created,
                "updated_at": updated,
                "updated_by_id": None,
            }
        )
        for code in needs:
            rows["offer_need_type"].append(
                {"id": self.next_link_id(), "offer_id": oid, "need_type": code}
            )

    # --- dates, places, review --------------------------------------------------

    def _dates(self, kind: Kind, title: str) -> tuple[dt.date | None, dt.date | None, bool, str]:
        """starts_on, ends_on, rolling_entry and the phase (ended, running, soon, later)."""
        d, today = self.d, self.today
        days = dt.timedelta
        start: dt.date | None
        end: dt.date | None
        if kind.timing == "course":
            length = d.rng.randint(*kind.weeks) * 7
            phase = d.weighted(COURSE_PHASES)
            if phase == "ended":
                start = _monday_on_or_before(today - days(length + d.rng.randint(1, 150)))
            elif phase == "running":
                start = _monday_on_or_before(today - days(d.rng.randint(0, max(length - 5, 0))))
            elif phase == "soon":
                start = _monday_on_or_after(today + days(d.rng.randint(1, 60)))
            else:
                start = _monday_on_or_after(today + days(d.rng.randint(61, 180)))
            if length == 0:  # one day: a Saturday
                start += days(5)
            end = start + days(max(length - 3, 0))  # a Friday (the same day for one day)
            if end < today:
                phase = "ended"
            elif start <= today:
                phase = "running"
            rolling = phase != "ended" and d.chance(kind.rolling_share)
            return start, end, rolling, phase
        if kind.timing == "rolling":
            start = (today - days(d.rng.randint(30, 900))).replace(day=1)
            if d.chance(0.05):
                return start, today - days(d.rng.randint(1, 25)), True, "ended"
            end = None
            if d.chance(0.6):
                year = today.year + d.pick((0, 1, 1, 2))
                end = dt.date(year, d.pick((7, 12)), 31)
                if end < today:
                    end = dt.date(today.year + 1, 12, 31)
            return start, end, True, "running"
        if kind.timing == "ongoing":
            start = None
            if d.chance(0.35):
                start = (today - days(d.rng.randint(60, 2500))).replace(day=1)
            end = dt.date(today.year + d.pick((1, 2)), 12, 31) if d.chance(0.25) else None
            return start, end, True, "running"
        if kind.timing == "apprenticeship":
            this_year = dt.date(today.year, 8, 1)
            if d.chance(0.25) and this_year <= today:
                # A place of the current training year still vacant: start at once.
                start, rolling, phase = this_year, True, "running"
            else:
                start = this_year if this_year > today else dt.date(today.year + 1, 8, 1)
                rolling, phase = False, "soon"
            years = 1 if "einjährig" in title else d.pick((2, 3, 3, 3))
            end = dt.date(start.year + years, 7, 31)
            return start, end, rolling, phase
        # school_year: the current school year (NRW: late summer to early summer)
        year = today.year if today >= dt.date(today.year, 8, 20) else today.year - 1
        start = _monday_on_or_after(dt.date(year, 8, 20))
        end = dt.date(year + 1, 7, 3)
        return start, end, True, "running" if start <= today else "soon"

    def _occupied(self, kind: Kind, capacity: int | None, phase: str) -> int:
        d = self.d
        if capacity is None or phase == "ended":
            return 0
        if kind.timing == "apprenticeship" and phase == "running":
            return 0  # a place of the current training year still vacant
        if phase == "later":
            return d.rng.randint(0, capacity // 2)
        full = kind.full_share if phase == "running" else kind.full_share * 0.7
        if d.chance(full):
            return capacity
        if phase == "running":
            return d.rng.randint((capacity + 1) // 2, max(capacity - 1, (capacity + 1) // 2))
        return d.rng.randint(0, capacity - 1)

    def _at(self, day: dt.date) -> dt.datetime:
        hour, minute = self.d.rng.randint(8, 16), self.d.pick((0, 15, 30, 45))
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)

    def _review(self, starts: dt.date | None) -> tuple[dt.date, dt.datetime, dt.datetime]:
        """review_due, created_at, updated_at: the last review set the next one."""
        d, today = self.d, self.today
        days = dt.timedelta
        interval = d.pick((182, 365))
        if d.chance(OUTDATED_SHARE):
            due = today - days(d.rng.randint(1, 240))
        else:
            due = today + days(d.rng.randint(7, interval))
        reviewed = min(due - days(interval), today - days(1))
        created_day = reviewed - days(d.rng.randint(0, 400))
        if starts is not None:
            created_day = min(created_day, starts - days(d.rng.randint(14, 90)))
        created = self._at(created_day)
        updated = self._at(reviewed)
        return due, created, max(created, updated)
