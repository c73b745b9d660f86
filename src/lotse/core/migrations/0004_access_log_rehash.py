"""Access log v2 (data): rebuild the hash chain once under the new scheme.

Before: hash = sha256(prev_hash + json(all fields)).
After:  payload_digest = sha256(json(person, categories, object_type, object_id)),
        hash = sha256(prev_hash | json(metadata) | payload_digest), metadata being
        seq, time, user, organisation, role, action, basis, purpose, channel and
        request id. Retention can then blank the payload and the chain still holds.

THE CHAIN IS REBUILT ONCE AT THIS UPGRADE: every existing entry gets a payload
digest and a new prev_hash and hash, walked in seq order. The walk first checks
each entry against the old scheme; if the old chain is broken the migration
stops (nothing is changed) and names the entry, because rebuilding would seal
the tampered row into the new chain. Set LOTSE_ACCESS_LOG_REHASH_FORCE=1 to
rebuild anyway once the break has been investigated and documented.

Going back rebuilds the chain under the old scheme (redacted payloads stay blank).
The schemes are copied here on purpose: migrations must not follow later changes
of the model code; `lotse.core.models` holds the current functions.
"""

import datetime as dt
import hashlib
import json
import logging
import os

from django.db import migrations

GENESIS_HASH = "0" * 64
BATCH = 2000
FORCE_ENV = "LOTSE_ACCESS_LOG_REHASH_FORCE"

logger = logging.getLogger(__name__)


def _canonical(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _old_hash(entry, prev):
    payload = _canonical(
        {
            "seq": entry.seq,
            "at": entry.at.isoformat(),
            "user": entry.user_id,
            "organisation": entry.organisation_id,
            "role": entry.role,
            "person": entry.person_id,
            "action": entry.action,
            "categories": sorted(entry.categories),
            "basis": entry.basis,
            "purpose": entry.purpose,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "channel": entry.channel,
            "request_id": entry.request_id,
        }
    )
    return hashlib.sha256((prev + payload).encode()).hexdigest()


def _new_hash(entry, prev):
    payload = _canonical(
        {
            "person": entry.person_id,
            "categories": sorted(entry.categories),
            "object_type": entry.object_type,
            "object_id": entry.object_id,
        }
    )
    entry.payload_digest = hashlib.sha256(payload.encode()).hexdigest()
    metadata = _canonical(
        {
            "seq": entry.seq,
            "at": entry.at.astimezone(dt.UTC).isoformat(),
            "user": entry.user_id,
            "organisation": entry.organisation_id,
            "role": entry.role,
            "action": entry.action,
            "basis": entry.basis,
            "purpose": entry.purpose,
            "channel": entry.channel,
            "request_id": entry.request_id,
        }
    )
    return hashlib.sha256(f"{prev}|{metadata}|{entry.payload_digest}".encode()).hexdigest()


def _refuse_unless(force, seq):
    if not force:
        raise RuntimeError(
            f"The access log chain is broken at entry #{seq} before the upgrade; nothing "
            f"was changed. Investigate, then set {FORCE_ENV}=1 to rebuild the chain anyway."
        )


def _rebuild(apps, compute, fields, check_old):
    """Walk the entries in seq order (keyset pages, safe while updating) and re-chain them."""
    AccessLogEntry = apps.get_model("core", "AccessLogEntry")
    AccessLogHead = apps.get_model("core", "AccessLogHead")
    force = os.environ.get(FORCE_ENV, "").strip().lower() in {"1", "true", "yes"}
    prev = old_prev = GENESIS_HASH
    broken_at = None
    count = 0
    last_seq = 0
    while True:
        batch = list(AccessLogEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:BATCH])
        if not batch:
            break
        for entry in batch:
            if check_old and broken_at is None:
                if (
                    entry.seq != last_seq + 1
                    or entry.prev_hash != old_prev
                    or _old_hash(entry, entry.prev_hash) != entry.hash
                ):
                    broken_at = last_seq + 1 if entry.seq != last_seq + 1 else entry.seq
                    _refuse_unless(force, broken_at)
                old_prev = entry.hash
            entry.prev_hash = prev
            entry.hash = compute(entry, prev)
            prev = entry.hash
            last_seq = entry.seq
        AccessLogEntry.objects.bulk_update(batch, fields)
        count += len(batch)
    head = AccessLogHead.objects.filter(pk=1).first()
    head_moved = head is not None and (head.count != count or head.last_hash != old_prev)
    if check_old and broken_at is None and head_moved:
        broken_at = count + 1  # entries removed from the end
        _refuse_unless(force, broken_at)
    if broken_at is not None:
        logger.warning(
            "access log rebuilt although broken at entry #%s (%s set)", broken_at, FORCE_ENV
        )
    if count or head is not None:
        AccessLogHead.objects.update_or_create(pk=1, defaults={"last_hash": prev, "count": count})


def rehash(apps, schema_editor):
    _rebuild(apps, _new_hash, ["payload_digest", "prev_hash", "hash"], check_old=True)


def rehash_back(apps, schema_editor):
    _rebuild(apps, _old_hash, ["prev_hash", "hash"], check_old=False)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_access_log_redaction"),
    ]

    operations = [
        migrations.RunPython(rehash, rehash_back, elidable=False),
    ]
