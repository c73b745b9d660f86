"""factory-boy factories for tests. Names are synthetic; no real personal data."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from lotse.casework import models as cw
from lotse.core import models as core
from lotse.people import models as people


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = core.District
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"Stadtteil {n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = core.Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    short_name = factory.Sequence(lambda n: f"Org{n}")
    org_type = core.OrganisationType.KI
    legal_domains = factory.LazyFunction(lambda: ["aufenthg"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = core.User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Nutzer{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = core.Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "case_manager"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.Person

    family_name = factory.Sequence(lambda n: f"Testperson{n}")
    given_names = "Amir"
    birth_date = dt.date(2003, 5, 17)
    gender = "male"
    nationality = "SY"
    search_text = factory.LazyAttribute(
        lambda o: __import__("lotse.people.names", fromlist=["search_keys"]).search_keys(
            f"{o.given_names} {o.family_name}"
        )
    )


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cw.Case
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    lead_organisation = factory.SubFactory(OrganisationFactory)
    case_manager = factory.SubFactory(UserFactory)
    phase = "intake"
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))

    @factory.post_generation
    def plan(obj, create, extracted, **kwargs):
        if create:
            cw.IntegrationPlan.objects.get_or_create(case=obj)


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cw.CaseTeamMember

    case = factory.SubFactory(CaseFactory)
    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    team_role = "Ansprechpartner:in"


class ResidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.ResidenceStatusPeriod

    person = factory.SubFactory(PersonFactory)
    status = "gestattung"
    valid_from = dt.date(2023, 1, 1)


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = people.BenefitPeriod

    person = factory.SubFactory(PersonFactory)
    regime = "asylblg_3"
    valid_from = dt.date(2023, 1, 1)


class ConsentFactory(factory.django.DjangoModelFactory):
    """A consent of the person for the receiving organisations (all categories unless
    given), for case management, signed a month ago."""

    class Meta:
        model = "privacy.Consent"
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    purpose = "casework"
    categories = factory.LazyFunction(
        lambda: [
            c.value for c in __import__("lotse.privacy.categories", fromlist=["Category"]).Category
        ]
    )
    signed_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    recorded_by = factory.SubFactory(UserFactory)
    recorded_for = factory.SubFactory(OrganisationFactory)

    @factory.post_generation
    def receivers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.receiving_organisations.set(extracted)


class OfferFactory(factory.django.DjangoModelFactory):
    """An active offer of the catalogue, reviewed recently, without restrictions."""

    class Meta:
        model = "offers.Offer"
        skip_postgeneration_save = True

    provider = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Angebot {n}")
    field_of_action = "language"
    category = "sprachkurs"
    funding = "free"
    review_due = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=180))

    @factory.post_generation
    def need_types(obj, create, extracted, **kwargs):
        """`need_types=[...]` sets the needs; the search text is built as the services do."""
        if not create:
            return
        if extracted:
            obj.need_types.set(extracted)
        from lotse.offers.selectors import offer_search_text

        names = list(obj.need_types.values_list("name", flat=True))
        obj.search_text = offer_search_text(obj, names)
        type(obj).objects.filter(pk=obj.pk).update(search_text=obj.search_text)
