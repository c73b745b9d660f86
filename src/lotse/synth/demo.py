"""The demo municipality: synthetic data plus one login per role (`lotse demo`).

Idempotent: users and memberships are created or updated, assignments are topped
up to their target numbers, so running the demo twice adds nothing.

Partner staff see a case only with a consent of the person (DESIGN §5), so the
persons on the demo partners' team cases get one for the partner organisation: most
cover everything that organisation usually gets, a few only some categories (the
case page shows the rest as "not shared"), and one is withdrawn, so that case is
gone for them.

The provider login (``traeger``, a Bildungsträger with offers in the catalogue) gets
work from the demo case manager's cases, made through the referral services as staff
would make it: referrals sent to it (on a consent of the person for the referral, one
of them covering the master data only), some accepted or on the waiting list, and
participations running in its offers. One of the case manager's cases is a young
adult with a Duldung and an open need "Deutsch B1".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from lotse.analytics import snapshot as analytics_snapshot
from lotse.analytics.models import CouncilReport, Goal, PopulationList
from lotse.analytics.population import population_list_import
from lotse.analytics.report import report_create
from lotse.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseTeamMember,
    Document,
    FollowUp,
)
from lotse.core.models import Membership, NeedType, Organisation, User
from lotse.core.roles import Role
from lotse.eligibility.engine import add_months, add_years
from lotse.offers.models import Offer
from lotse.people.models import Person, PersonLanguage, ResidenceStatusPeriod
from lotse.privacy.categories import Purpose
from lotse.privacy.models import Consent, SharingAgreement
from lotse.referrals import services as referral_services
from lotse.referrals.alerts import transition_alerts_run
from lotse.referrals.careers_services import careers_scan_all
from lotse.referrals.codes import ReferralStatus
from lotse.referrals.models import Participation, Referral

from . import pools
from .generator import age_on, shift_years
from .participations import REFERRAL_REASONS

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
# A provider's login: partner staff of a Bildungsträger with offers in the catalogue,
# receiving referrals from the demo case manager's cases.
PROVIDER_USERNAME = "traeger"
PROVIDER_ORGANISATION = "bwa"
PROVIDER_SENT = 5  # referrals waiting for the provider's answer
PROVIDER_DECIDED = {"accepted": 1, "waitlisted": 1}  # at least so many of each
PROVIDER_RUNNING = 3  # participations running in its offers
MASTER_ONLY = ["master"]  # one sent referral rests on a consent for the master data only
# A young adult with a Duldung (about DULDUNG_AGE) and an open need "Deutsch B1".
DULDUNG_AGE = 20
DULDUNG_NEED = "deutsch_b1"
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


def _new_consent(
    case: Case,
    org: Organisation,
    categories: list[str],
    today: dt.date,
    *,
    purpose: str = Purpose.CASEWORK,
    signed_ago: int = 14,
    years: int = 2,
) -> Consent:
    signed = max(case.opened_on, today - dt.timedelta(days=signed_ago))
    native = (
        PersonLanguage.objects.filter(person_id=case.person_id, level="native")
        .values_list("language", flat=True)
        .first()
    )
    consent = Consent.objects.create(
        person_id=case.person_id,
        purpose=purpose,
        categories=list(categories),
        signed_on=signed,
        valid_until=shift_years(signed, years) - dt.timedelta(days=1),
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


# --- a young adult with a Duldung; the provider's worklist ----------------------------


def _current_status(person_ids: list[int]) -> dict[int, str]:
    return dict(
        ResidenceStatusPeriod.objects.filter(
            person_id__in=person_ids,
            valid_to__isnull=True,
            is_retraction=False,
            superseded_by__isnull=True,
        ).values_list("person_id", "status")
    )


def _duldung_case(user: User, org: Organisation) -> Case | None:
    """One of the case manager's open cases is a young adult (about DULDUNG_AGE) with a
    Duldung and an open need "Deutsch B1": taken from another case manager of the
    organisation if need be (in exchange for the case manager's last case, so the number
    stays), the need opened on its latest assessment. Returns the case (None: the data
    holds no such person)."""
    today = timezone.localdate()
    cases = list(
        Case.objects.filter(lead_organisation=org)
        .exclude(phase__in=["closed", "intake"])
        .filter(Exists(Assessment.objects.filter(case=OuterRef("pk"))))
        .select_related("person")
    )
    status = _current_status([c.person_id for c in cases])
    german = dict(
        PersonLanguage.objects.filter(
            person_id__in=[c.person_id for c in cases], language="de"
        ).values_list("person_id", "level")
    )
    need = NeedType.objects.filter(code=DULDUNG_NEED).first()
    if need is None:
        return None
    with_need = set(
        AssessmentItem.objects.filter(
            assessment__case__in=cases, need_type=need, status="open"
        ).values_list("assessment__case_id", flat=True)
    )

    def rank(case: Case) -> tuple[int, int, int, bool, bool, int]:
        age = age_on(case.person.birth_date, today)
        tolerated = status.get(case.person_id, "")
        return (
            0 if tolerated == "duldung" else 1,
            # the need fits the German the person has: A2 best, then A1
            {"A2": 0, "A1": 1}.get(german.get(case.person_id, ""), 2),
            abs(age - DULDUNG_AGE),
            case.case_manager_id != user.pk,
            case.pk not in with_need,
            case.pk,
        )

    tolerated = [c for c in cases if "duldung" in status.get(c.person_id, "")]
    fitting = [
        c for c in tolerated if abs(age_on(c.person.birth_date, today) - DULDUNG_AGE) <= 2
    ] or [c for c in tolerated if 18 <= age_on(c.person.birth_date, today) <= 27]
    if not fitting:
        return None
    chosen = min(fitting, key=rank)
    if chosen.case_manager_id != user.pk:
        mine = Case.objects.filter(case_manager=user, lead_organisation=org).exclude(phase="closed")
        give_back = mine.order_by("-pk").first()
        if give_back is not None:
            Case.objects.filter(pk=give_back.pk).update(case_manager_id=chosen.case_manager_id)
        Case.objects.filter(pk=chosen.pk).update(case_manager=user)
        chosen.case_manager = user
    if chosen.pk not in with_need:
        latest = Assessment.objects.filter(case=chosen).order_by("-assessed_on", "-pk").first()
        assert latest is not None
        item = AssessmentItem.objects.filter(assessment=latest, need_type=need).first()
        if item is not None:
            item.status = "open"
            item.save(update_fields=["status"])
        else:
            AssessmentItem.objects.create(
                assessment=latest,
                life_domain="language",
                kind="need",
                description=f"{need.name}: für Ausbildung und Berufsschule",
                need_type=need,
                priority="high",
                status="open",
            )
    return chosen


def _referral_consent(
    case: Case, org: Organisation, categories: list[str], today: dt.date
) -> tuple[Consent | None, bool]:
    """A consent of the person for a referral to `org` covering `categories` (an
    existing one if it covers the master data; a master-only one only where no other is
    valid, so that only the master data is shared), and whether it is new. None: it
    cannot be had."""
    valid = list(
        Consent.objects.filter(
            person_id=case.person_id,
            purpose=Purpose.REFERRAL,
            receiving_organisations=org,
            withdrawn_at__isnull=True,
            signed_on__lte=today,
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    )
    if categories == MASTER_ONLY:
        if valid:
            return None, False
    elif any("master" in c.categories for c in valid):
        return valid[0], False
    consent = _new_consent(
        case, org, categories, today, purpose=Purpose.REFERRAL, signed_ago=2, years=1
    )
    return consent, True


def _refer(
    cm: Membership, case: Case, offers: list[Offer], categories: list[str]
) -> Referral | None:
    """Refer the case to the first of `offers` the person is not excluded from and send
    it, on a consent for the referral (recorded first)."""
    if not offers:
        return None
    consent, created = _referral_consent(case, offers[0].provider, categories, timezone.localdate())
    if consent is None:
        return None
    for offer in offers:
        reasons = REFERRAL_REASONS.get(offer.category, REFERRAL_REASONS["beratung"])
        try:
            return referral_services.referral_create(
                actor=cm,
                case=case,
                reason=reasons[case.pk % len(reasons)],
                offer=offer,
                need_types=list(offer.need_types.all()[:2]),
                send=True,
            )
        except ValidationError:
            continue  # excluded, full, a duplicate: the next offer
    if created and not Referral.objects.filter(consent=consent).exists():
        consent.delete()
    return None


def _provider_worklist(cm: Membership, provider: Membership, first: Case | None) -> None:
    """Referrals from the demo case manager's cases to the provider: sent (one of them
    on a consent for the master data only), accepted or on the waiting list, and
    participations running in its offers; topped up to the target numbers."""
    today = timezone.localdate()
    org = provider.organisation
    cases = list(
        Case.objects.filter(case_manager=cm.user, lead_organisation=cm.organisation)
        .exclude(phase__in=["closed", "intake"])
        .select_related("person")
        .order_by("pk")
    )
    if first is not None and first in cases:
        cases.remove(first)
        cases.insert(0, first)
    mine = Referral.objects.filter(case__in=cases, receiver=org)
    open_statuses = sorted(referral_services.OPEN_STATUSES)
    busy = set(mine.filter(status__in=open_statuses).values_list("case_id", flat=True))
    free = [c for c in cases if c.pk not in busy]
    offers = list(
        Offer.objects.filter(provider=org, is_active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today + dt.timedelta(days=30)))
        .select_related("provider")
        .prefetch_related("need_types")
        .order_by("pk")
    )
    if not offers:
        return
    residence = _current_status([c.person_id for c in cases])

    def ordered(case: Case, *, starting: bool | None = None) -> list[Offer]:
        """The offers to try for the case: for a start now, running ones with a free
        place; for a decision, ones that start later; what answers an open need first."""
        chosen = [
            o
            for o in offers
            if starting is None
            or (starting and (o.starts_on is None or o.starts_on <= today) and not _full(o))
            or (not starting and (o.starts_on is None or o.starts_on > today or o.rolling_entry))
        ]
        needs = set(
            AssessmentItem.objects.filter(
                assessment__case=case, kind="need", status__in=["open", "in_progress"]
            ).values_list("need_type_id", flat=True)
        )
        k = case.pk % len(chosen) if chosen else 0
        rotated = chosen[k:] + chosen[:k]
        tolerated = "duldung" in residence.get(case.person_id, "")
        return sorted(
            rotated,
            key=lambda o: (
                not needs & {n.pk for n in o.need_types.all()},
                # a Duldung rarely opens the integration course: its other German courses
                tolerated and o.category == "integrationskurs",
            ),
        )

    sent = list(mine.filter(status=ReferralStatus.SENT))
    wanted = max(PROVIDER_SENT - len(sent), 0)
    master_only = any(r.shared_categories == MASTER_ONLY for r in sent)
    if not master_only:
        wanted = max(wanted, 1)
    for _ in range(wanted):
        while free:
            case = free.pop(0)
            categories = list(pools.REFERRAL_CATEGORIES) if master_only else MASTER_ONLY
            if _refer(cm, case, ordered(case), categories) is not None:
                master_only = True  # the first one rests on a master-only consent
                break

    for status, target in PROVIDER_DECIDED.items():
        for _ in range(mine.filter(status=status).count(), target):
            while free:
                case = free.pop(0)
                referral = _refer(
                    cm, case, ordered(case, starting=False), list(pools.REFERRAL_CATEGORIES)
                )
                if referral is None:
                    continue
                if status == ReferralStatus.WAITLISTED:
                    referral_services.referral_waitlist(actor=provider, referral=referral)
                else:
                    referral_services.referral_accept(actor=provider, referral=referral)
                break

    running = Participation.objects.filter(
        referral__in=mine, ended_on__isnull=True, offer__provider=org
    )
    for _ in range(running.count(), PROVIDER_RUNNING):
        while free:
            case = free.pop(0)
            referral = _refer(
                cm, case, ordered(case, starting=True), list(pools.REFERRAL_CATEGORIES)
            )
            if referral is None:
                continue
            referral = referral_services.referral_accept(actor=provider, referral=referral)
            assert referral.offer is not None
            started = max(
                referral.offer.starts_on or today - dt.timedelta(days=21),
                today - dt.timedelta(days=42),
                case.opened_on,
            )
            try:
                referral_services.participation_start(
                    actor=provider, referral=referral, started_on=min(started, today)
                )
            except ValidationError:
                continue  # full after all: it stays accepted
            break


def _full(offer: Offer) -> bool:
    return offer.capacity is not None and offer.occupied >= offer.capacity


TRANSITION_SOON = 20  # days: one of the case manager's persons turns 27, one reaches § 2 AsylbLG


def _plant_transitions(cases: list[Case], keep: Case | None) -> None:
    """Issue #6 in the demo: within TRANSITION_SOON days one of the case manager's persons
    turns 27 and one with a Gestattung or Duldung reaches 36 months since entry (§ 2 AsylbLG), so
    that the transition alerts have something to say. Idempotent: a person who already
    fits is left alone; the young adult with the Duldung (`keep`) is never changed."""
    today = timezone.localdate()
    soon = today + dt.timedelta(days=TRANSITION_SOON)
    persons = [c.person for c in cases if keep is None or c.pk != keep.pk]
    if not persons:
        return
    if not any(today < add_years(p.birth_date, 27) <= soon for p in persons):
        p = min(persons, key=lambda p: (abs(age_on(p.birth_date, today) - 26), p.pk))
        Person.objects.filter(pk=p.pk).update(birth_date=add_years(soon, -27))
    gestattung = set(
        ResidenceStatusPeriod.objects.filter(
            person__in=persons,
            # Both are under the AsylbLG (§ 1 (1) no. 1 and 4): § 2 after 36 months.
            status__in=("gestattung", "duldung"),
            valid_to__isnull=True,
            is_retraction=False,
            superseded_by__isnull=True,
        ).values_list("person_id", flat=True)
    )
    entry = add_months(soon, -36)
    entered = {p.pk: p.entry_date for p in persons if p.pk in gestattung and p.entry_date}
    if not any(today < add_months(day, 36) <= soon for day in entered.values()):
        # one who entered later (their periods start after the new entry date), the nearest
        later = [(day, pk) for pk, day in entered.items() if day >= entry]
        if later:
            Person.objects.filter(pk=min(later)[1]).update(entry_date=entry)


@transaction.atomic
def demo_users() -> list[DemoLogin]:
    """Create or update the demo logins; returns what to print."""
    password = settings.LOTSE_DEMO_PASSWORD
    logins: list[DemoLogin] = []
    labels = dict(Role.choices)
    young: Case | None = None
    for role, org_key in ROLE_ORGANISATION.items():
        org = _organisation(org_key)
        user = _user(str(role), "Demo", str(labels[role]), password)
        _membership(user, org, role)
        logins.append(DemoLogin(user.username, password, str(org), str(labels[role])))
        if role == Role.CASE_MANAGER:
            _assign_cases(user, org, CASES_FOR_CASE_MANAGER)
            young = _duldung_case(user, org)
            cases = _assign_cases(user, org, CASES_FOR_CASE_MANAGER)
            _fill_worklist(user, org, cases)
            _attach_documents(user, org, cases)
            _plant_transitions(cases, young)
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
    # The provider: partner staff of a Bildungsträger, with referrals to answer.
    org = _organisation(PROVIDER_ORGANISATION)
    user = _user(PROVIDER_USERNAME, "Demo", "Träger", password)
    provider = _membership(user, org, Role.PARTNER_STAFF)
    logins.append(DemoLogin(user.username, password, str(org), str(labels[Role.PARTNER_STAFF])))
    cm = Membership.objects.select_related("user", "organisation").get(
        user__username=str(Role.CASE_MANAGER), role=Role.CASE_MANAGER
    )
    _provider_worklist(cm, provider, young)
    # Follow-ups for upcoming transitions and the measure-career flags (issue #6), as
    # the nightly runs make them.
    transition_alerts_run(today=timezone.localdate())
    careers_scan_all(today=timezone.localdate())
    analyst = Membership.objects.get(user__username=str(Role.ANALYST), role=Role.ANALYST)
    _population_list(analyst)
    _goal_tree()
    _council_report(analyst)
    _network()
    return logins


# The demo's goal system (issue #7): "Gemeinsam klappt's" as principle, two framework
# goals, a result goal for every indicator type (level, title, indicator, params,
# target, higher is better).
DEMO_GOALS: list[tuple[str, str, str, dict[str, Any], float | None, bool]] = [
    (
        "principle",
        "Jede junge Person der Zielgruppe erhält ein Angebot von Ausbildung oder "
        "Arbeit – unabhängig von der Bleibeperspektive.",
        "",
        {},
        None,
        True,
    ),
    ("framework", "Zugang zu Sprache, Ausbildung und Arbeit sichern", "", {}, None, True),
    (
        "result",
        "Jede berechtigte Person beginnt einen Integrationskurs innerhalb von 8 Wochen",
        "started_within",
        {"category": "integrationskurs", "weeks": 8, "months": 12},
        80.0,
        True,
    ),
    (
        "result",
        "Wartezeit bis zum Beginn eines Integrationskurses im Median höchstens 42 Tage",
        "referral_days",
        {"category": "integrationskurs", "months": 12},
        42.0,
        False,
    ),
    (
        "result",
        "60 % der Zielgruppe haben ein Angebot von Ausbildung oder Arbeit",
        "offer_share",
        {"months": 12},
        60.0,
        True,
    ),
    ("framework", "Maßnahmekarrieren vermeiden und Übergänge sichern", "", {}, None, True),
    (
        "result",
        "Höchstens 10 % der Zielgruppe mit Hinweis auf eine Maßnahmekarriere",
        "flagged_share",
        {"rules": []},
        10.0,
        False,
    ),
    (
        "result",
        "Mindestens die Hälfte der Teilnahmen führt in 6 Monaten zu Übergang oder nächstem Schritt",
        "transition_rate",
        {"months": 24},
        50.0,
        True,
    ),
    (
        "result",
        "90 % der Fälle der Zielgruppe haben einen aktuellen Integrationsplan",
        "plan_share",
        {"months": 12},
        90.0,
        True,
    ),
]


def _goal_tree() -> None:
    if Goal.objects.exists():
        return
    parents: dict[str, Goal] = {}
    for order, (level, title, indicator, params, target, higher) in enumerate(DEMO_GOALS):
        parent = {"principle": None, "framework": "principle", "result": "framework"}[level]
        goal = Goal.objects.create(
            parent=parents.get(parent) if parent else None,
            level=level,
            title=title,
            order=order,
            indicator=indicator,
            params=params,
            target_value=target,
            higher_is_better=higher,
        )
        parents[level] = goal


def _population_list(analyst: Membership) -> None:
    """The foreigners' authority's list of the target group by district and age band
    (issue #7's coverage): the caseload of each district and band times 1.5–4 — more
    young people live in the town than are in case management. Imported through the
    service, as an analyst would, once."""
    if PopulationList.objects.exists():
        return
    snap = analytics_snapshot.build(on=timezone.localdate())
    counts = (
        snap.persons.filter(pl.col("open_case") & pl.col("target_group"))
        .group_by("district", "age_band")
        .len()
        .sort("district", "age_band")
    )
    rng = random.Random(7)
    lines = ["Status;Alter;Bezirk;Anzahl"]
    whole: dict[str, int] = {}
    for district, band, n in counts.rows():
        listed = round(n * rng.uniform(1.5, 4.0)) + rng.randint(0, 6)
        whole[band] = whole.get(band, 0) + listed
        if district:
            lines.append(f";{band};{district};{listed}")
    lines += [f";{band};;{n + rng.randint(10, 40)}" for band, n in sorted(whole.items())]
    population_list_import(
        actor=analyst,
        source="Ausländerbehörde Auenstadt (Demo)",
        reference_date=timezone.localdate().replace(day=1) - dt.timedelta(days=1),
        note="Synthetische Zahlen für die Demo",
        file="\n".join(lines).encode(),
        filename="zielgruppe.csv",
    )


def _council_report(analyst: Membership) -> None:
    """A council report for the year so far, produced as the analyst would on the page,
    so the PDF and the workbook can be downloaded at once (the year so far, not the last
    half-year: the demo's measure-career flags were raised today)."""
    if CouncilReport.objects.exists():
        return
    today = timezone.localdate()
    report_create(actor=analyst, period_start=today.replace(month=1, day=1), period_end=today)


# The directory of the alliance (issue #8): contacts (organisation key, name, function,
# e-mail, languages) and responsibilities (target group, field of action, organisation
# key, agreed role — empty: not agreed, contact name). The finder answers "Duldung, 22,
# Schulabschluss nachholen" with the Berufskolleg and the JMD; 28+ goes to the VHS.
# Training for young tolerated people has two organisations without agreed roles (a
# duplicate), and housing has nobody (a gap).
DEMO_CONTACTS: list[tuple[str, str, str, str, list[str]]] = [
    ("ki", "Case Management KI", "Case Management", "case-management@ki.example", ["de", "ar"]),
    (
        "jmd1",
        "Team JMD Auenstadt",
        "Beratung junge Menschen 12–27",
        "jmd@jmd.example",
        ["de", "fa"],
    ),
    ("bk", "Bildungsgangleitung AV", "Ausbildungsvorbereitung", "av@bk.example", ["de"]),
    (
        "vhs",
        "Fachbereich Grundbildung",
        "Schulabschlüsse und Integrationskurse",
        "grundbildung@vhs.example",
        ["de", "en"],
    ),
    ("agentur", "Berufsberatung", "Berufsberatung U25", "berufsberatung@aa.example", ["de"]),
    (
        "ihk",
        "Ausbildungsberatung",
        "Ausbildungsberatung Geflüchtete",
        "ausbildung@ihk.example",
        ["de"],
    ),
    (
        "abh",
        "Sachgebiet Bleiberecht",
        "Beratung Ausbildungs- und Beschäftigungsduldung",
        "bleiberecht@abh.example",
        ["de"],
    ),
    ("jobcenter", "Team U25", "Arbeitsvermittlung U25", "u25@jobcenter.example", ["de", "ar"]),
    ("mbe", "Migrationsberatung", "Beratung ab 27 Jahren", "mbe@diakonie.example", ["de", "ru"]),
]
DEMO_RESPONSIBILITIES: list[tuple[str, str, str, str, str]] = [
    (
        "jv_geduldet",
        "education",
        "bk",
        "Bildungsgang mit Hauptschulabschluss",
        "Bildungsgangleitung AV",
    ),
    (
        "jv_geduldet",
        "education",
        "jmd1",
        "Beratung, Anmeldung und Begleitung",
        "Team JMD Auenstadt",
    ),
    (
        "jv_asyl",
        "education",
        "bk",
        "Bildungsgang mit Hauptschulabschluss",
        "Bildungsgangleitung AV",
    ),
    ("jv_asyl", "education", "jmd1", "Beratung, Anmeldung und Begleitung", "Team JMD Auenstadt"),
    (
        "jv_schutz",
        "education",
        "bk",
        "Bildungsgang mit Hauptschulabschluss",
        "Bildungsgangleitung AV",
    ),
    (
        "ab_28",
        "education",
        "vhs",
        "Kurse zum Nachholen von Schulabschlüssen",
        "Fachbereich Grundbildung",
    ),
    ("jv_geduldet", "training", "agentur", "", "Berufsberatung"),
    ("jv_geduldet", "training", "ihk", "", "Ausbildungsberatung"),
    (
        "jv_geduldet",
        "counselling",
        "abh",
        "Ausbildungs- und Beschäftigungsduldung",
        "Sachgebiet Bleiberecht",
    ),
    ("jv_geduldet", "counselling", "jmd1", "Erstberatung und Lotsenfunktion", "Team JMD Auenstadt"),
    ("jv_asyl", "language", "vhs", "Integrationskurse bei Zulassung", "Fachbereich Grundbildung"),
    ("jv_schutz", "work", "jobcenter", "Arbeitsvermittlung U25", "Team U25"),
    ("ab_28", "counselling", "mbe", "Migrationsberatung für Erwachsene", "Migrationsberatung"),
    (
        "jv_geduldet",
        "participation",
        "ki",
        "Vermittlung in Vereine und Patenschaften",
        "Case Management KI",
    ),
]


def _network() -> None:
    """Contacts and responsibilities of the demo organisations, entered through the
    services as the coordinator would, once."""
    from lotse.network import services as network_services
    from lotse.network.models import Contact, Responsibility
    from lotse.people.models import TargetGroup

    if Responsibility.objects.exists():
        return
    coordinator = Membership.objects.get(
        user__username=str(Role.COORDINATOR), role=Role.COORDINATOR
    )
    contacts: dict[tuple[int, str], Contact] = {}
    for key, name, function, email, languages in DEMO_CONTACTS:
        org = _organisation(key)
        contacts[(org.pk, name)] = network_services.contact_create(
            actor=coordinator,
            organisation=org,
            name=name,
            function=function,
            email=email,
            languages=languages,
        )
    groups = {g.code: g for g in TargetGroup.objects.all()}
    for group, field, key, role, contact in DEMO_RESPONSIBILITIES:
        if group not in groups:
            continue  # a coordinator removed a default target group
        org = _organisation(key)
        try:
            network_services.responsibility_create(
                actor=coordinator,
                organisation=org,
                target_group=groups[group],
                field_of_action=field,
                role=role,
                contact=contacts.get((org.pk, contact)),
            )
        except ValidationError:
            continue  # two keys fell back to the same organisation (see _organisation)


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
