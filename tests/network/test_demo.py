"""The demo's directory: the finder answers "Duldung, 22, Schulabschluss nachholen"
with at least two organisations; the matrix shows a gap and a duplicate; idempotent."""

from __future__ import annotations

from lotse.core.roles import Role
from lotse.network import selectors
from lotse.network.models import Contact, Responsibility
from lotse.synth.demo import _network

from ..factories import MembershipFactory


def test_demo_network(db):
    coordinator = MembershipFactory(user__username=str(Role.COORDINATOR), role=Role.COORDINATOR)
    _network()
    counts = Contact.objects.count(), Responsibility.objects.count()
    assert counts[1] >= 10
    _network()
    assert (Contact.objects.count(), Responsibility.objects.count()) == counts
    p = selectors.pathway(actor=coordinator, status="duldung", age=22, need_code="schulabschluss")
    names = {e.organisation.org_type for e in p.entries}
    assert len(p.entries) >= 2 and {"schule", "jmd"} <= names
    assert all(e.contacts for e in p.entries)
    assert "vhs" not in names  # the VHS is there for 28 and older
    m = selectors.matrix(actor=coordinator)
    assert m.gaps and m.duplicates
