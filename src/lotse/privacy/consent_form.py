"""Printable consent form (Einwilligung / Schweigepflichtentbindung), generated from a
consent's scope — or from a proposed scope before signing — in German plain language
and in the languages of the people we accompany.

All text of the form is a translatable template string with an English source
(templates under `privacy/consent_form/`); the page is rendered under
`translation.override(<form language>)`. A language whose catalogue has not been
checked by a qualified human translator is `reviewed=False` in `FORM_LANGUAGES`: the
form then says so, in German and in the language, and the German version stays the
binding one (it can be printed side by side with `with_german=1`).
See docs/consent-forms.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache

from lotse.casework.models import Case, CaseTeamMember
from lotse.casework.selectors import case_get
from lotse.core.models import Membership, Organisation, OrganisationType, User
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.core.views import acting_membership, actor_required

from .access import require_case, visible_cases, visible_persons
from .categories import Category, Purpose
from .models import Consent

# --- the language registry -------------------------------------------------------


@dataclass(frozen=True)
class FormLanguage:
    """A language the consent form is printed in.

    `code` is both the BCP 47 tag written into `<html lang>` and the Django locale
    whose catalogue (src/lotse/locale/<code>/LC_MESSAGES/django.po) holds the text.
    `reviewed` turns True only after a qualified human translator has checked that
    catalogue (docs/consent-forms.md); until then the form carries a notice."""

    code: str
    native_name: str
    label: Promise  # for staff, in the UI language
    direction: str  # "ltr" or "rtl"
    reviewed: bool

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"


GERMAN = "de"

FORM_LANGUAGES: dict[str, FormLanguage] = {
    lang.code: lang
    for lang in (
        # The German plain-language text is the legally binding version.
        FormLanguage("de", "Deutsch", gettext_lazy("German"), "ltr", reviewed=True),
        FormLanguage("ar", "العربية", gettext_lazy("Arabic"), "rtl", reviewed=False),
        # One Persian text, worded to be readable in Dari and in Farsi.
        FormLanguage("fa", "دری / فارسی", gettext_lazy("Dari/Farsi"), "rtl", reviewed=False),
        FormLanguage("en", "English", gettext_lazy("English"), "ltr", reviewed=False),
        FormLanguage("ti", "ትግርኛ", gettext_lazy("Tigrinya"), "ltr", reviewed=False),
        FormLanguage("tr", "Türkçe", gettext_lazy("Turkish"), "ltr", reviewed=False),
        FormLanguage("uk", "Українська", gettext_lazy("Ukrainian"), "ltr", reviewed=False),
    )
}


def form_language(code: str) -> FormLanguage | None:
    return FORM_LANGUAGES.get(code)


# --- the form's own words (translated in the form's language) ------------------------
#
# Every string printed on the form carries the message context "consent form": the
# catalogues of the form languages hold exactly these (docs/consent-forms.md), and the
# form's plain-language titles stay independent of the staff UI's labels.

CATEGORY_TITLES: dict[str, Promise] = {
    Category.MASTER: pgettext_lazy("consent form", "Basic data"),
    Category.RESIDENCE: pgettext_lazy("consent form", "Residence"),
    Category.BENEFITS: pgettext_lazy("consent form", "Benefits"),
    Category.EDUCATION: pgettext_lazy("consent form", "School and learning"),
    Category.WORK: pgettext_lazy("consent form", "Work"),
    Category.HEALTH: pgettext_lazy("consent form", "Health"),
    Category.FAMILY: pgettext_lazy("consent form", "Family"),
    Category.NOTES: pgettext_lazy("consent form", "Notes"),
    Category.DOCUMENTS: pgettext_lazy("consent form", "Documents"),
    Category.PLAN: pgettext_lazy("consent form", "Plan and appointments"),
    Category.PARTICIPATIONS: pgettext_lazy("consent form", "Courses and measures"),
}

PURPOSE_TITLES: dict[str, Promise] = {
    Purpose.CASEWORK: pgettext_lazy("consent form", "Advice and support"),
    Purpose.REFERRAL: pgettext_lazy("consent form", "Referral to courses and measures"),
    Purpose.CASE_CONFERENCE: pgettext_lazy("consent form", "Case conference"),
}

CATEGORY_EXPLANATIONS: dict[str, Promise] = {
    Category.MASTER: pgettext_lazy(
        "consent form",
        "Your name, date of birth, address, phone number and e-mail, and the languages you speak.",
    ),
    Category.RESIDENCE: pgettext_lazy(
        "consent form",
        "Your residence status, your residence documents and how long they are valid.",
    ),
    Category.BENEFITS: pgettext_lazy(
        "consent form",
        "Which benefits you receive (for example money for living costs), "
        "from which office and since when.",
    ),
    Category.EDUCATION: pgettext_lazy(
        "consent form",
        "Your schooling, language courses and certificates, and what you want to learn.",
    ),
    Category.WORK: pgettext_lazy(
        "consent form",
        "Your work experience, jobs and internships, and your plans for training and work.",
    ),
    Category.HEALTH: pgettext_lazy(
        "consent form", "Information about your health. This information is especially protected."
    ),
    Category.FAMILY: pgettext_lazy("consent form", "Your family and the people you live with."),
    Category.NOTES: pgettext_lazy(
        "consent form", "Notes that staff have written about conversations with you."
    ),
    Category.DOCUMENTS: pgettext_lazy(
        "consent form",
        "Copies of your documents, for example certificates or letters from offices.",
    ),
    Category.PLAN: pgettext_lazy(
        "consent form", "Your goals, the steps agreed with you, and your appointments."
    ),
    Category.PARTICIPATIONS: pgettext_lazy(
        "consent form", "The courses and measures you take part in, and how they went."
    ),
}

PURPOSE_EXPLANATIONS: dict[str, Promise] = {
    Purpose.CASEWORK: pgettext_lazy(
        "consent form", "So that the organisations can advise and support you together."
    ),
    Purpose.REFERRAL: pgettext_lazy(
        "consent form", "So that you can be referred to suitable courses, measures or other offers."
    ),
    Purpose.CASE_CONFERENCE: pgettext_lazy(
        "consent form",
        "So that the organisations can discuss your situation together "
        "in a meeting (case conference).",
    ),
}

ORG_TYPE_EXPLANATIONS: dict[str, Promise] = {
    OrganisationType.KI: pgettext_lazy(
        "consent form", "the municipal office that coordinates integration"
    ),
    OrganisationType.JOBCENTER: pgettext_lazy(
        "consent form", "the office that pays basic income support and helps you find work"
    ),
    OrganisationType.AGENTUR: pgettext_lazy(
        "consent form", "the employment agency: advice on jobs and vocational training"
    ),
    OrganisationType.ABH: pgettext_lazy(
        "consent form", "the immigration office: residence permits and residence documents"
    ),
    OrganisationType.SOZIALAMT: pgettext_lazy(
        "consent form", "the social welfare office: money for living costs and housing"
    ),
    OrganisationType.JUGENDAMT: pgettext_lazy(
        "consent form", "the youth welfare office: help for young people and families"
    ),
    OrganisationType.JMD: pgettext_lazy(
        "consent form", "counselling for young migrants up to 27 years"
    ),
    OrganisationType.MBE: pgettext_lazy("consent form", "counselling for adult migrants"),
    OrganisationType.BILDUNGSTRAEGER: pgettext_lazy(
        "consent form", "an organisation that offers courses and training"
    ),
    OrganisationType.SCHULE: pgettext_lazy("consent form", "a school or vocational college"),
    OrganisationType.VHS: pgettext_lazy(
        "consent form", "the adult education centre: language courses and more"
    ),
    OrganisationType.KAMMER: pgettext_lazy(
        "consent form",
        "the chamber of crafts or of industry and commerce: vocational training "
        "and recognition of qualifications",
    ),
    OrganisationType.WOHLFAHRT: pgettext_lazy(
        "consent form", "a welfare organisation: counselling and help"
    ),
    OrganisationType.EHRENAMT: pgettext_lazy("consent form", "a group of volunteers"),
    OrganisationType.MIGRANTENORG: pgettext_lazy("consent form", "an organisation of migrants"),
}

# The parts of the form, in order. Each is rendered once per column (form language,
# and German when printed side by side); the signature lines come once, bilingual.
SECTIONS = [
    "privacy/consent_form/sections/title.html",
    "privacy/consent_form/sections/person.html",
    "privacy/consent_form/sections/intro.html",
    "privacy/consent_form/sections/receivers.html",
    "privacy/consent_form/sections/purpose.html",
    "privacy/consent_form/sections/categories.html",
    "privacy/consent_form/sections/validity.html",
    "privacy/consent_form/sections/rights.html",
    "privacy/consent_form/sections/interpreter.html",
    "privacy/consent_form/sections/declaration.html",
]


# --- the scope the form is generated from ------------------------------------------


@dataclass
class Receiver:
    name: str
    explanation: Promise | None


@dataclass
class CategoryLine:
    code: str
    label: Promise
    explanation: Promise


@dataclass
class FormScope:
    purpose: str
    categories: list[str]
    organisations: list[Organisation]
    named_users: list[User] = field(default_factory=list)
    valid_until: dt.date | None = None
    signed_on: dt.date | None = None
    interpreter_language: str = ""

    def receivers(self) -> list[Receiver]:
        return [
            Receiver(name=o.name, explanation=ORG_TYPE_EXPLANATIONS.get(o.org_type))
            for o in self.organisations
        ]

    def category_lines(self) -> list[CategoryLine]:
        return [
            CategoryLine(code=c, label=CATEGORY_TITLES[c], explanation=CATEGORY_EXPLANATIONS[c])
            for c in self.categories
        ]

    def purpose_label(self) -> Promise:
        return PURPOSE_TITLES[self.purpose]

    def purpose_explanation(self) -> Promise:
        return PURPOSE_EXPLANATIONS[self.purpose]

    def interpreter_language_name(self) -> str:
        lang = FORM_LANGUAGES.get(self.interpreter_language)
        if lang is not None:
            return lang.native_name
        if not self.interpreter_language:
            return ""
        try:
            return str(translation.get_language_info(self.interpreter_language)["name_local"])
        except KeyError:
            return self.interpreter_language


class BadParameters(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class PrintOptions:
    language: FormLanguage
    with_german: bool


def _shown(value: str) -> str:
    value = value.strip()
    return value if len(value) <= 40 else value[:39] + "…"


def _as_id(raw: str) -> int | None:
    """A database id from the query string; ASCII digits only ("²".isdigit() is True)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _split(query: QueryDict, name: str) -> list[str]:
    """`a,b` and `name=a&name=b` both work; empty pieces are ignored."""
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return list(dict.fromkeys(values))


def print_options(query: QueryDict, *, default_language: str) -> PrintOptions:
    errors: list[str] = []
    code = query.get("lang", "").strip() or default_language
    language = FORM_LANGUAGES.get(code)
    if language is None:
        errors.append(
            _("Unknown language “%(value)s”. Available: %(allowed)s.")
            % {"value": _shown(code), "allowed": ", ".join(FORM_LANGUAGES)}
        )
    with_german = query.get("with_german", "0").strip()
    if with_german not in ("", "0", "1"):
        errors.append(
            _("Unknown value “%(value)s” for “%(name)s”.")
            % {"value": _shown(with_german), "name": "with_german"}
        )
    if errors:
        raise BadParameters(errors)
    assert language is not None
    return PrintOptions(language=language, with_german=with_german == "1")


def draft_scope(query: QueryDict, *, case: Case) -> FormScope:
    """Validate a proposed scope from the query string; raise BadParameters."""
    errors: list[str] = []

    purpose = query.get("purpose", "").strip()
    if not purpose:
        errors.append(_("Choose a purpose."))
    elif purpose not in Purpose.values:
        errors.append(_("Unknown purpose “%(value)s”.") % {"value": _shown(purpose)})

    wanted = _split(query, "categories")
    if not wanted:
        errors.append(_("Choose at least one data category."))
    for code in wanted:
        if code not in Category.values:
            errors.append(_("Unknown data category “%(value)s”.") % {"value": _shown(code)})
    categories = [c for c in Category.values if c in wanted]

    organisations = _organisations(_split(query, "orgs"), case=case, errors=errors)
    named_users = _named_users(_split(query, "users"), organisations, errors=errors)

    valid_until = None
    until = query.get("until", "").strip()
    if until:
        try:
            valid_until = dt.date.fromisoformat(until)
        except ValueError:
            valid_until = None
        if valid_until is None or valid_until < timezone.localdate():
            errors.append(
                _("Enter the end of validity as a date (YYYY-MM-DD) that is not in the past.")
            )

    if errors:
        raise BadParameters(errors)
    return FormScope(
        purpose=purpose,
        categories=categories,
        organisations=organisations,
        named_users=named_users,
        valid_until=valid_until,
    )


def _organisations(ids: list[str], *, case: Case, errors: list[str]) -> list[Organisation]:
    if not ids:
        errors.append(_("Choose at least one receiving organisation."))
        return []
    numeric = [i for i in map(_as_id, ids) if i is not None]
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=numeric, is_active=True)}
    result = []
    for raw in ids:
        pk = _as_id(raw)
        org = found.get(pk) if pk is not None else None
        if org is None:
            errors.append(_("Unknown organisation “%(value)s”.") % {"value": _shown(raw)})
        elif org.pk == case.lead_organisation_id:
            errors.append(_("The lead organisation cannot be a receiving organisation."))
        else:
            result.append(org)
    return result


def _named_users(
    ids: list[str], organisations: list[Organisation], *, errors: list[str]
) -> list[User]:
    if not ids:
        return []
    numeric = [i for i in map(_as_id, ids) if i is not None]
    found = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=numeric,
            is_active=True,
            memberships__is_active=True,
            memberships__organisation__in=organisations,
        ).distinct()
    }
    result = []
    for raw in ids:
        pk = _as_id(raw)
        user = found.get(pk) if pk is not None else None
        if user is None:
            errors.append(
                _(
                    "Unknown staff member “%(value)s”: only staff of the receiving "
                    "organisations can be named."
                )
                % {"value": _shown(raw)}
            )
        else:
            result.append(user)
    return result


def consent_in_scope(*, actor: Membership, consent_id: int) -> tuple[Consent, Case]:
    """A consent recorded by the actor's organisation for a person in scope, with the
    person's case that organisation leads; 404 when the person or consent is out of
    scope. Not logged — the view logs what it shows."""
    consent = (
        Consent.objects.filter(
            pk=consent_id,
            person__in=visible_persons(actor),
            recorded_for_id=actor.organisation_id,
        )
        .select_related("person")
        .first()
    )
    if consent is None:
        raise Http404
    cases = visible_cases(actor).filter(person_id=consent.person_id)
    case = (
        cases.filter(lead_organisation_id=actor.organisation_id)
        .select_related("person", "lead_organisation", "case_manager")
        .order_by(F("closed_on").desc(nulls_first=True), "-opened_on")
        .first()
    )
    if case is None:
        raise Http404
    return consent, case


# --- views -------------------------------------------------------------------------


def _scope_page(
    request: HttpRequest,
    case: Case,
    *,
    chooser: bool,
    errors: Iterable[str] = (),
    status: int = 200,
) -> HttpResponse:
    """The page to choose a proposed scope (drafts), or the 400 page listing what is
    wrong with the query string. Shows no personal data, so nothing is logged."""
    query = request.GET
    team_orgs = set(
        CaseTeamMember.objects.filter(case=case, removed_at__isnull=True).values_list(
            "organisation_id", flat=True
        )
    )
    organisations = Organisation.objects.filter(is_active=True).exclude(
        pk=case.lead_organisation_id
    )
    selected = {
        "purpose": query.get("purpose", Purpose.CASEWORK),
        "categories": _split(query, "categories"),
        "orgs": [i for i in map(_as_id, _split(query, "orgs")) if i is not None]
        if query
        else sorted(team_orgs),
        "until": query.get("until", ""),
        "lang": query.get("lang", GERMAN),
        "with_german": query.get("with_german") == "1",
    }
    return render(
        request,
        "privacy/consent_form/choose.html",
        {
            "case": case,
            "chooser": chooser,
            "errors": list(errors),
            "selected": selected,
            "purposes": Purpose.choices,
            "categories": Category.choices,
            "organisations": organisations,
            "team_orgs": team_orgs,
            "form_languages": list(FORM_LANGUAGES.values()),
        },
        status=status,
    )


def _hidden_params(query: QueryDict) -> list[tuple[str, str]]:
    keep = ("purpose", "categories", "orgs", "users", "until")
    return [(k, v) for k in keep for v in query.getlist(k)]


def _render_form(
    request: HttpRequest,
    *,
    actor: Membership,
    case: Case,
    basis: str,
    scope: FormScope,
    options: PrintOptions,
    object_id: str | int,
    consent: Consent | None = None,
) -> HttpResponse:
    access_log_record(
        actor=actor,
        action="read",
        person_ids=[case.person_id],
        categories=[Category.MASTER],
        basis=basis,
        object_type="consent_form",
        object_id=object_id,
    )
    lang = options.language
    with_german = options.with_german and lang.code != GERMAN
    columns = [FORM_LANGUAGES[GERMAN], lang] if with_german else [lang]
    ui_language = translation.get_language() or GERMAN
    context = {
        "case": case,
        "person": case.person,
        "lead": case.lead_organisation,
        # Names inside translated sentences keep their own direction in RTL text.
        "lead_bdi": format_html("<bdi>{}</bdi>", case.lead_organisation.name),
        "person_bdi": format_html("<bdi>{}</bdi>", case.person.full_name),
        "manager_bdi": format_html("<bdi>{}</bdi>", case.case_manager),
        "consent": consent,
        "scope": scope,
        "receivers": scope.receivers(),
        "category_lines": scope.category_lines(),
        "form_lang": lang,
        "german": FORM_LANGUAGES[GERMAN],
        "columns": columns,
        "with_german": with_german,
        "sections": SECTIONS,
        "ui_lang": ui_language,
        "form_languages": list(FORM_LANGUAGES.values()),
        "hidden_params": _hidden_params(request.GET),
        "is_draft": consent is None,
    }
    with translation.override(lang.code):
        response = render(request, "privacy/consent_form/form.html", context)
    response["Content-Language"] = lang.code
    return response


@never_cache
@actor_required(Perm.CASE_EDIT)
def consent_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The form of a recorded consent, to print a copy for the person."""
    actor = acting_membership(request)
    consent, case = consent_in_scope(actor=actor, consent_id=pk)
    basis = require_case(actor, case, Perm.CASE_EDIT)
    default = consent.form_language if consent.form_language in FORM_LANGUAGES else GERMAN
    try:
        options = print_options(request.GET, default_language=default)
    except BadParameters as exc:
        return _scope_page(request, case, chooser=False, errors=exc.errors, status=400)
    scope = FormScope(
        purpose=consent.purpose if consent.purpose in Purpose.values else Purpose.CASEWORK,
        categories=[c for c in Category.values if c in consent.categories],
        organisations=list(consent.receiving_organisations.order_by("name")),
        named_users=list(consent.named_users.order_by("last_name", "first_name")),
        valid_until=consent.valid_until,
        signed_on=consent.signed_on,
        interpreter_language=consent.interpreter_language,
    )
    return _render_form(
        request,
        actor=actor,
        case=case,
        basis=basis,
        scope=scope,
        options=options,
        object_id=consent.pk,
        consent=consent,
    )


@never_cache
@actor_required(Perm.CASE_EDIT)
def consent_form_draft(request: HttpRequest, case_pk: int) -> HttpResponse:
    """A blank form to print before signing, generated from a proposed scope. Without
    any scope in the query string, a page to choose the scope."""
    actor = acting_membership(request)
    case = case_get(actor=actor, case_id=case_pk)
    basis = require_case(actor, case, Perm.CASE_EDIT)
    if not any(k in request.GET for k in ("purpose", "categories", "orgs")):
        return _scope_page(request, case, chooser=True)
    errors: list[str] = []
    options: PrintOptions | None = None
    scope: FormScope | None = None
    try:
        options = print_options(request.GET, default_language=GERMAN)
    except BadParameters as exc:
        errors.extend(exc.errors)
    try:
        scope = draft_scope(request.GET, case=case)
    except BadParameters as exc:
        errors.extend(exc.errors)
    if options is None or scope is None:
        return _scope_page(request, case, chooser=True, errors=errors, status=400)
    return _render_form(
        request,
        actor=actor,
        case=case,
        basis=basis,
        scope=scope,
        options=options,
        object_id="draft",
    )
