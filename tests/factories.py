import datetime

import factory
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import User
from programmes.models import Membership, Organisation, Role, Trust


class ScopedFactory(factory.django.DjangoModelFactory):
    """Tenant-owned rows are made outside any request, so creation runs unscoped."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Test Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organisation.Kind.CANCER_ALLIANCE


class TrustFactory(ScopedFactory):
    class Meta:
        model = Trust

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Test Hospitals NHS Trust {n}")
    ods_code = factory.Sequence(lambda n: f"T{n:03d}")


class MembershipFactory(ScopedFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MENTOR

    @factory.post_generation
    def trusts(obj, create, extracted, **kwargs):
        if create and extracted:
            with scopes_disabled():
                obj.trusts.add(*extracted)


class ProgrammeFactory(ScopedFactory):
    class Meta:
        model = "programmes.Programme"

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Legacy mentoring programme {n}")
    aims = "Keep experience in the NHS."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from programmes.services.programmes import add_default_criteria

        programme = super()._create(model_class, *args, **kwargs)
        with scopes_disabled():
            add_default_criteria(programme)
        return programme


class CohortFactory(ScopedFactory):
    class Meta:
        model = "programmes.Cohort"

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")


class MentorFactory(ScopedFactory):
    class Meta:
        model = "mentoring.Mentor"

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    trust = None
    profession = "Cancer clinical nurse specialist"
    band = "7"
    years_experience = 25
    specialisms = "lung, breast"


class MenteeFactory(ScopedFactory):
    class Meta:
        model = "mentoring.Mentee"

    programme = factory.SubFactory(ProgrammeFactory)
    trust = factory.SubFactory(TrustFactory)
    full_name = factory.Sequence(lambda n: f"Mentee Person {n}")
    email = factory.Sequence(lambda n: f"mentee{n}@trust.test")
    role_title = "Lung cancer CNS"
    specialism = "lung"
    appointed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=60))
    identified_by = "lead_nurse"
