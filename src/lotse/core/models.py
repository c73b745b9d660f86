"""Organisations, users, memberships, districts, code lists and the access log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import Role, role_has_perm


class User(AbstractUser):
    """A person who logs in. What they may do depends on the membership they act in."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class District(models.Model):
    """A district (Stadtteil / Gemeinde) of the municipality."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class OrganisationType(models.TextChoices):
    KI = "ki", _("Municipal integration centre (KI)")
    JOBCENTER = "jobcenter", _("Jobcenter")
    AGENTUR = "agentur_fuer_arbeit", _("Federal employment agency")
    ABH = "auslaenderbehoerde", _("Foreigners' authority")
    SOZIALAMT = "sozialamt", _("Social welfare office")
    JUGENDAMT = "jugendamt", _("Youth welfare office")
    JMD = "jmd", _("Youth migration service (JMD)")
    MBE = "mbe", _("Migration counselling for adults (MBE)")
    BILDUNGSTRAEGER = "bildungstraeger", _("Education provider")
    SCHULE = "schule", _("School / vocational college")
    VHS = "vhs", _("Adult education centre (VHS)")
    KAMMER = "kammer", _("Chamber (IHK/HWK)")
    WOHLFAHRT = "wohlfahrtsverband", _("Welfare organisation")
    EHRENAMT = "ehrenamtsinitiative", _("Volunteer initiative")
    MIGRANTENORG = "migrantenorganisation", _("Migrant organisation")
    OTHER = "other", _("Other")


class LegalDomain(models.TextChoices):
    AUFENTHG = "aufenthg", _("Residence law (AufenthG/AsylG)")
    ASYLBLG = "asylblg", _("Asylum seekers' benefits (AsylbLG)")
    SGB2 = "sgb2", _("SGB II (basic income support)")
    SGB3 = "sgb3", _("SGB III (employment promotion)")
    SGB8 = "sgb8", _("SGB VIII (child and youth services)")
    SGB12 = "sgb12", _("SGB XII (social assistance)")
    SCHULG = "schulg", _("School law")
    BBIG = "bbig", _("Vocational training law (BBiG/HwO)")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    org_type = models.CharField(_("type"), max_length=40, choices=OrganisationType.choices)
    legal_domains = models.JSONField(_("legal domains"), default=list, blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("district"), null=True, blank=True, on_delete=models.SET_NULL
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.short_name or self.name

    def get_legal_domains_display(self) -> list[str]:
        labels = dict(LegalDomain.choices)
        return [str(labels.get(code, code)) for code in self.legal_domains]


class Membership(models.Model):
    """A user's role in one organisation. A user acts in exactly one membership at a time."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"

    def has_perm(self, perm: str) -> bool:
        return self.is_active and role_has_perm(self.role, perm)


class NeedType(models.Model):
    """Code list: what an assessment asks for and an offer answers (DESIGN §3)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    life_domain = models.CharField(_("life domain"), max_length=20)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["life_domain", "name"]
        verbose_name = _("need type")
        verbose_name_plural = _("need types")

    def __str__(self) -> str:
        return self.name


class AccessAction(models.TextChoices):
    READ = "read", _("read")
    LIST = "list", _("list")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    EXPORT = "export", _("export")
    DOWNLOAD = "download", _("download")
    # Data sent to another organisation (a referral): the Art. 15 report lists it.
    DISCLOSE = "disclose", _("disclose")


GENESIS_HASH = "0" * 64
# object_type of the log entry that records a redaction; its object_id is the
# redaction digest of the entries it blanked (see `redaction_digest`).
REDACTION_OBJECT_TYPE = "access_log_redaction"
_REDACTION_PREFIX = b"redacted:"


def _canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def access_log_payload_digest(
    *, person_id: int | None, categories: list[str], object_type: str, object_id: str
) -> str:
    """sha256 of the personal part of an entry; kept when the part itself is redacted."""
    payload = _canonical_json(
        {
            "person": person_id,
            "categories": sorted(categories),
            "object_type": object_type,
            "object_id": object_id,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def access_log_chain_hash(prev_hash: str, metadata_json: str, payload_digest: str) -> str:
    """hash = sha256(prev_hash | metadata | payload digest)."""
    return hashlib.sha256(f"{prev_hash}|{metadata_json}|{payload_digest}".encode()).hexdigest()


def redaction_hasher() -> Any:
    """Incremental redaction digest: feed the blanked entries' seqs in ascending order."""
    return hashlib.sha256(_REDACTION_PREFIX)


def redaction_hasher_add(hasher: Any, seq: int) -> None:
    hasher.update(f"{seq},".encode())


def redaction_digest(seqs: list[int]) -> str:
    """What a redaction entry stores as object_id: commits to the set of blanked entries."""
    hasher = redaction_hasher()
    for seq in sorted(seqs):
        redaction_hasher_add(hasher, seq)
    return str(hasher.hexdigest()[:40])


class AccessLogHead(models.Model):
    """A single row that serialises appends to the hash chain (locked per append)."""

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} @ {self.last_hash[:12]}"


class AppendOnlyError(RuntimeError):
    pass


class AccessLogQuerySet(models.QuerySet["AccessLogEntry"]):
    """Bulk updates and deletes are refused; the one permitted change is `_redact`,
    used only by `core.services.access_log_redact_person`."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("access log entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("access log entries cannot be deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("access log entries cannot be changed")

    def _redact(self, *, redacted_at: dt.datetime, redacted_by_seq: int) -> int:
        return super().update(
            person_id=None,
            categories=[],
            object_type="",
            object_id="",
            redacted_at=redacted_at,
            redacted_by_seq=redacted_by_seq,
        )


class AccessLogEntry(models.Model):
    """Who read or changed which person's which data, when, on which basis.

    Append-only: entries cannot be changed or deleted through the ORM. The entry
    splits into metadata (seq, time, user, organisation, role, action, basis,
    purpose, channel, request id), which stays forever, and the personal payload
    (person, categories, object), which retention may blank. The payload is
    covered by `payload_digest`; each entry's hash covers the previous hash, the
    metadata and the payload digest, so a changed or removed row breaks the chain
    (`core.services.access_log_verify`) while a redacted one does not.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, null=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    # A plain id, not a foreign key: the log outlives anonymised persons and
    # core must not depend on people (DESIGN §4 dependency direction).
    person_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=10, choices=AccessAction.choices)
    categories = models.JSONField(default=list)
    basis = models.CharField(max_length=60, blank=True)
    purpose = models.CharField(max_length=60, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=10, default="web")  # web, api, cli
    request_id = models.CharField(max_length=36, blank=True)
    payload_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Set when retention blanked the payload; `redacted_by_seq` is the entry that
    # recorded the redaction (its object_id commits to all entries it blanked).
    redacted_at = models.DateTimeField(null=True, blank=True)
    redacted_by_seq = models.BigIntegerField(null=True, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} person={self.person_id} by user={self.user_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("access log entries cannot be deleted")

    @property
    def is_redacted(self) -> bool:
        return self.redacted_at is not None

    def metadata(self) -> str:
        """Canonical JSON of what stays after redaction."""
        return _canonical_json(
            {
                "seq": self.seq,
                "at": self.at.astimezone(dt.UTC).isoformat(),
                "user": self.user_id,
                "organisation": self.organisation_id,
                "role": self.role,
                "action": self.action,
                "basis": self.basis,
                "purpose": self.purpose,
                "channel": self.channel,
                "request_id": self.request_id,
            }
        )

    def compute_payload_digest(self) -> str:
        return access_log_payload_digest(
            person_id=self.person_id,
            categories=list(self.categories),
            object_type=self.object_type,
            object_id=self.object_id,
        )

    def compute_hash(self) -> str:
        return access_log_chain_hash(self.prev_hash, self.metadata(), self.payload_digest)

    def payload_is_blank(self) -> bool:
        return (
            self.person_id is None
            and self.categories == []
            and self.object_type == ""
            and self.object_id == ""
        )


class RetentionPolicy(models.TextChoices):
    CLOSED_CASES = "closed_cases", _("closed cases: person anonymised")
    CLOSED_CASE_DOCUMENTS = "closed_case_documents", _("documents of closed cases deleted")


class DeletionRecord(models.Model):
    """What retention removed for one person under one policy in one run.

    Holds no personal data: a plain person id (like the access log), the policy
    and its period, and counts per record type. Never changed or deleted."""

    performed_at = models.DateTimeField(_("performed at"), db_index=True)
    as_of = models.DateField(_("as of"))
    person_id = models.BigIntegerField(_("person id"), db_index=True)
    policy = models.CharField(_("policy"), max_length=40, choices=RetentionPolicy.choices)
    period_days = models.PositiveIntegerField(_("retention period (days)"))
    counts = models.JSONField(_("records per type"), default=dict)
    run_by = models.CharField(_("run by"), max_length=150)
    dry_run = models.BooleanField(_("dry run"), default=False)

    class Meta:
        ordering = ["-performed_at", "-pk"]
        verbose_name = _("deletion record")
        verbose_name_plural = _("deletion records")

    def __str__(self) -> str:
        return f"{self.as_of} {self.policy} person={self.person_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("deletion records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("deletion records cannot be deleted")
