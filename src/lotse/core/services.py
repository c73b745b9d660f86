"""Writes of core data: memberships, the access log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from .context import channel_var, request_id_var
from .models import (
    GENESIS_HASH,
    REDACTION_OBJECT_TYPE,
    AccessAction,
    AccessLogEntry,
    AccessLogHead,
    Membership,
    redaction_digest,
    redaction_hasher,
    redaction_hasher_add,
)

RETENTION_BASIS = "retention"


def _lock_head() -> AccessLogHead:
    """Lock the chain head; every append happens under this lock (call inside atomic)."""
    head = AccessLogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head = AccessLogHead.objects.create(pk=1)
    return head


def _append(head: AccessLogHead, entries: list[AccessLogEntry]) -> None:
    """Number, digest and chain `entries` after the locked head, then store them."""
    prev = head.last_hash
    seq = head.count
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev
        entry.payload_digest = entry.compute_payload_digest()
        entry.hash = entry.compute_hash()
        prev = entry.hash
    AccessLogEntry.objects.bulk_create(entries)
    AccessLogHead.objects.filter(pk=1).update(last_hash=prev, count=seq)
    head.last_hash, head.count = prev, seq


def _actor_fields(actor: Membership | None) -> dict[str, Any]:
    return {
        "user_id": actor.user_id if actor else None,
        "organisation_id": actor.organisation_id if actor else None,
        "role": actor.role if actor else "",
        "channel": channel_var.get(),
        "request_id": request_id_var.get(),
    }


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
    who = _actor_fields(actor)
    entries = [
        AccessLogEntry(
            at=now,
            person_id=pid,
            action=action,
            categories=cats,
            basis=basis if isinstance(basis, str) else basis.get(pid, ""),
            purpose=purpose,
            object_type=object_type,
            object_id=str(object_id),
            **who,
        )
        for pid in ids
    ]
    with transaction.atomic():
        _append(_lock_head(), entries)
    return len(entries)


def access_log_record_aggregate(
    *,
    actor: Membership | None,
    action: str,
    categories: Iterable[str],
    object_type: str,
    object_id: str = "",
    purpose: str = "statistics",
) -> None:
    """One entry, without a person, for statistics computed over the personal data of
    many (who looked at which aggregate of which categories, when). The Art. 15 report
    of a person does not list it: it discloses nothing about anybody."""
    entry = AccessLogEntry(
        at=timezone.now(),
        person_id=None,
        action=action,
        categories=sorted(set(categories)),
        basis="aggregate",
        purpose=purpose,
        object_type=object_type,
        object_id=object_id,
        **_actor_fields(actor),
    )
    with transaction.atomic():
        _append(_lock_head(), [entry])


def access_log_redact_person(
    *, person_id: int, actor: Membership | None = None, purpose: str = RETENTION_BASIS
) -> int:
    """Blank the personal payload (person, categories, object) of all of a person's
    entries; returns how many were blanked.

    Metadata, payload digests and hashes stay, so the chain still verifies. The
    redaction itself is appended as an entry without a person whose object_id
    commits to the set of blanked entries (`redaction_digest`); the blanked
    entries point to it, so blanking any other entry is detected too.
    """
    with transaction.atomic():
        head = _lock_head()
        pending = AccessLogEntry.objects.filter(person_id=person_id, redacted_at__isnull=True)
        seqs = list(pending.order_by("seq").values_list("seq", flat=True))
        if not seqs:
            return 0
        record = AccessLogEntry(
            at=timezone.now(),
            person_id=None,
            action=AccessAction.DELETE,
            categories=[],
            basis=RETENTION_BASIS,
            purpose=purpose,
            object_type=REDACTION_OBJECT_TYPE,
            object_id=redaction_digest(seqs),
            **_actor_fields(actor),
        )
        _append(head, [record])
        # The head lock keeps new entries out, so this is exactly `seqs`.
        return pending.filter(seq__lte=seqs[-1])._redact(
            redacted_at=record.at, redacted_by_seq=record.seq
        )


@dataclass
class _RedactionGroup:
    """The redacted entries seen so far that name one redaction entry."""

    hasher: Any = field(default_factory=redaction_hasher)
    first_seq: int | None = None
    times: dict[dt.datetime, int] = field(default_factory=dict)  # redacted_at → first seq

    def add(self, seq: int, redacted_at: dt.datetime) -> None:
        redaction_hasher_add(self.hasher, seq)
        if self.first_seq is None:
            self.first_seq = seq
        self.times.setdefault(redacted_at, seq)

    def digest(self) -> str:
        return str(self.hasher.hexdigest()[:40])

    def first_seq_not_at(self, at: dt.datetime) -> int | None:
        wrong = [seq for when, seq in self.times.items() if when != at]
        return min(wrong) if wrong else None


def access_log_verify(
    *, batch_size: int = 5000, progress: Callable[[int], object] | None = None
) -> tuple[bool, int | None]:
    """Walk the chain; return (ok, seq of the first broken entry or None).

    An entry is broken when its seq is missing from the sequence, its prev_hash
    is not the previous entry's hash, its hash does not match prev_hash, metadata
    and payload digest, or — unredacted — its payload does not match the digest.
    A redacted entry must have a blank payload and name a later redaction entry
    whose digest covers exactly the entries naming it, redacted at its time.
    `progress` is called with the number of entries checked per batch.
    """
    # The head as of the start is a checkpoint: entry #count must carry its hash.
    # Entries appended while the walk runs are then checked by the next walk.
    start = AccessLogHead.objects.filter(pk=1).values_list("count", "last_hash").first()
    checkpoint_seq, checkpoint_hash = start or (0, GENESIS_HASH)
    prev = GENESIS_HASH
    expected_seq = 1
    groups: dict[int, _RedactionGroup] = {}
    done_in_batch = 0
    qs = AccessLogEntry.objects.order_by("seq")
    for entry in qs.iterator(chunk_size=batch_size):
        seq = entry.seq
        if seq != expected_seq:
            return False, expected_seq  # a missing entry
        if entry.prev_hash != prev or entry.compute_hash() != entry.hash:
            return False, seq
        if seq == checkpoint_seq and entry.hash != checkpoint_hash:
            return False, seq
        if entry.redacted_at is None:
            if (
                entry.redacted_by_seq is not None
                or entry.compute_payload_digest() != entry.payload_digest
            ):
                return False, seq
        else:
            target = entry.redacted_by_seq
            if target is None or target <= seq or not entry.payload_is_blank():
                return False, seq
            groups.setdefault(target, _RedactionGroup()).add(seq, entry.redacted_at)
        group = groups.pop(seq, None)
        if entry.object_type == REDACTION_OBJECT_TYPE and entry.redacted_at is None:
            if group is None or group.digest() != entry.object_id:
                return False, seq
            wrong_time = group.first_seq_not_at(entry.at)
            if wrong_time is not None:
                return False, wrong_time
        elif group is not None:
            # Entries claim to be redacted by an entry that recorded no redaction.
            return False, group.first_seq
        prev = entry.hash
        expected_seq += 1
        done_in_batch += 1
        if progress is not None and done_in_batch == batch_size:
            progress(done_in_batch)
            done_in_batch = 0
    if progress is not None and done_in_batch:
        progress(done_in_batch)
    walked = expected_seq - 1
    if groups:
        return False, min(g.first_seq or 0 for g in groups.values())
    if walked < checkpoint_seq:
        return False, walked + 1  # entries removed from the end
    end = AccessLogHead.objects.filter(pk=1).values_list("count", "last_hash").first()
    head_count, head_hash = end or (0, GENESIS_HASH)
    if head_count < walked or (head_count == walked and head_hash != prev):
        return False, head_count + 1  # entries the head does not know, or a changed head
    return True, None
