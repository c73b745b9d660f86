"""The grid form of the classification of needs per target group (issue #7): one select
per need type × target group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django import forms

from lotse.casework.codes import LifeDomain
from lotse.core.forms import Form
from lotse.core.models import NeedType
from lotse.people.models import TargetGroup

from .classification import Cell
from .models import NeedLevel

NOT_CLASSIFIED = "—"


def field_name(need_type_id: int, target_group_id: int) -> str:
    return f"level_{need_type_id}_{target_group_id}"


def life_domain_label(code: str) -> str:
    return str(dict(LifeDomain.choices).get(code, code))


@dataclass(frozen=True)
class GridRow:
    need_type: NeedType
    cells: list[Any]  # per group: a bound field (editable) or a level's label (read-only)


@dataclass(frozen=True)
class GridDomain:
    label: str
    rows: list[GridRow]


class ClassificationForm(Form):
    """A cell missing from the submitted data (a need type or target group added since
    the page was loaded) is left as it is."""

    def __init__(
        self,
        *args: Any,
        need_types: Sequence[NeedType],
        target_groups: Sequence[TargetGroup],
        levels: Mapping[Cell, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.need_types = list(need_types)
        self.target_groups = list(target_groups)
        choices = [("", NOT_CLASSIFIED), *NeedLevel.choices]
        for need_type in self.need_types:
            for group in self.target_groups:
                self.fields[field_name(need_type.pk, group.pk)] = forms.ChoiceField(
                    label=f"{need_type.name} – {group.name}",
                    choices=choices,
                    required=False,
                    initial=levels.get((need_type.pk, group.pk), ""),
                )
        self._style_widgets()

    def levels(self) -> dict[Cell, str]:
        """The submitted level of every cell in the data (after validation)."""
        return {
            (need_type.pk, group.pk): self.cleaned_data[name]
            for need_type in self.need_types
            for group in self.target_groups
            if (name := field_name(need_type.pk, group.pk)) in self.data
        }

    def problems(self) -> list[str]:
        """Every error, each naming its cell, for the alert at the top of the grid."""
        messages = [str(error) for error in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name in self.fields:
                label = self.fields[name].label
                messages += [f"{label}: {error}" for error in errors]
        return messages

    def domains(self) -> list[GridDomain]:
        """The grid by life domain: a select per cell."""
        return _group(
            self.need_types,
            lambda need_type: [
                self[field_name(need_type.pk, group.pk)] for group in self.target_groups
            ],
        )


def classification_grid(
    need_types: Sequence[NeedType],
    target_groups: Sequence[TargetGroup],
    levels: Mapping[Cell, str],
) -> list[GridDomain]:
    """The grid by life domain, read-only: the level's label per cell, None for not
    classified."""
    labels = dict(NeedLevel.choices)
    return _group(
        need_types,
        lambda need_type: [
            labels.get(levels.get((need_type.pk, group.pk), "")) for group in target_groups
        ],
    )


def _group(need_types: Sequence[NeedType], cells: Any) -> list[GridDomain]:
    return [
        GridDomain(
            label=life_domain_label(domain),
            rows=[GridRow(need_type=n, cells=cells(n)) for n in members],
        )
        for domain, members in groupby(need_types, key=lambda n: n.life_domain)
    ]
