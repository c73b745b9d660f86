import pytest

from lotse.core.models import AccessLogEntry, AppendOnlyError
from lotse.core.services import access_log_record, access_log_verify


def test_chain_verifies_and_detects_tampering(world):
    access_log_record(
        actor=world.case_manager,
        action="read",
        person_ids=[1, 2, 3],
        categories=["master"],
        basis="lead_organisation",
    )
    access_log_record(
        actor=world.partner_staff,
        action="read",
        person_ids=[2],
        categories=["plan"],
        basis="case_team",
    )
    assert access_log_verify() == (True, None)
    entry = AccessLogEntry.objects.get(seq=2)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    # Tampering below the ORM is detected.
    AccessLogEntry.objects.filter(seq=2).update(categories=["health"])
    assert access_log_verify() == (False, 2)
