from django.urls import path

from . import views_applications as views

# The slug is not called "organisation_slug": the organisation middleware would then
# demand sign-in and membership, and this page is for people who have neither.
urlpatterns = [
    path("<slug:org_slug>/<int:programme_pk>/", views.apply, name="apply"),
]
