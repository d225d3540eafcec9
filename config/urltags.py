"""Django's ``{% url %}`` tag, remembering its answers.

Django's tag reverses the URL every time it renders, about a tenth of a millisecond
each; a list with links on every row spends much of its time there. This tag is
parsed as Django's is and gives the same answers, remembering them when the view is
named by a string and every argument is a string or a whole number: then the answer
depends only on those, the URLconf and the script prefix, all part of what is
remembered. Anything else (a model instance as an argument, say) is reversed as
Django does. It is a template builtin (TEMPLATES in config/settings/base.py), so it
stands in for Django's tag in every template without a ``{% load %}``.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()


@lru_cache(maxsize=16384)
def remembered_reverse(view_name, args, kwargs, current_app, urlconf, script_prefix) -> str:
    # script_prefix is not passed on: reverse() reads it itself; it is part of the key.
    return reverse(
        view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


def _plain(value) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


class RememberedURLNode(URLNode):
    def render(self, context):
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        if not (_plain(view_name) and all(map(_plain, (*args, *kwargs.values())))):
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = remembered_reverse(
                view_name,
                tuple(str(a) if isinstance(a, str) else a for a in args),
                tuple(sorted(kwargs.items())),
                current_app,
                get_urlconf(),
                get_script_prefix(),
            )
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """``{% url %}`` exactly as Django parses it."""
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
