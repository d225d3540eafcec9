"""Survey responses a mentee chose to share with their mentor, as an agenda for goals.

Only the mentor of a relationship with the mentee reads them, and only responses the
mentee marked as shared. A response the mentee answered while in a relationship with
another mentor stays with that mentor. Admins and lead nurses do not read them here:
the programme team reads responses only by pseudonym, in reports.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key

from .models import Question, Section, SurveyResponse
from .question_forms import answer_rows, version_sections

NOT_FOUND = "No such page in this organisation."
# The mentor reads shared responses while the relationship runs and after it closes;
# not after they declined it or the mentee was rematched.
MENTOR_READS_IN = (*Relationship.OPEN_STAGES, Relationship.Stage.CLOSED)


def get_relationship_for_mentor(request, pk) -> Relationship:
    """The signed-in mentor's own relationship, or the same 404 as a missing one."""
    relationship = None
    if request.access.is_mentor:
        relationship = (
            Relationship.objects.filter(
                programme__organisation=request.organisation,
                mentor__user=request.user,
                stage__in=MENTOR_READS_IN,
            )
            .select_related("programme__organisation", "mentee", "mentor__user")
            .filter(pk=pk)
            .first()
        )
    if relationship is None:
        raise Http404(NOT_FOUND)
    return relationship


def shared_responses(relationship: Relationship) -> QuerySet[SurveyResponse]:
    """The mentee's submitted responses shared with this relationship's mentor."""
    mentee = relationship.mentee
    mentee.programme = relationship.programme  # the same row, already loaded
    return (
        SurveyResponse.objects.filter(
            programme=relationship.programme,
            pseudonym=mentee_key(mentee),
            shared_with_mentor=True,
            submitted_at__isnull=False,
        )
        .filter(Q(invitation__relationship__isnull=True) | Q(invitation__relationship=relationship))
        .select_related("version__instrument")
        .order_by("-submitted_at", "-pk")
    )


def shared_for_relationship(request, relationship: Relationship) -> dict:
    """The relationship page's section of shared survey responses.

    A context dict, like the relationship page's other panels: ``shared_surveys`` is
    ``None`` for everyone but the relationship's mentor, so the section is not shown.
    """
    user, access = request.user, request.access
    if not (
        access.is_mentor
        and relationship.mentor.user_id == user.pk
        and relationship.stage in MENTOR_READS_IN
    ):
        return {"shared_surveys": None}
    return {
        "shared_surveys": {
            "relationship": relationship,
            "responses": list(shared_responses(relationship)),
        }
    }


def answers_shown(response: SurveyResponse) -> list[tuple[Section, list[tuple[Question, str]]]]:
    """Each section of the response's version with its questions and the words of each
    answer, in the order of the survey (two queries)."""
    return answer_rows(version_sections(response.version), response.answers or {})
