from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from lotse.core.forms import DateTimeInput, Form, ModelForm, choice_field, model_choice_field
from lotse.core.models import District, Membership, NeedType, Organisation, User
from lotse.core.roles import CASEWORK_ROLES
from lotse.people.codes import CefrLevel, HouseholdRole, Language, ResidenceStatus
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod, TargetGroup
from lotse.people.services import PERSON_FIELDS

from .codes import ClosingReason, ItemKind, LifeDomain, Phase, Priority, QuestionKind
from .models import Appointment, Document, InterviewQuestion, Note, PlanGoal, PlanStep

BLANK = [("", "—")]
OTHER_NAME_SLOTS = 2
LANGUAGE_SLOTS = 2


class CaseFilterForm(Form):
    q = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=100,
        help_text=_("Any spelling or script, e.g. Mohammed, Muhammad or محمد."),
    )
    birth_date = forms.DateField(label=_("Date of birth"), required=False)
    status = forms.ChoiceField(
        label=_("Residence status"), required=False, choices=BLANK + list(ResidenceStatus.choices)
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.filter(is_active=True),
    )
    phase = forms.ChoiceField(label=_("Phase"), required=False, choices=BLANK + list(Phase.choices))
    mine = forms.BooleanField(label=_("Only my cases"), required=False)
    without_offer = forms.BooleanField(
        label=_("Currently without any offer"),
        required=False,
        help_text=_("No running participation and no open referral."),
    )
    need = forms.ModelChoiceField(
        label=_("Open need"),
        required=False,
        queryset=NeedType.objects.filter(is_active=True),
        to_field_name="code",
    )
    target_group = forms.ModelChoiceField(
        label=_("Target group"),
        required=False,
        queryset=TargetGroup.objects.filter(is_active=True),
        to_field_name="code",
    )


class PersonForm(ModelForm):
    """Master data with other spellings and languages as fixed slots (no JS needed)."""

    class Meta:
        model = Person
        fields = list(PERSON_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "nationality").choices = BLANK + list(countries)
        model_choice_field(self, "district").queryset = District.objects.all()
        for i in range(1, OTHER_NAME_SLOTS + 1):
            self.fields[f"other_given_{i}"] = forms.CharField(
                label=_("Other spelling %(n)s: given names") % {"n": i},
                required=False,
                max_length=120,
                help_text=_("Original script or another transliteration.") if i == 1 else "",
            )
            self.fields[f"other_family_{i}"] = forms.CharField(
                label=_("Other spelling %(n)s: family name") % {"n": i},
                required=False,
                max_length=120,
            )
        for i in range(1, LANGUAGE_SLOTS + 1):
            self.fields[f"language_{i}"] = forms.ChoiceField(
                label=_("Language %(n)s") % {"n": i},
                required=False,
                choices=BLANK + list(Language.choices),
            )
            self.fields[f"level_{i}"] = forms.ChoiceField(
                label=_("Level of language %(n)s") % {"n": i},
                required=False,
                choices=BLANK + list(CefrLevel.choices),
            )
        self._style_widgets()
        if self.instance.pk and not self.is_bound:
            for i, name in enumerate(self.instance.other_names.all()[:OTHER_NAME_SLOTS], start=1):
                self.initial[f"other_given_{i}"] = name.given_names
                self.initial[f"other_family_{i}"] = name.family_name
            for i, lang in enumerate(self.instance.languages.all()[:LANGUAGE_SLOTS], start=1):
                self.initial[f"language_{i}"] = lang.language
                self.initial[f"level_{i}"] = lang.level

    def clean_birth_date(self) -> Any:
        value = self.cleaned_data["birth_date"]
        if value and value > timezone.localdate():
            raise ValidationError(_("The date of birth cannot be in the future."))
        if value and value.year < 1900:
            raise ValidationError(_("Please check the year of birth."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(1, LANGUAGE_SLOTS + 1):
            if data.get(f"language_{i}") and not data.get(f"level_{i}"):
                self.add_error(f"level_{i}", _("Please give the level."))
        entry, birth = data.get("entry_date"), data.get("birth_date")
        if entry and birth and entry < birth:
            self.add_error("entry_date", _("The date of entry lies before the date of birth."))
        if entry and entry > timezone.localdate():
            self.add_error("entry_date", _("The date of entry cannot be in the future."))
        return data

    def person_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def other_names(self) -> list[tuple[str, str]]:
        return [
            (
                self.cleaned_data[f"other_family_{i}"].strip(),
                self.cleaned_data[f"other_given_{i}"].strip(),
            )
            for i in range(1, OTHER_NAME_SLOTS + 1)
            if self.cleaned_data[f"other_family_{i}"].strip()
            or self.cleaned_data[f"other_given_{i}"].strip()
        ]

    def languages(self) -> list[tuple[str, str]]:
        return [
            (self.cleaned_data[f"language_{i}"], self.cleaned_data[f"level_{i}"])
            for i in range(1, LANGUAGE_SLOTS + 1)
            if self.cleaned_data[f"language_{i}"]
        ]


class RegisterForm(PersonForm):
    confirm_not_duplicate = forms.BooleanField(
        label=_("I have checked the similar persons: this is a different person."), required=False
    )


class ResidenceForm(ModelForm):
    class Meta:
        model = ResidenceStatusPeriod
        fields = [
            "status",
            "valid_from",
            "valid_to",
            "document_expiry",
            "issuing_authority",
            "work_permission",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "issuing_authority").queryset = Organisation.objects.filter(
            org_type__in=["auslaenderbehoerde", "other"]
        )


class BenefitForm(ModelForm):
    class Meta:
        model = BenefitPeriod
        fields = ["regime", "valid_from", "valid_to", "authority"]


class CorrectionMixin(forms.Form):
    correction_reason = forms.CharField(label=_("Reason for the correction"), max_length=200)
    retract = forms.BooleanField(
        label=_("Entered in error: withdraw the entry without replacement"), required=False
    )


class ResidenceCorrectionForm(ResidenceForm, CorrectionMixin):
    pass


class BenefitCorrectionForm(BenefitForm, CorrectionMixin):
    pass


class PhaseForm(Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    closing_reason = forms.ChoiceField(
        label=_("Closing reason"),
        required=False,
        choices=BLANK + list(ClosingReason.choices),
        help_text=_("Only when closing the case."),
    )
    closing_note = forms.CharField(
        label=_("Closing note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user} – {obj.organisation} ({obj.get_role_display()})"


class TeamAddForm(Form):
    member = MemberChoiceField(label=_("Staff member"), queryset=Membership.objects.none())
    team_role = forms.CharField(
        label=_("Role in the case"),
        max_length=120,
        help_text=_("E.g. job placement officer, contact at the foreigners' authority."),
    )

    def __init__(self, *args: Any, lead_organisation_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["member"])
        field.queryset = (
            Membership.objects.filter(
                role__in=CASEWORK_ROLES, is_active=True, organisation__is_active=True
            )
            .exclude(organisation_id=lead_organisation_id)
            .select_related("user", "organisation")
            .order_by("organisation__name", "user__last_name")
        )


class IntakeForm(Form):
    conducted_on = forms.DateField(label=_("Date of the interview"))
    interpreter_language = forms.ChoiceField(
        label=_("Interpreter used for"), required=False, choices=BLANK + list(Language.choices)
    )

    def __init__(self, *args: Any, questions: list[InterviewQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for q in questions:
            self.fields[q.key] = self._field(q)
        self._style_widgets()

    @staticmethod
    def _field(q: InterviewQuestion) -> forms.Field:
        common: dict[str, Any] = {"label": q.text, "required": q.required, "help_text": q.help_text}
        choices = [(c, c) for c in q.choices]
        if q.kind == QuestionKind.NUMBER:
            return forms.IntegerField(min_value=0, max_value=100, **common)
        if q.kind == QuestionKind.YES_NO:
            return forms.TypedChoiceField(
                choices=[*BLANK, ("yes", _("yes")), ("no", _("no"))], **common
            )
        if q.kind == QuestionKind.CHOICE:
            return forms.ChoiceField(choices=BLANK + choices, **common)
        if q.kind == QuestionKind.MULTI_CHOICE:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        if q.kind == QuestionKind.LONG_TEXT:
            return forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, **common
            )
        return forms.CharField(max_length=300, **common)

    def answers(self) -> dict[str, Any]:
        return {q.key: self.cleaned_data.get(q.key) for q in self.questions}


class AssessmentForm(Form):
    assessed_on = forms.DateField(label=_("Date of the assessment"))
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AssessmentItemForm(Form):
    life_domain = forms.ChoiceField(label=_("Life domain"), choices=LifeDomain.choices)
    kind = forms.ChoiceField(
        label=_("Strength or need"), choices=ItemKind.choices, initial=ItemKind.NEED
    )
    description = forms.CharField(label=_("Description"), max_length=500)
    need_type = forms.ModelChoiceField(
        label=_("Type of need"),
        required=False,
        queryset=NeedType.objects.filter(is_active=True),
        help_text=_("For needs: what kind of offer would answer it."),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=BLANK + list(Priority.choices)
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ItemKind.NEED:
            if not data.get("need_type"):
                self.add_error("need_type", _("Please choose the type of need."))
            if not data.get("priority"):
                self.add_error("priority", _("Please set a priority."))
        return data


class GoalForm(ModelForm):
    class Meta:
        model = PlanGoal
        fields = ["life_domain", "title", "target_date"]


class StepForm(ModelForm):
    class Meta:
        model = PlanStep
        fields = [
            "title",
            "responsible_organisation",
            "responsible_user",
            "responsible_is_client",
            "due_date",
        ]

    def __init__(self, *args: Any, case_user_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "responsible_organisation").queryset = Organisation.objects.filter(
            is_active=True
        )
        model_choice_field(self, "responsible_user").queryset = User.objects.filter(
            pk__in=case_user_ids
        )
        self.fields["responsible_user"].help_text = _("Case manager or a member of the case team.")


class StatusForm(Form):
    status = forms.ChoiceField(label=_("Status"))

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = choices


class AgreeForm(Form):
    agreed_on = forms.DateField(label=_("Agreed with the person on"))
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AppointmentForm(ModelForm):
    class Meta:
        model = Appointment
        fields = [
            "starts_at",
            "purpose",
            "location",
            "organisation",
            "status",
            "outcome",
            "agreements",
        ]
        widgets = {
            "starts_at": DateTimeInput(),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "agreements": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "organisation").queryset = Organisation.objects.filter(
            is_active=True
        )


class NoteForm(ModelForm):
    class Meta:
        model = Note
        fields = ["text", "visibility", "is_sensitive"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}


class DocumentForm(ModelForm):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, JPEG or PNG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    class Meta:
        model = Document
        fields = ["doc_type", "title"]


class FollowUpForm(Form):
    title = forms.CharField(label=_("Subject"), max_length=300)
    due_on = forms.DateField(label=_("Due on"))
    owner = forms.ModelChoiceField(label=_("Responsible"), queryset=User.objects.none())

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner").queryset = (
            User.objects.filter(
                memberships__organisation_id=organisation_id, memberships__is_active=True
            )
            .distinct()
            .order_by("last_name")
        )


class QuestionForm(ModelForm):
    choices_text = forms.CharField(
        label=_("Possible answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One answer per line; only for 'one of a list' and 'several of a list'."),
    )

    class Meta:
        model = InterviewQuestion
        fields = ["key", "section", "order", "text", "help_text", "kind", "required", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["choices_text"] = "\n".join(self.instance.choices)

    def choices(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data.get("choices_text", "").splitlines()
            if line.strip()
        ]


class HouseholdLinkForm(Form):
    other = forms.TypedChoiceField(label=_("Person"), coerce=int, widget=forms.RadioSelect)
    role = forms.ChoiceField(
        label=_("Role of this person in the household"), choices=HouseholdRole.choices
    )
    other_role = forms.ChoiceField(
        label=_("Role of the other person"),
        required=False,
        choices=BLANK + list(HouseholdRole.choices),
        help_text=_("Leave empty to keep it as it is."),
    )

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "other").choices = [
            (c.person_id, f"{c.person} ({c.person.birth_date:%d.%m.%Y})") for c in candidates
        ]
