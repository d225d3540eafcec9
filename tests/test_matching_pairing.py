"""The shared pairing rules: places left, exclusions, making and ending a pair."""

import pytest
from django.core import mail
from django_scopes import scope

from matching.models import Exclusion
from matching.services import pairing, pool
from mentoring import services as mentoring_services
from mentoring.models import Mentee, Relationship

from .factories import MenteeFactory, MentorFactory, UserFactory
from .factories_matching import ExclusionFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def test_make_pair_creates_the_relationship_and_emails_both(
    cast, django_capture_on_commit_callbacks
):
    with scope(organisation=cast.org):
        mentee = cast.mentee_record
        mentee.line_manager_name = "Lena Manager"
        mentee.line_manager_email = "lena.manager@home.test"
        mentee.save()
        with django_capture_on_commit_callbacks(execute=True):
            relationship = pairing.make_pair(
                mentee, cast.mentor_record, actor=cast.colleague, score=42.5
            )
        relationship.refresh_from_db()
        assert relationship.stage == Relationship.Stage.SETTING_UP
        assert relationship.route == Relationship.Route.ASSIGNED
        assert str(relationship.match_score) == "42.50"
        assert relationship.matched_by == cast.colleague
        assert not relationship.cross_trust
        assert Mentee.objects.get(pk=cast.mentee_record.pk).status == Mentee.Status.MATCHED
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["mentee@home.test", "mentor@home.test"]
    to_mentor = next(m for m in mail.outbox if m.to == ["mentor@home.test"])
    assert "mentee@home.test" in to_mentor.body
    assert "Lena Manager" in to_mentor.body
    assert "lena.manager@home.test" in to_mentor.body
    to_mentee = next(m for m in mail.outbox if m.to == ["mentee@home.test"])
    assert "mentor@home.test" in to_mentee.body


def test_a_pair_is_refused_when_the_mentor_is_full(cast):
    with scope(organisation=cast.org):
        mentor = cast.mentor_record
        mentor.max_concurrent = 1
        mentor.save()
        RelationshipFactory(mentee=cast.mentee_other_trust, mentor=mentor)
        with pytest.raises(pairing.PairingRefused, match="at capacity"):
            pairing.make_pair(cast.mentee_record, mentor, actor=cast.owner)
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()
    assert mail.outbox == []


def test_line_manager_same_person_and_recorded_conflicts_are_excluded(cast):
    with scope(organisation=cast.org):
        manager = MentorFactory(programme=cast.programme, user=UserFactory(email="boss@home.test"))
        conflicted = MentorFactory(programme=cast.programme)
        self_mentor = MentorFactory(programme=cast.programme, user=cast.mentee)
        mentee = cast.mentee_record
        mentee.line_manager_email = "Boss@home.test"
        mentee.save()
        ExclusionFactory(mentee=mentee, mentor=conflicted)
        loaded = pool.load_mentees(Mentee.objects.filter(pk=mentee.pk))[0]
        result = pool.suggest(loaded)
        reasons = {r.mentor.pk: r.unavailable for r in result.unavailable}
        assert reasons[manager.pk] == pool.LINE_MANAGEMENT
        assert reasons[self_mentor.pk] == pool.SAME_PERSON
        assert reasons[conflicted.pk] == "declared conflict of interest"
        assert [r.mentor.pk for r in result.ranked] == [cast.mentor_record.pk]


def test_ending_early_returns_the_mentee_and_excludes_the_pair(
    cast, django_capture_on_commit_callbacks
):
    with scope(organisation=cast.org):
        relationship = pairing.make_pair(
            cast.mentee_record, cast.mentor_record, actor=cast.colleague
        )
        with django_capture_on_commit_callbacks(execute=True):
            mentoring_services.end_early(relationship, reason="Not working out", actor=cast.mentee)
        relationship.refresh_from_db()
        assert relationship.stage == Relationship.Stage.REMATCHED
        assert relationship.ended_by == cast.mentee
        mentee = Mentee.objects.get(pk=cast.mentee_record.pk)
        assert mentee.status == Mentee.Status.AWAITING_MATCH
        assert Exclusion.objects.filter(
            mentee=mentee, mentor=cast.mentor_record, reason=Exclusion.Reason.ASKED_TO_LEAVE
        ).exists()
        with pytest.raises(pairing.PairingRefused, match="previous pair"):
            pairing.make_pair(mentee, cast.mentor_record, actor=cast.colleague)
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "mentor@home.test"]
    assert all("ended" in m.subject for m in mail.outbox)


def test_not_accepting_is_its_own_reason(cast):
    with scope(organisation=cast.org):
        cast.mentor_record.accepting_new = False
        cast.mentor_record.save()
        loaded = pool.load_mentees(Mentee.objects.filter(pk=cast.mentee_record.pk))[0]
        result = pool.suggest(loaded)
        assert [r.unavailable for r in result.unavailable] == [pool.NOT_ACCEPTING]
        assert result.ranked == ()


def test_a_full_home_trust_mentor_leaves_the_other_trusts_mentor_ranked_cross_trust(cast):
    with scope(organisation=cast.org):
        home = cast.mentor_record
        home.max_concurrent = 1
        home.save()
        RelationshipFactory(mentee=MenteeFactory(programme=cast.programme), mentor=home)
        away = MentorFactory(programme=cast.programme, trust=cast.other_trust_same_org)
        loaded = pool.load_mentees(Mentee.objects.filter(pk=cast.mentee_record.pk))[0]
        result = pool.suggest(loaded)
        assert [(r.mentor.pk, r.cross_trust) for r in result.ranked] == [(away.pk, True)]
        assert [(r.mentor.pk, r.unavailable) for r in result.unavailable] == [
            (home.pk, "at capacity")
        ]
