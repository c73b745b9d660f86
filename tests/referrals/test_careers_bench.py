"""`lotse bench --only careers`: the figures are there and come from real runs."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lotse.referrals.models import CareerFlag
from lotse.synth import careers_bench
from lotse.synth.bench import BenchError

from .conftest import record_aborted

pytestmark = pytest.mark.django_db


def test_scan_figures_on_small_frames():
    lines: dict[str, str] = {}
    careers_bench.run_scan(participations=2000, out=lines.__setitem__)
    assert lines["careers_scan_persons"] == "200"
    assert 1500 <= int(lines["careers_scan_participations"]) <= 2500
    assert float(lines["careers_scan_seconds"]) > 0
    assert int(lines["careers_scan_flags"]) > 0


def test_database_figures_store_flags_then_change_nothing(world):
    today = timezone.localdate()
    for days in (300, 200):
        record_aborted(world.case_manager, world.case, days)
    CareerFlag.objects.all().delete()
    lines: dict[str, str] = {}
    careers_bench.run_db(samples=5, out=lines.__setitem__, today=today)
    assert lines["careers_db_full_scan_first_stored"].startswith(
        f"{CareerFlag.objects.count()} raised"
    )
    assert lines["careers_db_full_scan_again_stored"].startswith("0 raised, 0 updated")
    assert lines["careers_incremental_persons"] == "1"
    assert float(lines["careers_incremental_ms_p95"]) > 0


def test_no_participations_is_a_clear_error(db):
    with pytest.raises(BenchError):
        careers_bench.run_db(samples=5, out=lambda k, v: None, today=timezone.localdate())
