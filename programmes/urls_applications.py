from django.urls import path

from . import views_applications as views

urlpatterns = [
    path(
        "<int:programme_pk>/applications/",
        views.application_list,
        name="application_list",
    ),
    path(
        "<int:programme_pk>/applications/<int:pk>/",
        views.application_detail,
        name="application_detail",
    ),
    path(
        "<int:programme_pk>/applications/<int:pk>/decide/",
        views.application_decide,
        name="application_decide",
    ),
]
