"""The directory of the alliance (issue #8): contacts of the organisations and who is
responsible for which target group and field of action. No personal data of clients:
contacts are staff in their professional function."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lotse.core.models import Organisation
from lotse.offers.codes import FieldOfAction
from lotse.people.models import TargetGroup


class Contact(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=120)
    function = models.CharField(_("function"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # Codes of people.codes.Language the contact counsels in.
    languages = models.JSONField(_("languages"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.function})" if self.function else self.name


class Responsibility(models.Model):
    """One cell of the responsibility matrix: an organisation is responsible for a
    target group in a field of action. A blank role means the roles are not agreed."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="responsibilities",
    )
    target_group = models.ForeignKey(
        TargetGroup,
        verbose_name=_("target group"),
        on_delete=models.CASCADE,
        related_name="responsibilities",
    )
    field_of_action = models.CharField(
        _("field of action"), max_length=20, choices=FieldOfAction.choices
    )
    role = models.CharField(_("agreed role"), max_length=200, blank=True)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsibilities",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["target_group__order", "field_of_action", "organisation__name"]
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "target_group", "field_of_action"],
                name="responsibility_unique_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.target_group} · {self.get_field_of_action_display()}"
