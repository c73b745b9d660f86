"""Labels and German texts for the pages; the engine itself speaks codes and English."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CATEGORY_LABELS = {
    "integrationskurs": _("Integration course (§ 44 AufenthG)"),
    "berufssprachkurs": _("Job-related German course (§ 45a AufenthG)"),
    "beschaeftigung": _("Employment"),
    "berufsausbildung": _("Vocational training in a company"),
    "bab": _("Vocational training allowance (BAB, § 56 SGB III)"),
    "bvb": _("Pre-vocational training measure (BvB, § 51 SGB III)"),
    "asa_flex": _("Assisted training (AsA flex, § 74 SGB III)"),
    "eq": _("Entry qualification (EQ, § 54a SGB III)"),
    "sgb8_41": _("Help for young adults (§ 41 SGB VIII)"),
    "ausbildungsduldung": _("Training toleration (§ 60c AufenthG)"),
    "beschaeftigungsduldung": _("Employment toleration (§ 60d AufenthG)"),
}

RESULT_LABELS = {
    "entitled": _("entitled"),
    "admissible": _("may be admitted"),
    "needs_permission": _("needs a permit"),
    "excluded": _("excluded"),
    "unknown": _("cannot be decided"),
}

# KERN badge modifier per result.
RESULT_BADGES = {
    "entitled": "success",
    "admissible": "info",
    "needs_permission": "warning",
    "excluded": "danger",
    "unknown": "",
}

REGIME_LABELS = {
    "asylblg_3": _("AsylbLG basic benefits (§ 3)"),
    "asylblg_2": _("AsylbLG analogous benefits (§ 2)"),
    "sgb2": _("SGB II (citizen's benefit, Jobcenter)"),
    "sgb12": _("SGB XII (social assistance)"),
    "sgb3": _("SGB III (Agentur für Arbeit)"),
    "sgb8": _("SGB VIII (youth welfare)"),
    "none": _("no benefits"),
}

AGE_EVENT_LABELS = {
    "age_18": _("Turns 18: adult; help for young adults (§ 41 SGB VIII) becomes the basis."),
    "age_21": _(
        "Turns 21: help under § 41 SGB VIII ends as a rule; continuation only if justified."
    ),
    "age_25": _("Turns 25: leaves the 'under 25' band of Jobcenter and Agentur programmes."),
    "age_27": _("Turns 27: leaves the target group; help under § 41 SGB VIII ends at the latest."),
}

# The facts the engine may name as missing, as the form calls them.
FACT_LABELS = {
    "status_history": _("residence status on the date"),
    "entry_date": _("date of entry to Germany"),
    "nationality": _("nationality"),
    "flags.german_level": _("German level (languages in the master data)"),
    "flags.asylum_application_date": _("date of the asylum application"),
    "flags.reception_centre": _("obliged to live in a reception centre"),
    "flags.rejected_manifestly_unfounded": _("application rejected as manifestly unfounded"),
    "flags.identity_clarified": _("identity clarified"),
    "flags.work_ban_60a6": _("work ban under § 60a (6) AufenthG"),
    "flags.labour_market_proximity": _("close to the labour market"),
    "flags.in_training": _("in a vocational training"),
    "flags.training_since": _("training since"),
    "flags.employed_since": _("employed since"),
    "flags.weekly_hours_employed": _("weekly working hours"),
    "flags.livelihood_secured_since": _("livelihood secured since"),
    "flags.sgb8_help_before_21": _("help under § 41 SGB VIII began before 21"),
}
