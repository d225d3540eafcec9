from django.urls import include, path

app_name = "mentoring"

urlpatterns = [
    path("", include("mentoring.urls_intake")),
    path("import/", include("mentoring.urls_import")),
    path("people/", include("mentoring.urls_people")),
    path("relationships/", include("mentoring.urls_relationships")),
]
