"""The {% url %} tag that remembers its answers (config/urltags.py) answers as Django's
does: the same URLs, the same errors, ``as`` and escaping, and model instances as
arguments reversed afresh."""

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import engines
from django.urls import NoReverseMatch, reverse

from config.urltags import remembered_reverse

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def django_render(source: str, **context) -> str:
    """The same template under Django's own tag."""
    return Template(source, engine=Engine(libraries={})).render(Context(context))


def test_it_stands_in_for_djangos_tag_in_every_template():
    template = engines["django"].from_string("{% url 'home' %}")
    node = template.template.nodelist[0]
    assert type(node).__name__ == "RememberedURLNode"


@pytest.mark.parametrize(
    "source",
    [
        "{% url 'home' %}",
        "{% url 'programmes:home' slug %}",
        "{% url 'mentoring:mentee_detail' slug 42 %}",
        "{% url 'mentoring:mentee_detail' organisation_slug=slug pk=42 %}",
        "{% url 'mentoring:mentee_detail' slug '42' %}",
    ],
)
def test_it_gives_djangos_answers_the_first_time_and_after(source):
    expected = django_render(source, slug="home-alliance")
    assert render(source, slug="home-alliance") == expected
    assert render(source, slug="home-alliance") == expected
    assert render(source, slug="other") == django_render(source, slug="other")


def test_it_remembers_answers_for_plain_arguments():
    remembered_reverse.cache_clear()
    for _ in range(3):
        render("{% url 'programmes:home' slug %}", slug="home")
    info = remembered_reverse.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_model_instance_as_an_argument_is_reversed_as_django_does(cast):
    remembered_reverse.cache_clear()
    rendered = render("{% url 'programmes:home' org %}", org=cast.org.slug)
    assert rendered == reverse("programmes:home", args=[cast.org.slug])
    # An object other than a string or a number is never remembered.
    with pytest.raises(NoReverseMatch):
        render("{% url 'mentoring:mentee_detail' org mentee %}", org=cast.org.slug, mentee=cast.org)
    assert remembered_reverse.cache_info().currsize == 1


def test_a_url_that_does_not_reverse_still_fails_and_is_not_remembered():
    remembered_reverse.cache_clear()
    with pytest.raises(NoReverseMatch):
        render("{% url 'mentoring:mentee_detail' 'home' 'not-a-number' %}")
    assert remembered_reverse.cache_info().currsize == 0


def test_as_sets_a_variable_and_swallows_a_failure():
    assert render("{% url 'home' as link %}[{{ link }}]") == f"[{reverse('home')}]"
    assert render("{% url 'no-such-view' as link %}[{{ link }}]") == "[]"


def test_it_is_escaped_as_djangos_is():
    source = "{% url 'agreement_sign_link' token %}"
    rendered = render(source, token="a&b")
    assert "&amp;" in rendered
    assert rendered == django_render(source, token="a&b")
    with_autoescape_off = "{% autoescape off %}" + source + "{% endautoescape %}"
    assert render(with_autoescape_off, token="a&b") == django_render(
        with_autoescape_off, token="a&b"
    )


def test_it_is_parsed_as_djangos_is():
    with pytest.raises(TemplateSyntaxError):
        render("{% url %}")
