"""The printable consent form: languages and direction, content from the scope, the
review notice, parameter validation, who may print it, access logging, catalogues."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from lotse.core.models import AccessLogEntry, Organisation, OrganisationType
from lotse.core.roles import Role
from lotse.privacy import consent_form as cf
from lotse.privacy.categories import Category, Purpose
from lotse.privacy.models import Consent

from .factories import MembershipFactory, TeamMemberFactory

SRC = Path(__file__).resolve().parents[1] / "src" / "lotse"
LOCALE = SRC / "locale"
TEMPLATES = SRC / "privacy" / "templates" / "privacy" / "consent_form"
TRANSLATED = [code for code in cf.FORM_LANGUAGES if code != "de"]
CTX = "consent form"
TITLE = "Consent to the disclosure of data / Release from confidentiality"
NOTICE_CLASS = 'class="kern-alert kern-alert--warning cf-notice"'
NOTICE = (
    "This translation has not yet been checked by a qualified human translator. "
    "Only the German version is legally binding."
)


@pytest.fixture
def consent(world) -> Consent:
    c = Consent.objects.create(
        person=world.case.person,
        purpose=Purpose.CASEWORK,
        categories=[Category.WORK, Category.EDUCATION],
        signed_on=timezone.localdate() - dt.timedelta(days=3),
        valid_until=timezone.localdate() + dt.timedelta(days=365),
        form_language="ar",
        interpreter_language="ar",
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
    )
    c.receiving_organisations.set([world.partner, world.other])
    return c


def _form_url(consent: Consent, **params: str) -> str:
    url = reverse("privacy:consent_form", args=[consent.pk])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}?{query}" if query else url


def _draft_url(world, **params: str) -> str:
    url = reverse("privacy:consent_form_draft", args=[world.case.pk])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}?{query}" if query else url


def _draft_params(world, **extra: str) -> dict[str, str]:
    return {
        "purpose": "referral",
        "categories": "master,education,work",
        "orgs": f"{world.partner.pk},{world.other.pk}",
        **extra,
    }


def _html(response) -> str:
    return response.content.decode()


def _de_catalogue_has(msgid: str, context: str = "") -> str | None:
    """The German translation of `msgid`, once the lead has added it (else None)."""
    with translation.override("de"):
        text = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    return text if text != msgid else None


# --- languages -----------------------------------------------------------------------


def test_registry_has_the_required_languages():
    assert set(cf.FORM_LANGUAGES) == {"de", "ar", "fa", "en", "ti", "tr", "uk"}
    assert {c for c, lang in cf.FORM_LANGUAGES.items() if lang.is_rtl} == {"ar", "fa"}
    assert [c for c, lang in cf.FORM_LANGUAGES.items() if lang.reviewed] == ["de"]
    with translation.override("en"):
        assert str(cf.FORM_LANGUAGES["fa"].label) == "Dari/Farsi"


@pytest.mark.parametrize("code", list(cf.FORM_LANGUAGES))
def test_form_renders_in_every_language(world, as_member, consent, code):
    lang = cf.FORM_LANGUAGES[code]
    response = as_member(world.case_manager).get(_form_url(consent, lang=code))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = _html(response)
    assert f'<html lang="{code}" dir="{lang.direction}">' in html
    for other in cf.FORM_LANGUAGES:  # the toolbar offers every language
        assert f'<option value="{other}"' in html
    assert response["Content-Language"] == code
    assert "Mohammed Haddad" in html
    assert world.case.person.birth_date.strftime("%d.%m.%Y") in html
    for org in (world.lead, world.partner, world.other):
        assert org.name in html
    assert (NOTICE_CLASS in html) is (not lang.reviewed)
    # The text really is in that language: the title comes from its catalogue.
    with translation.override(code):
        title = translation.pgettext(CTX, TITLE)
    if code not in ("de", "en"):
        assert title != TITLE, f"{code}: title not translated"
    assert title in html
    # Every page says which version is binding.
    assert '<footer class="cf-binding' in html


@pytest.mark.parametrize("code", TRANSLATED)
def test_notice_is_in_german_and_in_the_language(world, as_member, consent, code):
    html = _html(as_member(world.case_manager).get(_form_url(consent, lang=code)))
    start = html.index(NOTICE_CLASS)
    notice = html[start : html.index("</div>", start)]
    assert 'lang="de"' in notice
    with translation.override(code):
        assert translation.pgettext(CTX, NOTICE) in notice
    german = _de_catalogue_has(NOTICE, context=CTX)
    if german:
        assert german in notice


def test_rtl_form_isolates_names_and_has_no_notice_in_german(world, as_member, consent):
    client = as_member(world.case_manager)
    html = _html(client.get(_form_url(consent, lang="fa")))
    assert "<bdi>Mohammed Haddad</bdi>" in html
    assert f"<bdi>{world.partner.name}</bdi>" in html
    assert NOTICE_CLASS not in _html(client.get(_form_url(consent, lang="de")))


def test_default_language_is_the_one_recorded_on_the_consent(world, as_member, consent):
    html = _html(as_member(world.case_manager).get(_form_url(consent)))
    assert '<html lang="ar" dir="rtl">' in html


def test_german_side_by_side(world, as_member, consent):
    html = _html(as_member(world.case_manager).get(_form_url(consent, lang="ti", with_german="1")))
    assert '<html lang="ti" dir="ltr">' in html
    assert html.count('class="cf-section" lang="de" dir="ltr"') == len(cf.SECTIONS)
    assert html.count('class="cf-section" lang="ti" dir="ltr"') == len(cf.SECTIONS)
    assert html.count('class="cf-row cf-row--two"') == len(cf.SECTIONS)
    # German alone ignores the option.
    html = _html(as_member(world.case_manager).get(_form_url(consent, lang="de", with_german="1")))
    assert 'class="cf-row cf-row--two"' not in html


def test_form_shows_the_scope(world, as_member, consent):
    html = _html(as_member(world.case_manager).get(_form_url(consent, lang="en")))
    assert "Your work experience" in html  # work
    assert "Your schooling" in html  # education
    assert "Information about your health" not in html  # not in the scope
    assert "the immigration office" in html  # explanation of the organisation type
    assert "advise and support you together" in html  # the purpose
    assert consent.valid_until.strftime("%d.%m.%Y") in html
    assert consent.signed_on.strftime("%d.%m.%Y") in html
    assert "العربية" in html  # interpreter language, by its own name
    assert "in writing or orally" in html
    assert "no disadvantages" in html
    assert "All staff members of these organisations" in html
    assert str(world.case_manager.user) in html


def test_named_staff_and_open_ended_validity(world, as_member, consent):
    consent.valid_until = None
    consent.save()
    consent.named_users.set([world.partner_staff.user])
    html = _html(as_member(world.case_manager).get(_form_url(consent, lang="en")))
    assert "Only these staff members may see your data" in html
    assert f"<bdi>{world.partner_staff.user}</bdi>" in html
    assert "valid until you withdraw it" in html


def test_withdrawn_consent_still_prints_with_a_note(world, as_member, consent):
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = world.case_manager.user
    consent.save()
    response = as_member(world.case_manager).get(_form_url(consent, lang="en"))
    assert response.status_code == 200
    # The page shows the local day (Europe/Berlin), which differs from UTC near midnight.
    assert timezone.localtime(consent.withdrawn_at).strftime("%d.%m.%Y") in _html(response)


# --- the draft before signing --------------------------------------------------------


def test_draft_from_a_proposed_scope(world, as_member):
    response = as_member(world.case_manager).get(
        _draft_url(world, **_draft_params(world, lang="uk", until="2099-12-31"))
    )
    assert response.status_code == 200
    html = _html(response)
    assert '<html lang="uk" dir="ltr">' in html
    assert "Mohammed Haddad" in html
    assert world.partner.name in html and world.other.name in html
    assert "31.12.2099" in html
    with translation.override("uk"):
        for code in ("master", "education", "work"):
            assert str(cf.CATEGORY_EXPLANATIONS[code]) in html
        assert str(cf.CATEGORY_EXPLANATIONS["health"]) not in html
        assert str(cf.PURPOSE_EXPLANATIONS["referral"]) in html


def test_draft_accepts_repeated_parameters_and_named_staff(world, as_member):
    url = (
        _draft_url(world)
        + f"?purpose=casework&categories=master&categories=health&orgs={world.partner.pk}"
        + f"&users={world.partner_staff.user.pk}&lang=ar&with_german=1"
    )
    response = as_member(world.case_manager).get(url)
    assert response.status_code == 200
    html = _html(response)
    assert f"<bdi>{world.partner_staff.user}</bdi>" in html
    assert 'class="cf-section" lang="de" dir="ltr"' in html
    assert 'class="cf-section" lang="ar" dir="rtl"' in html


def test_draft_without_scope_offers_a_choice(world, as_member):
    response = as_member(world.case_manager).get(_draft_url(world))
    assert response.status_code == 200
    html = _html(response)
    assert 'name="categories"' in html and 'name="orgs"' in html
    assert f'value="{world.partner.pk}" checked' in html  # on the case team
    assert f'id="cf-org-{world.lead.pk}"' not in html  # the lead organisation is no receiver
    assert "Haddad" not in html
    for code in cf.FORM_LANGUAGES:
        assert f'<option value="{code}"' in html
    assert not AccessLogEntry.objects.filter(object_type="consent_form").exists()


@pytest.mark.parametrize(
    "override,shown",
    [
        ({"categories": "master,gossip"}, "gossip"),
        ({"purpose": "marketing"}, "marketing"),
        ({"purpose": ""}, None),
        ({"categories": ""}, None),
        ({"orgs": "999999"}, "999999"),
        ({"orgs": "abc"}, "abc"),
        ({"orgs": "²"}, "²"),
        ({"orgs": "٣"}, "٣"),
        ({"orgs": "9" * 30}, None),
        ({"orgs": ""}, None),
        ({"lang": "xx"}, "xx"),
        ({"lang": "de-AT"}, "de-AT"),
        ({"with_german": "yes"}, "yes"),
        ({"until": "2001-01-01"}, None),
        ({"until": "soon"}, None),
        ({"users": "424242"}, "424242"),
    ],
)
def test_draft_with_bad_parameters_is_400_with_a_message(world, as_member, override, shown):
    params = _draft_params(world, **override)
    response = as_member(world.case_manager).get(_draft_url(world, **params))
    assert response.status_code == 400
    html = _html(response)
    assert '<html lang="de"' in html
    assert 'class="kern-alert kern-alert--danger"' in html
    if shown:
        assert shown in html
    assert "Haddad" not in html
    assert not AccessLogEntry.objects.filter(object_type="consent_form").exists()


def test_bad_parameter_messages_are_german_once_translated(world, as_member):
    response = as_member(world.case_manager).get(
        _draft_url(world, **_draft_params(world, purpose=""))
    )
    assert response.status_code == 400
    german = _de_catalogue_has("Choose a purpose.")
    if german is None:
        pytest.skip("the German catalogue does not carry the consent-form strings yet")
    assert german in _html(response)


def test_lead_organisation_is_no_receiver(world, as_member):
    response = as_member(world.case_manager).get(
        _draft_url(world, **_draft_params(world, orgs=str(world.lead.pk)))
    )
    assert response.status_code == 400


def test_inactive_organisation_and_staff_of_other_organisations_are_rejected(world, as_member):
    gone = Organisation.objects.create(name="Aufgelöster Träger", org_type="other", is_active=False)
    client = as_member(world.case_manager)
    assert (
        client.get(_draft_url(world, **_draft_params(world, orgs=str(gone.pk)))).status_code == 400
    )
    # The outsider works for the Ausländerbehörde, which is not a receiver here.
    params = _draft_params(world, orgs=str(world.partner.pk), users=str(world.outsider.user.pk))
    assert client.get(_draft_url(world, **params)).status_code == 400


def test_bad_language_on_a_recorded_consent_is_400(world, as_member, consent):
    response = as_member(world.case_manager).get(_form_url(consent, lang="klingon"))
    assert response.status_code == 400
    assert "klingon" in _html(response)


# --- who may print -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,expected",
    [
        ("case_manager", 200),
        ("team_lead", 200),
        ("partner_staff", 403),
        ("outsider", 404),
        ("coordinator", 403),
        ("analyst", 403),
        ("volunteer", 403),
        ("org_admin", 403),
        ("sysadmin", 403),
    ],
)
def test_who_may_print(world, as_member, consent, role, expected):
    client = as_member(world.by_role()[role])
    assert client.get(_form_url(consent, lang="de")).status_code == expected
    assert client.get(_draft_url(world, **_draft_params(world))).status_code == expected


def test_case_manager_of_a_team_organisation_may_not_print(world, as_member, consent):
    """A partner organisation on the case team sees the case, but only the lead prints."""
    partner_cm = MembershipFactory(organisation=world.partner, role=Role.CASE_MANAGER)
    TeamMemberFactory(case=world.case, user=partner_cm.user, organisation=world.partner)
    client = as_member(partner_cm)
    assert client.get(_draft_url(world, **_draft_params(world))).status_code == 403
    # The consent was recorded by the lead organisation: it does not exist for the partner.
    assert client.get(_form_url(consent)).status_code == 404


def test_foreign_case_and_foreign_consent_do_not_exist(world, as_member):
    foreign = Consent.objects.create(
        person=world.foreign_case.person,
        purpose=Purpose.CASEWORK,
        categories=[Category.MASTER],
        signed_on=timezone.localdate(),
        recorded_by=world.outsider.user,
        recorded_for=world.other,
    )
    client = as_member(world.case_manager)
    assert client.get(_form_url(foreign)).status_code == 404
    url = reverse("privacy:consent_form_draft", args=[world.foreign_case.pk])
    assert client.get(url + "?purpose=casework&categories=master").status_code == 404
    assert client.get(reverse("privacy:consent_form", args=[987654])).status_code == 404


def test_anonymous_is_sent_to_login(world, client, consent):
    response = client.get(_form_url(consent))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- access log ----------------------------------------------------------------------


def test_printing_is_logged(world, as_member, consent):
    client = as_member(world.case_manager)
    client.get(_form_url(consent, lang="tr"))
    client.get(_draft_url(world, **_draft_params(world)))
    entries = list(AccessLogEntry.objects.filter(object_type="consent_form").order_by("seq"))
    assert len(entries) == 2
    for entry in entries:
        assert entry.action == "read"
        assert entry.categories == ["master"]
        assert entry.person_id == world.case.person_id
        assert entry.user_id == world.case_manager.user_id
        assert entry.organisation_id == world.lead.pk
        assert entry.basis == "lead_organisation"
    assert entries[0].object_id == str(consent.pk)
    assert entries[1].object_id == "draft"


def test_denied_requests_are_not_logged(world, as_member, consent):
    as_member(world.partner_staff).get(_form_url(consent))
    as_member(world.outsider).get(_form_url(consent))
    assert not AccessLogEntry.objects.filter(object_type="consent_form").exists()


# --- catalogues ----------------------------------------------------------------------

_TRANSLATE = re.compile(r'{% translate "([^"]+)" context "consent form" %}')
_BLOCK = re.compile(
    r'{% blocktranslate trimmed context "consent form"(?: with [^%]*)? %}'
    r"(.*?){% endblocktranslate %}"
)
_ANY_TRANSLATE = re.compile(r"{% (?:translate|blocktranslate) ")
_VAR = re.compile(r"{{ (\w+) }}")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Pages around the form, for staff, in the UI language (de/en) only.
_UI_TEMPLATES = {"choose.html", "toolbar.html"}


def _form_msgids() -> set[str]:
    """Every string printed on the form (all in the message context "consent form")."""
    ids: set[str] = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name in _UI_TEMPLATES:
            continue
        text = path.read_text()
        found = _TRANSLATE.findall(text) + _BLOCK.findall(text)
        # Nothing on the form is translated without the context.
        assert len(found) == len(_ANY_TRANSLATE.findall(text)), path.name
        ids.update(_VAR.sub(r"%(\1)s", m) for m in found)
    lazy = [
        *cf.CATEGORY_TITLES.values(),
        *cf.PURPOSE_TITLES.values(),
        *cf.CATEGORY_EXPLANATIONS.values(),
        *cf.PURPOSE_EXPLANATIONS.values(),
        *cf.ORG_TYPE_EXPLANATIONS.values(),
    ]
    for promise in lazy:
        context, msgid = promise._args  # type: ignore[attr-defined]
        assert context == CTX
        ids.add(msgid)
    return ids


def test_explanations_cover_every_category_purpose_and_organisation_type():
    assert set(cf.CATEGORY_EXPLANATIONS) == set(cf.CATEGORY_TITLES) == set(Category.values)
    assert set(cf.PURPOSE_EXPLANATIONS) == set(cf.PURPOSE_TITLES) == set(Purpose.values)
    assert set(cf.ORG_TYPE_EXPLANATIONS) == set(OrganisationType.values) - {"other"}


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_holds_exactly_the_form_strings(code):
    po = polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))
    draft = "Draft translation — needs review by a qualified human translator."
    assert (draft in po.header) is not cf.FORM_LANGUAGES[code].reviewed
    assert po.metadata["Language"] == code
    wanted = _form_msgids()
    assert {e.msgctxt for e in po} == {CTX}
    present = {e.msgid for e in po if not e.obsolete}
    assert wanted - present == set(), "missing"
    assert present - wanted == set(), "not used by the consent form"
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()][:5]
    assert not po.fuzzy_entries()
    for entry in po.translated_entries():
        assert set(_PLACEHOLDER.findall(entry.msgstr)) == set(_PLACEHOLDER.findall(entry.msgid)), (
            code,
            entry.msgid,
        )


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalogue_is_current(code):
    directory = LOCALE / code / "LC_MESSAGES"
    mo = polib.mofile(str(directory / "django.mo"))
    po = polib.pofile(str(directory / "django.po"))
    assert {(e.msgid, e.msgstr) for e in mo} >= {
        (e.msgid, e.msgstr) for e in po.translated_entries()
    }


@pytest.mark.parametrize(
    "code,script",
    [
        ("ar", r"[\u0600-\u06FF]"),
        ("fa", r"[\u0600-\u06FF]"),
        ("ti", r"[\u1200-\u137F]"),
        ("uk", r"[\u0400-\u04FF]"),
    ],
)
def test_translations_are_in_the_script_of_the_language(code, script):
    po = polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))
    for entry in po.translated_entries():
        assert re.search(script, entry.msgstr), (code, entry.msgid)
