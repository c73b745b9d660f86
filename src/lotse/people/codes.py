"""Code lists for persons and their timelines (DESIGN §3, §6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    DIVERSE = "diverse", _("diverse")
    UNSPECIFIED = "unspecified", _("not specified")


class ResidenceStatus(models.TextChoices):
    ANKUNFTSNACHWEIS = "ankunftsnachweis", _("Proof of arrival (§ 63a AsylG)")
    GESTATTUNG = "gestattung", _("Permission to reside pending asylum (§ 55 AsylG)")
    DULDUNG = "duldung", _("Toleration (§ 60a (2) 1 AufenthG)")
    DULDUNG_ERMESSEN = "duldung_ermessen", _("Discretionary toleration (§ 60a (2) 3 AufenthG)")
    DULDUNG_UNGEKLAERTE_IDENTITAET = (
        "duldung_ungeklaerte_identitaet",
        _("Toleration, identity unresolved (§ 60b AufenthG)"),
    )
    AUSBILDUNGSDULDUNG = "ausbildungsduldung", _("Training toleration (§ 60c AufenthG)")
    BESCHAEFTIGUNGSDULDUNG = "beschaeftigungsduldung", _("Employment toleration (§ 60d AufenthG)")
    AUSREISEPFLICHTIG = "ausreisepflichtig", _("Enforceable duty to leave, no toleration")
    FIKTIONSBESCHEINIGUNG = "fiktionsbescheinigung", _("Fictional certificate (§ 81 AufenthG)")
    AE_16A = "ae_16a", _("Residence permit for vocational training (§ 16a AufenthG)")
    AE_16G = "ae_16g", _("Residence permit for tolerated trainees (§ 16g AufenthG)")
    AE_19D = "ae_19d", _("Residence permit for qualified tolerated persons (§ 19d AufenthG)")
    AE_23 = "ae_23", _("Residence permit, admission by state (§ 23 AufenthG)")
    AE_24 = "ae_24", _("Residence permit, temporary protection (§ 24 AufenthG)")
    AE_25_1 = "ae_25_1", _("Residence permit, entitled to asylum (§ 25 (1) AufenthG)")
    AE_25_2_GFK = "ae_25_2_gfk", _("Residence permit, refugee status (§ 25 (2) AufenthG)")
    AE_25_2_SUBSIDIAER = (
        "ae_25_2_subsidiaer",
        _("Residence permit, subsidiary protection (§ 25 (2) AufenthG)"),
    )
    AE_25_3 = "ae_25_3", _("Residence permit, ban on deportation (§ 25 (3) AufenthG)")
    AE_25_4_1 = "ae_25_4_1", _("Residence permit, temporary stay (§ 25 (4) 1 AufenthG)")
    AE_25_4_2 = "ae_25_4_2", _("Residence permit, extension (§ 25 (4) 2 AufenthG)")
    AE_25_5 = "ae_25_5", _("Residence permit, departure impossible (§ 25 (5) AufenthG)")
    AE_25A = "ae_25a", _("Residence permit, well-integrated young people (§ 25a AufenthG)")
    AE_25B = "ae_25b", _("Residence permit, sustainable integration (§ 25b AufenthG)")
    AE_104C = "ae_104c", _("Opportunity residence permit (§ 104c AufenthG)")
    AE_FAMILIE = "ae_familie", _("Residence permit for family reasons (§§ 27–36 AufenthG)")
    NIEDERLASSUNGSERLAUBNIS = "niederlassungserlaubnis", _("Settlement permit")
    EU_FREIZUEGIGKEIT = "eu_freizuegigkeit", _("EU freedom of movement")
    DEUTSCH = "deutsch", _("German citizen")


class StatusGroup(models.TextChoices):
    """Coarse groups for lists and statistics."""

    ASYLUM = "asylum", _("asylum procedure")
    TOLERATED = "tolerated", _("tolerated / obliged to leave")
    PROTECTION = "protection", _("protection status")
    OTHER_PERMIT = "other_permit", _("other residence permit")
    SETTLED = "settled", _("settled / EU / German")


STATUS_GROUP: dict[str, str] = {
    "ankunftsnachweis": StatusGroup.ASYLUM,
    "gestattung": StatusGroup.ASYLUM,
    "duldung": StatusGroup.TOLERATED,
    "duldung_ermessen": StatusGroup.TOLERATED,
    "duldung_ungeklaerte_identitaet": StatusGroup.TOLERATED,
    "ausbildungsduldung": StatusGroup.TOLERATED,
    "beschaeftigungsduldung": StatusGroup.TOLERATED,
    "ausreisepflichtig": StatusGroup.TOLERATED,
    "fiktionsbescheinigung": StatusGroup.OTHER_PERMIT,
    "ae_16a": StatusGroup.OTHER_PERMIT,
    "ae_16g": StatusGroup.OTHER_PERMIT,
    "ae_19d": StatusGroup.OTHER_PERMIT,
    "ae_23": StatusGroup.PROTECTION,
    "ae_24": StatusGroup.PROTECTION,
    "ae_25_1": StatusGroup.PROTECTION,
    "ae_25_2_gfk": StatusGroup.PROTECTION,
    "ae_25_2_subsidiaer": StatusGroup.PROTECTION,
    "ae_25_3": StatusGroup.PROTECTION,
    "ae_25_4_1": StatusGroup.OTHER_PERMIT,
    "ae_25_4_2": StatusGroup.OTHER_PERMIT,
    "ae_25_5": StatusGroup.OTHER_PERMIT,
    "ae_25a": StatusGroup.OTHER_PERMIT,
    "ae_25b": StatusGroup.OTHER_PERMIT,
    "ae_104c": StatusGroup.OTHER_PERMIT,
    "ae_familie": StatusGroup.OTHER_PERMIT,
    "niederlassungserlaubnis": StatusGroup.SETTLED,
    "eu_freizuegigkeit": StatusGroup.SETTLED,
    "deutsch": StatusGroup.SETTLED,
}


class WorkPermission(models.TextChoices):
    ALLOWED = "allowed", _("employment permitted")
    WITH_PERMISSION = "with_permission", _("employment only with permission")
    NOT_ALLOWED = "not_allowed", _("employment not permitted")
    UNKNOWN = "unknown", _("unknown")


class BenefitRegime(models.TextChoices):
    ASYLBLG_3 = "asylblg_3", _("AsylbLG basic benefits (§ 3)")
    ASYLBLG_2 = "asylblg_2", _("AsylbLG analogous benefits (§ 2)")
    SGB2 = "sgb2", _("SGB II (citizen's benefit)")
    SGB3 = "sgb3", _("SGB III (employment promotion)")
    SGB8 = "sgb8", _("SGB VIII (youth welfare)")
    SGB12 = "sgb12", _("SGB XII (social assistance)")
    NONE = "none", _("no benefits")


class CefrLevel(models.TextChoices):
    NONE = "none", _("no knowledge")
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    C2 = "C2", "C2"
    NATIVE = "native", _("first language")


class Language(models.TextChoices):
    """Languages commonly spoken by newcomers (ISO 639-1, or 639-3 where 639-1 has none)."""

    DE = "de", _("German")
    AR = "ar", _("Arabic")
    FA = "fa", _("Persian (Farsi)")
    PRS = "prs", _("Dari")
    PS = "ps", _("Pashto")
    KU = "ku", _("Kurdish")
    TI = "ti", _("Tigrinya")
    SO = "so", _("Somali")
    TR = "tr", _("Turkish")
    UK = "uk", _("Ukrainian")
    RU = "ru", _("Russian")
    EN = "en", _("English")
    FR = "fr", _("French")
    SQ = "sq", _("Albanian")
    SR = "sr", _("Serbian")
    RO = "ro", _("Romanian")
    BG = "bg", _("Bulgarian")
    PL = "pl", _("Polish")
    UR = "ur", _("Urdu")
    BN = "bn", _("Bengali")
    AM = "am", _("Amharic")
    HA = "ha", _("Hausa")
    ES = "es", _("Spanish")
    OTHER = "other", _("other")


class HouseholdRole(models.TextChoices):
    HEAD = "head", _("head of household")
    PARTNER = "partner", _("partner")
    CHILD = "child", _("child")
    PARENT = "parent", _("parent")
    SIBLING = "sibling", _("sibling")
    OTHER = "other", _("other relative")
