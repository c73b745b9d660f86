"""`lotse token create|list|revoke`: personal API tokens (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.api.models import ApiToken
from lotse.api.services import token_create, token_prefix_of, token_revoke
from lotse.core.models import Membership, User


def _describe(membership: Membership) -> str:
    org = membership.organisation
    short = f" ({org.short_name})" if org.short_name and org.short_name != org.name else ""
    return f"{org.name}{short} · {membership.role}"


def _day(value: dt.datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else "-"


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token; it is printed once")
        create.add_argument("--user", required=True, help="user name")
        create.add_argument("--org", help="organisation name or short name")
        create.add_argument("--role", help="role code, e.g. case_manager")
        create.add_argument("--name", default="", help="label of the token")
        create.add_argument(
            "--expires-days", type=int, help="valid for N days (default: no expiry)"
        )
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("--user", required=True, help="user name")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix", help="the token's prefix (or the whole token)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list(options)
        else:
            self._revoke(options)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user %(name)s.") % {"name": username})
        return user

    def _membership(self, user: User, org: str | None, role: str | None) -> Membership:
        memberships: QuerySet[Membership] = user.memberships.select_related("organisation")
        candidates = memberships.filter(is_active=True, organisation__is_active=True)
        if org:
            candidates = candidates.filter(
                Q(organisation__name__iexact=org) | Q(organisation__short_name__iexact=org)
            )
        if role:
            candidates = candidates.filter(role=role)
        found = list(candidates)
        if len(found) == 1:
            return found[0]
        listed = "\n".join(f"  - {_describe(m)}" for m in memberships.filter(is_active=True))
        if not found:
            raise CommandError(
                _("User %(user)s has no active membership matching this. Memberships:\n%(list)s")
                % {"user": user.username, "list": listed or "  " + _("(none)")}
            )
        raise CommandError(
            _(
                "User %(user)s has several memberships; "
                "choose one with --org and/or --role:\n%(list)s"
            )
            % {"user": user.username, "list": "\n".join(f"  - {_describe(m)}" for m in found)}
        )

    def _create(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        membership = self._membership(user, options.get("org"), options.get("role"))
        days = options.get("expires_days")
        if days is not None and days < 1:
            raise CommandError(_("--expires-days must be 1 or more."))
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            token, plain = token_create(
                membership=membership, name=options.get("name") or "", expires_at=expires_at
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc) or _("This role may not use API tokens.")) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        # The token alone on stdout, so scripts can capture it; the rest to stderr.
        params = {
            "prefix": token.prefix,
            "user": user.username,
            "membership": _describe(membership),
            "date": _day(expires_at),
        }
        if expires_at:
            message = _(
                "Token %(prefix)s for %(user)s in %(membership)s, valid until %(date)s. "
                "It is shown only this once:"
            )
        else:
            message = _(
                "Token %(prefix)s for %(user)s in %(membership)s. It is shown only this once:"
            )
        self.stderr.write(message % params)
        self.stdout.write(plain)

    def _list(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        tokens = list(
            ApiToken.objects.filter(membership__user=user).select_related(
                "membership__organisation"
            )
        )
        if not tokens:
            self.stderr.write(_("User %(user)s has no API tokens.") % {"user": user.username})
            return
        now = timezone.now()
        header = [_("prefix"), _("state"), _("membership"), _("name")]
        header += [_("created"), _("last used"), _("expires")]
        self.stdout.write("\t".join(header))
        for token in tokens:
            if token.revoked_at:
                state = _("revoked")
            elif token.is_expired(now):
                state = _("expired")
            else:
                state = _("active")
            row = [token.prefix, state, _describe(token.membership), token.name or "-"]
            row += [_day(token.created_at), _day(token.last_used_at), _day(token.expires_at)]
            self.stdout.write("\t".join(row))

    def _revoke(self, options: dict[str, Any]) -> None:
        given = options["prefix"].strip()
        prefix = token_prefix_of(given) or given
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(_("No token with prefix %(prefix)s.") % {"prefix": prefix})
        if token.revoked_at is not None:
            self.stdout.write(_("Token %(prefix)s was already revoked.") % {"prefix": prefix})
            return
        token_revoke(token=token)
        self.stdout.write(_("Token %(prefix)s revoked.") % {"prefix": prefix})
