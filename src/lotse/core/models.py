"""Organisations, users, memberships, districts, code lists and the access log."""

from __future__ import annotations

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


class AccessLogHead(models.Model):
    """A single row that serialises appends to the hash chain (locked per append)."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} @ {self.last_hash[:12]}"


class AppendOnlyError(RuntimeError):
    pass


class AccessLogEntry(models.Model):
    """Who read or changed which person's which data, when, on which basis.

    Append-only: entries cannot be changed or deleted through the ORM, and each
    entry's hash covers its content and the previous hash, so a changed or
    removed row breaks the chain (`core.services.access_log_verify`).
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
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

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

    def payload(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "at": self.at.isoformat(),
                "user": self.user_id,
                "organisation": self.organisation_id,
                "role": self.role,
                "person": self.person_id,
                "action": self.action,
                "categories": sorted(self.categories),
                "basis": self.basis,
                "purpose": self.purpose,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "channel": self.channel,
                "request_id": self.request_id,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.payload()).encode()).hexdigest()
