"""Writes of core data: memberships, the access log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from .context import channel_var, request_id_var
from .models import AccessLogEntry, AccessLogHead, Membership


def access_log_record(
    *,
    actor: Membership | None,
    action: str,
    person_ids: Iterable[int],
    categories: Iterable[str],
    basis: str | Mapping[int, str],
    purpose: str = "casework",
    object_type: str = "",
    object_id: str | int = "",
) -> int:
    """Append one entry per person to the hash-chained access log; returns the count.

    `basis` is one string for all persons or a mapping person id → basis.
    """
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return 0
    cats = sorted(set(categories))
    now = timezone.now()
    with transaction.atomic():
        head = AccessLogHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AccessLogHead.objects.create(pk=1)
        prev = head.last_hash
        seq = head.count
        entries = []
        for pid in ids:
            seq += 1
            entry = AccessLogEntry(
                seq=seq,
                at=now,
                user_id=actor.user_id if actor else None,
                organisation_id=actor.organisation_id if actor else None,
                role=actor.role if actor else "",
                person_id=pid,
                action=action,
                categories=cats,
                basis=basis if isinstance(basis, str) else basis.get(pid, ""),
                purpose=purpose,
                object_type=object_type,
                object_id=str(object_id),
                channel=channel_var.get(),
                request_id=request_id_var.get(),
                prev_hash=prev,
            )
            entry.hash = entry.compute_hash()
            prev = entry.hash
            entries.append(entry)
        AccessLogEntry.objects.bulk_create(entries)
        AccessLogHead.objects.filter(pk=1).update(last_hash=prev, count=seq)
    return len(entries)


def access_log_verify(*, batch_size: int = 5000) -> tuple[bool, int | None]:
    """Walk the chain; return (ok, seq of the first broken entry or None)."""
    prev = "0" * 64
    expected_seq = 1
    qs = AccessLogEntry.objects.order_by("seq")
    for entry in qs.iterator(chunk_size=batch_size):
        if (
            entry.seq != expected_seq
            or entry.prev_hash != prev
            or entry.compute_hash() != entry.hash
        ):
            return False, entry.seq
        prev = entry.hash
        expected_seq += 1
    head = AccessLogHead.objects.filter(pk=1).first()
    if head is not None and (head.count != expected_seq - 1 or head.last_hash != prev):
        return False, expected_seq
    return True, None
