"""Survey instruments (organisation admin edits, evaluators read) and the respondent's
public pages.

Every programme gets the default instruments when it is made, so the home side uses
``cast.programme``'s mentee starter survey and the other side ``cast.other_programme``'s.
"""

from django_scopes import scopes_disabled

from . import Case

READERS = ("owner", "evaluator")
_INSTRUMENTS = "tests/test_survey_instruments.py::"
_RESPOND = "tests/test_survey_respond.py::"


def instrument(cast, side):
    from surveys.models import Instrument

    programme = cast.programme if side == "home" else cast.other_programme
    with scopes_disabled():
        record = Instrument.objects.get(programme=programme, kind=Instrument.Kind.MENTEE_STARTER)
    return {"pk": record.pk}


def version(cast, side):
    return {**instrument(cast, side), "number": 1}


def section(cast, side):
    from surveys.models import Section

    kwargs = instrument(cast, side)
    with scopes_disabled():
        record = Section.objects.filter(version__instrument_id=kwargs["pk"]).order_by("pk").first()
    return {**kwargs, "section_pk": record.pk}


def question(cast, side):
    from surveys.models import Question

    kwargs = instrument(cast, side)
    with scopes_disabled():
        record = (
            Question.objects.filter(section__version__instrument_id=kwargs["pk"])
            .order_by("pk")
            .first()
        )
    return {**kwargs, "question_pk": record.pk}


CASES = {
    "surveys:instrument_list": Case(READERS),
    "surveys:instrument_detail": Case(READERS, instrument),
    "surveys:instrument_version": Case(READERS, version),
    "surveys:instrument_preview": Case(READERS, version),
    "surveys:instrument_edit": Case(("owner",), instrument),
    "surveys:section_add": Case(("owner",), instrument),
    "surveys:section_edit": Case(("owner",), section),
    "surveys:section_delete": Case(("owner",), section),
    "surveys:question_add": Case(("owner",), section),
    "surveys:question_edit": Case(("owner",), question),
    "surveys:question_delete": Case(("owner",), question),
}

PUBLIC_URLS = {
    "survey_public:respond_token": _RESPOND
    + "test_link_moves_into_the_session_and_redirects_to_a_url_without_the_token",
    "survey_public:respond_new_link": _RESPOND
    + "test_expired_link_reopens_the_survey_and_emails_a_fresh_link_that_works",
    "survey_public:respond_ask_link": _RESPOND
    + "test_wrong_link_asks_for_the_address_and_answers_the_same_whether_known_or_not",
    "survey_public:respond": _RESPOND + "test_invitation_pages_need_the_session_not_just_the_id",
    "survey_public:respond_page": _RESPOND
    + "test_answers_are_saved_page_by_page_and_kept_going_back",
    "survey_public:respond_finish": _RESPOND
    + "test_mentee_chooses_to_share_sees_the_pseudonym_and_submits",
    "survey_public:respond_done": _RESPOND
    + "test_mentee_chooses_to_share_sees_the_pseudonym_and_submits",
    "survey_public:respond_session_new_link": _RESPOND
    + "test_survey_expiring_while_open_offers_a_fresh_link",
}
