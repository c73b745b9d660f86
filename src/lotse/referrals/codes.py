"""Code lists of referrals and participations (DESIGN §3: Referral, Participation)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReferralStatus(models.TextChoices):
    """proposed → sent → accepted / waitlisted / rejected → started → completed / aborted;
    the sender may withdraw a referral that has not started."""

    PROPOSED = "proposed", pgettext_lazy("referral", "proposed")
    SENT = "sent", pgettext_lazy("referral", "sent")
    ACCEPTED = "accepted", pgettext_lazy("referral", "accepted")
    WAITLISTED = "waitlisted", pgettext_lazy("referral", "on the waiting list")
    REJECTED = "rejected", pgettext_lazy("referral", "rejected")
    STARTED = "started", pgettext_lazy("referral", "started")
    COMPLETED = "completed", pgettext_lazy("referral", "completed")
    ABORTED = "aborted", pgettext_lazy("referral", "aborted")
    WITHDRAWN = "withdrawn", pgettext_lazy("referral", "withdrawn")


S = ReferralStatus
# Which status may follow which; the services say who may make each step.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.SENT, S.WITHDRAWN}),
    S.SENT: frozenset({S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.STARTED, S.WAITLISTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.ACCEPTED, S.STARTED, S.REJECTED, S.WITHDRAWN}),
    S.STARTED: frozenset({S.COMPLETED, S.ABORTED}),
}
# A referral in one of these is "open": it blocks a duplicate and counts as an offer.
OPEN_STATUSES = frozenset({S.PROPOSED, S.SENT, S.ACCEPTED, S.WAITLISTED, S.STARTED})


class Outcome(models.TextChoices):
    COMPLETED_CERTIFICATE = "completed_certificate", _("completed with certificate")
    COMPLETED = "completed", _("completed")
    ABORTED = "aborted", _("aborted")
    TRANSFERRED = "transferred", _("transferred to another offer")


# The referral's final status for a participation's outcome: a transfer is no drop-out.
OUTCOME_STATUS = {
    Outcome.COMPLETED_CERTIFICATE: S.COMPLETED,
    Outcome.COMPLETED: S.COMPLETED,
    Outcome.TRANSFERRED: S.COMPLETED,
    Outcome.ABORTED: S.ABORTED,
}


class NextStep(models.TextChoices):
    """What followed the participation (Verbleib / Anschluss), recorded at its end."""

    APPRENTICESHIP = "apprenticeship", _("apprenticeship or vocational training")
    EMPLOYMENT = "employment", _("employment subject to social insurance")
    SCHOOL_QUALIFICATION = "school_qualification", _("school-leaving qualification obtained")
    STUDY = "study", _("university studies")
    MEASURE = "measure", _("another course or measure")
    NONE = "none", _("nothing yet")
    UNKNOWN = "unknown", _("not known")


# An exit from the measure system (issue #6: a cycle ends with one of these).
EXIT_NEXT_STEPS = frozenset(
    {
        NextStep.APPRENTICESHIP,
        NextStep.EMPLOYMENT,
        NextStep.SCHOOL_QUALIFICATION,
        NextStep.STUDY,
    }
)


class AbortReason(models.TextChoices):
    WORK = "work", _("took up work or training")
    MOVED = "moved", _("moved away")
    HEALTH = "health", _("illness")
    FAMILY = "family", _("family reasons, childcare")
    DEMANDS = "demands", _("too difficult or unsuitable")
    MOTIVATION = "motivation", _("no longer interested, stopped attending")
    RESIDENCE = "residence", _("end of stay, residence reasons")
    PROVIDER = "provider", _("ended by the provider")
    OTHER = "other", _("other reason")


class RejectReason(models.TextChoices):
    PREREQUISITES = "prerequisites", _("prerequisites not met")
    NO_PLACE = "no_place", _("no place and no waiting list")
    UNSUITABLE = "unsuitable", _("offer does not fit the need")
    NOT_REACHED = "not_reached", _("person could not be reached")
    DECLINED = "declined", _("person declined")
    OTHER = "other", _("other reason")
