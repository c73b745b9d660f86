"""The demo municipality: synthetic data plus one login per role (`lotse demo`).

Idempotent: users and memberships are created or updated, assignments are topped
up to their target numbers, so running the demo twice adds nothing.

Partner staff see a case only with a consent of the person (DESIGN §5), so the
persons on the demo partners' team cases get one for the partner organisation: most
cover everything that organisation usually gets, a few only some categories (the
case page shows the rest as "not shared"), and one is withdrawn, so that case is
gone for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from lotse.casework.models import Appointment, Case, CaseTeamMember, Document, FollowUp
from lotse.core.models import Membership, Organisation, User
from lotse.core.roles import Role
from lotse.people.models import PersonLanguage
from lotse.privacy.categories import Purpose
from lotse.privacy.models import Consent, SharingAgreement

from . import pools
from .generator import shift_years

DEMO_SEED = 2024
DEMO_PERSONS = 300
CASES_FOR_CASE_MANAGER = 40
TEAM_CASES_FOR_PARTNER = 30
OVERDUE_FOLLOWUPS = 6
DUE_SOON_FOLLOWUPS = 4
UPCOMING_APPOINTMENTS = 8

# role (= username) → organisation key in pools.ORGANISATIONS
ROLE_ORGANISATION = {
    Role.CASE_MANAGER: "ki",
    Role.PARTNER_STAFF: "jobcenter",
    Role.TEAM_LEAD: "ki",
    Role.COORDINATOR: "ki",
    Role.ANALYST: "ki",
    Role.VOLUNTEER: "ehrenamt",
    Role.ORG_ADMIN: "ki",
    Role.SYSADMIN: "ki",
}
MULTI_USERNAME = "multi"
MULTI_MEMBERSHIPS = [("jmd1", Role.CASE_MANAGER), ("jobcenter", Role.PARTNER_STAFF)]
# Of the demo partners' team cases (by pk), every PARTIAL_EVERY-th from PARTIAL_FIRST
# on has a consent for PARTIAL_CATEGORIES only; one has its consent withdrawn.
PARTIAL_EVERY = 7
PARTIAL_FIRST = 3
PARTIAL_CATEGORIES = ["master", "education", "work"]
NOTE_NARROWED = "Person hat den Umfang der Einwilligung eingeschränkt; neue Einwilligung erfasst."
NOTE_WITHDRAWN = "Widerruf im Beratungsgespräch erklärt (Demo)."


@dataclass
class DemoLogin:
    username: str
    password: str
    organisation: str
    role: str


def _organisation(key: str) -> Organisation:
    """The synthetic organisation for `key`; created from the catalogue if missing."""
    spec = next(o for o in pools.ORGANISATIONS if o.key == key)
    org = Organisation.objects.filter(name=spec.name).first()
    if org is None:
        org = Organisation.objects.filter(org_type=spec.org_type).order_by("pk").first()
    if org is None:
        org = Organisation.objects.create(
            name=spec.name,
            short_name=spec.short_name,
            org_type=spec.org_type,
            legal_domains=list(spec.legal_domains),
        )
    return org


def _user(username: str, first_name: str, last_name: str, password: str) -> User:
    user, _created = User.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name}
    )
    user.first_name, user.last_name, user.is_active = first_name, last_name, True
    if not user.check_password(password):
        user.set_password(password)
    user.save()
    return user


def _membership(user: User, org: Organisation, role: str) -> Membership:
    membership, _created = Membership.objects.get_or_create(user=user, organisation=org, role=role)
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    return membership


def _assign_cases(user: User, org: Organisation, target: int) -> list[Case]:
    """Make `user` the case manager of `target` open cases of `org` (topping up)."""
    mine = Case.objects.filter(case_manager=user, lead_organisation=org).exclude(phase="closed")
    missing = target - mine.count()
    if missing > 0:
        ids = list(
            Case.objects.filter(lead_organisation=org)
            .exclude(phase="closed")
            .exclude(case_manager=user)
            .order_by("pk")
            .values_list("pk", flat=True)[:missing]
        )
        Case.objects.filter(pk__in=ids).update(case_manager=user)
    return list(mine.order_by("pk"))


def _join_teams(user: User, org: Organisation, target: int, team_role: str) -> None:
    active = CaseTeamMember.objects.filter(
        user=user, organisation=org, removed_at__isnull=True
    ).exclude(case__phase="closed")
    missing = target - active.count()
    if missing <= 0:
        return
    cases = list(
        Case.objects.exclude(phase="closed")
        .exclude(lead_organisation=org)
        .exclude(
            Exists(
                CaseTeamMember.objects.filter(
                    case=OuterRef("pk"), user=user, organisation=org, removed_at__isnull=True
                )
            )
        )
        .order_by("pk")[:missing]
    )
    CaseTeamMember.objects.bulk_create(
        [
            CaseTeamMember(
                case=case,
                user=user,
                organisation=org,
                team_role=team_role,
                added_by_id=case.case_manager_id,
            )
            for case in cases
        ]
    )


def _team_cases(org: Organisation, users: list[User]) -> list[Case]:
    return list(
        Case.objects.filter(
            team__user__in=users, team__organisation=org, team__removed_at__isnull=True
        )
        .exclude(phase="closed")
        .select_related("lead_organisation")
        .distinct()
        .order_by("pk")
    )


def _covered_by_agreement(org: Organisation, case: Case, today: dt.date) -> bool:
    """Whether a sharing agreement in force lets `org` see something of `case` anyway."""
    agreements = SharingAgreement.objects.filter(
        Q(receiver_organisation=org)
        | Q(receiver_organisation__isnull=True, receiver_type=org.org_type),
        valid_from__lte=today,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    for a in agreements:
        if Purpose.CASEWORK not in a.purposes or not a.categories:
            continue
        if a.source_organisation_id is not None:
            if a.source_organisation_id == case.lead_organisation_id:
                return True
        elif not a.source_type or a.source_type == case.lead_organisation.org_type:
            return True
    return False


def _new_consent(case: Case, org: Organisation, categories: list[str], today: dt.date) -> Consent:
    signed = max(case.opened_on, today - dt.timedelta(days=14))
    native = (
        PersonLanguage.objects.filter(person_id=case.person_id, level="native")
        .values_list("language", flat=True)
        .first()
    )
    consent = Consent.objects.create(
        person_id=case.person_id,
        purpose=Purpose.CASEWORK,
        categories=list(categories),
        signed_on=signed,
        valid_until=shift_years(signed, 2) - dt.timedelta(days=1),
        form_language=pools.FORM_LANGUAGE.get(native or "de", "de"),
        recorded_by_id=case.case_manager_id,
        recorded_for_id=case.lead_organisation_id,
    )
    consent.receiving_organisations.add(org)
    return consent


def _withdraw(consents: list[Consent], case: Case, note: str) -> None:
    now = timezone.now()
    for consent in consents:
        consent.withdrawn_at = now
        consent.withdrawn_by_id = case.case_manager_id
        consent.withdrawal_note = note
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])


def _ensure_consent(case: Case, org: Organisation, state: str, full: list[str]) -> None:
    """Make the person's casework consents for `org` say `state` (full, partial,
    withdrawn); leave them alone when they already do."""
    today = timezone.localdate()
    mine = Consent.objects.filter(
        person_id=case.person_id, purpose=Purpose.CASEWORK, receiving_organisations=org
    )
    valid = list(
        mine.filter(withdrawn_at__isnull=True, signed_on__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .prefetch_related("named_users")
    )
    unnamed = [c for c in valid if not c.named_users.all()]
    if state == "full":
        if not any(set(full) <= set(c.categories) for c in unnamed):
            _new_consent(case, org, full, today)
    elif state == "partial":
        wanted = set(PARTIAL_CATEGORIES)
        _withdraw([c for c in valid if not set(c.categories) <= wanted], case, NOTE_NARROWED)
        if not any(set(c.categories) == wanted for c in unnamed):
            _new_consent(case, org, PARTIAL_CATEGORIES, today)
    else:
        if not valid and not mine.filter(withdrawn_at__isnull=False).exists():
            valid = [_new_consent(case, org, full, today)]
        _withdraw(valid, case, NOTE_WITHDRAWN)


def _demo_consents(org: Organisation, users: list[User]) -> None:
    """Consents for `org` on the team cases of the demo users: most full, every
    PARTIAL_EVERY-th partial, the first one no agreement covers withdrawn."""
    today = timezone.localdate()
    full = list(pools.CONSENT_CATEGORIES.get(org.org_type, (pools.CONSENT_DEFAULT_CATEGORIES,))[0])
    cases = _team_cases(org, users)
    withdrawn = next((c.pk for c in cases if not _covered_by_agreement(org, c, today)), None)
    for i, case in enumerate(cases):
        if case.pk == withdrawn:
            state = "withdrawn"
        elif i % PARTIAL_EVERY == PARTIAL_FIRST:
            state = "partial"
        else:
            state = "full"
        _ensure_consent(case, org, state, full)


def _fill_worklist(user: User, org: Organisation, cases: list[Case]) -> None:
    """Overdue and due follow-ups and appointments in the next two weeks, for "Meine Arbeit"."""
    if not cases:
        return
    today = timezone.localdate()
    open_followups = FollowUp.objects.filter(owner=user, organisation=org, done_at__isnull=True)
    wanted = [
        (open_followups.filter(due_on__lt=today).count(), OVERDUE_FOLLOWUPS, -3, -4),
        (
            open_followups.filter(
                due_on__gte=today, due_on__lte=today + dt.timedelta(days=7)
            ).count(),
            DUE_SOON_FOLLOWUPS,
            1,
            2,
        ),
    ]
    new: list[FollowUp] = []
    for have, target, first, step in wanted:
        for i in range(have, target):
            case = cases[(len(new) * 7) % len(cases)]
            new.append(
                FollowUp(
                    case=case,
                    title=pools.FOLLOWUPS[(i + first) % len(pools.FOLLOWUPS)],
                    due_on=today + dt.timedelta(days=first + step * i),
                    owner=user,
                    organisation=org,
                    created_by=user,
                )
            )
    FollowUp.objects.bulk_create(new)

    now = timezone.now()
    upcoming = Appointment.objects.filter(
        case__in=cases,
        organisation=org,
        status="planned",
        starts_at__gte=now,
        starts_at__lte=now + dt.timedelta(days=14),
    ).count()
    appointments: list[Appointment] = []
    purposes = pools.APPOINTMENT_PURPOSES["lead"]
    for i in range(upcoming, UPCOMING_APPOINTMENTS):
        day = today + dt.timedelta(days=1 + (i * 13) // UPCOMING_APPOINTMENTS)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        starts = timezone.make_aware(dt.datetime(day.year, day.month, day.day, 9 + i % 7, 0))
        appointments.append(
            Appointment(
                case=cases[(i * 5) % len(cases)],
                organisation=org,
                starts_at=starts,
                purpose=purposes[i % len(purposes)],
                location=pools.LOCATIONS[i % 3],
                created_by=user,
            )
        )
    Appointment.objects.bulk_create(appointments)


DEMO_DOCUMENTS = [
    ("zeugnis", "Schulzeugnis (Übersetzung)"),
    ("sprachzertifikat", "Zertifikat Deutsch A2"),
    ("aufenthaltsdokument", "Duldungsbescheinigung (Kopie)"),
]


def synthetic_pdf(title: str) -> bytes:
    """A small valid one-page PDF that says it is synthetic (no real documents in demos)."""
    text = f"{title} - synthetisches Beispieldokument, keine echten Daten"
    safe = text.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 60 760 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\n"
    out += b"startxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


def _attach_documents(user: User, org: Organisation, cases: list[Case]) -> None:
    """A few synthetic PDFs on the demo case manager's first cases (idempotent)."""
    for case in cases[: len(DEMO_DOCUMENTS)]:
        if case.documents.exists():
            continue
        doc_type, title = DEMO_DOCUMENTS[case.pk % len(DEMO_DOCUMENTS)]
        content = synthetic_pdf(title)
        document = Document(
            case=case,
            doc_type=doc_type,
            title=title,
            original_filename=f"{doc_type}.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            organisation=org,
            uploaded_by=user,
        )
        document.file.save(f"{doc_type}.pdf", ContentFile(content), save=False)
        document.save()


@transaction.atomic
def demo_users() -> list[DemoLogin]:
    """Create or update the demo logins; returns what to print."""
    password = settings.LOTSE_DEMO_PASSWORD
    logins: list[DemoLogin] = []
    labels = dict(Role.choices)
    for role, org_key in ROLE_ORGANISATION.items():
        org = _organisation(org_key)
        user = _user(str(role), "Demo", str(labels[role]), password)
        _membership(user, org, role)
        logins.append(DemoLogin(user.username, password, str(org), str(labels[role])))
        if role == Role.CASE_MANAGER:
            cases = _assign_cases(user, org, CASES_FOR_CASE_MANAGER)
            _fill_worklist(user, org, cases)
            _attach_documents(user, org, cases)
        elif role == Role.PARTNER_STAFF:
            _join_teams(user, org, TEAM_CASES_FOR_PARTNER, "Arbeitsvermittlung")
    multi = _user(MULTI_USERNAME, "Demo", "Multi", password)
    for org_key, role in MULTI_MEMBERSHIPS:
        org = _organisation(org_key)
        _membership(multi, org, role)
        logins.append(DemoLogin(multi.username, password, str(org), str(labels[role])))
        if role == Role.CASE_MANAGER:
            _assign_cases(multi, org, 15)
        else:
            _join_teams(multi, org, 10, "Arbeitsvermittlung")
    # Both demo partners work for the Jobcenter; consents are per organisation, so
    # their team cases are handled together.
    partners: dict[int, tuple[Organisation, list[User]]] = {}
    for membership in Membership.objects.filter(
        user__username__in=[str(Role.PARTNER_STAFF), MULTI_USERNAME], role=Role.PARTNER_STAFF
    ).select_related("user", "organisation"):
        entry = partners.setdefault(membership.organisation_id, (membership.organisation, []))
        entry[1].append(membership.user)
    for org, users in partners.values():
        _demo_consents(org, users)
    return logins


def format_logins(logins: list[DemoLogin]) -> list[str]:
    headers = ("username", "password", "organisation", "role")
    table = [headers] + [(d.username, d.password, d.organisation, d.role) for d in logins]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
