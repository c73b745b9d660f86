"""Personal API tokens (DESIGN §6): each bound to one membership."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lotse.core.models import Membership
from lotse.core.roles import Perm


class ApiToken(models.Model):
    """A bearer token acting in exactly one membership (user + organisation + role).

    Only a SHA-256 hash of the token is stored; the short prefix is visible so a
    token can be recognised in lists and revoked without knowing the secret.
    """

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name})" if self.name else self.prefix

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_usable(self) -> bool:
        """Not revoked, not expired, and the membership, user and organisation are active.

        The role is checked again on every use: a role that lost the permission
        (or a changed role table) must not keep working through old tokens."""
        membership = self.membership
        return (
            self.revoked_at is None
            and not self.is_expired()
            and membership.has_perm(Perm.API_TOKEN)
            and membership.user.is_active
            and membership.organisation.is_active
        )
