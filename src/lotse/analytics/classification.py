"""The classification of needs per target group (issue #7): for each need type and target
group, is an offer legally required, locally necessary or desirable? The gap analysis
sorts by it.

Code lists, no personal data: no access logging. Read with
:func:`classification_matrix`, written only by :func:`classification_set`.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.core.models import Membership, NeedType
from lotse.core.roles import Perm
from lotse.people.models import TargetGroup

from .models import NeedClassification, NeedLevel

# (need_type_id, target_group_id) → level; "" (or no entry) is "not classified".
Cell = tuple[int, int]
# Problems listed at most; a grid with many more is wrong in one way throughout.
MAX_MESSAGES = 20


def classification_matrix() -> tuple[list[NeedType], list[TargetGroup], dict[Cell, str]]:
    """The active need types (by life domain and name), the active target groups (in
    their order) and the level of every classified cell between them. Three queries."""
    need_types = list(NeedType.objects.filter(is_active=True).order_by("life_domain", "name"))
    target_groups = list(TargetGroup.objects.filter(is_active=True).order_by("order", "code"))
    rows = NeedClassification.objects.filter(
        need_type__is_active=True, target_group__is_active=True
    ).values_list("need_type_id", "target_group_id", "level")
    levels = {(need_type, group): level for need_type, group, level in rows}
    return need_types, target_groups, levels


def classification_set(*, actor: Membership, levels: Mapping[Cell, str]) -> int:
    """Set the level of every given cell ("" clears it: not classified); cells not given
    stay as they are. All or nothing: a bad level or an unknown need type or target group
    raises :class:`ValidationError` and nothing is written. Returns the number of cells
    that changed. A bounded number of queries, whatever the size of the grid."""
    if not actor.has_perm(Perm.GAPS_CLASSIFY):
        raise PermissionDenied
    allowed = set(NeedLevel.values)
    need_type_ids = {need_type for need_type, _group in levels}
    group_ids = {group for _need_type, group in levels}
    with transaction.atomic():
        need_types = dict(NeedType.objects.filter(pk__in=need_type_ids).values_list("pk", "name"))
        groups = dict(TargetGroup.objects.filter(pk__in=group_ids).values_list("pk", "name"))
        problems = _problems(levels, allowed, need_types, groups)
        if problems:
            raise ValidationError(problems)
        existing = {
            (row.need_type_id, row.target_group_id): row
            for row in NeedClassification.objects.select_for_update().filter(
                need_type_id__in=need_type_ids, target_group_id__in=group_ids
            )
        }
        now = timezone.now()
        upserts: list[NeedClassification] = []
        deletes: list[int] = []
        for (need_type, group), level in levels.items():
            row = existing.get((need_type, group))
            if level and (row is None or row.level != level):
                upserts.append(
                    NeedClassification(
                        need_type_id=need_type, target_group_id=group, level=level, updated_at=now
                    )
                )
            elif not level and row is not None:
                deletes.append(row.pk)
        if upserts:
            # One statement for new and changed cells; a cell another user created in the
            # meantime is updated rather than failing on the unique key.
            NeedClassification.objects.bulk_create(
                upserts,
                update_conflicts=True,
                unique_fields=["need_type", "target_group"],
                update_fields=["level", "updated_at"],
            )
        if deletes:
            NeedClassification.objects.filter(pk__in=deletes).delete()
    return len(upserts) + len(deletes)


def _problems(
    levels: Mapping[Cell, str],
    allowed: set[str],
    need_types: dict[int, str],
    groups: dict[int, str],
) -> list[str]:
    problems: list[str] = []
    if any(need_type not in need_types for need_type, _group in levels) or any(
        group not in groups for _need_type, group in levels
    ):
        problems.append(
            _(
                "A need type or target group of the table no longer exists. Reload the "
                "page and enter the classification again."
            )
        )
    choices = ", ".join(f"“{label}”" for label in NeedLevel.labels)
    for (need_type, group), level in levels.items():
        if level and level not in allowed:
            problems.append(
                _(
                    "%(cell)s: “%(level)s” is not a classification. Allowed: %(choices)s, "
                    "or none for not classified."
                )
                % {
                    "cell": f"{need_types.get(need_type, need_type)} – {groups.get(group, group)}",
                    "level": level,
                    "choices": choices,
                }
            )
            if len(problems) >= MAX_MESSAGES:
                break
    return problems
