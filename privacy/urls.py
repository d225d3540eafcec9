from django.urls import path, register_converter

from . import views

app_name = "privacy"


class SubjectKind:
    """A person with an account, or a mentee without one."""

    regex = "person|mentee"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SubjectKind, "subject_kind")

urlpatterns = [
    path("", views.index, name="index"),
    path("<subject_kind:kind>/<int:pk>/", views.person, name="person"),
    path("<subject_kind:kind>/<int:pk>/erase/", views.erase, name="erase"),
    path("<subject_kind:kind>/<int:pk>/access.json", views.access_json, name="access_json"),
    path("<subject_kind:kind>/<int:pk>/access.pdf", views.access_pdf, name="access_pdf"),
]
