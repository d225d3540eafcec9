from django.urls import path

from . import views_agreements as views

urlpatterns = [
    path("<int:pk>/agreement/", views.agreement_detail, name="agreement_detail"),
    path("<int:pk>/agreement/edit/", views.agreement_edit, name="agreement_edit"),
    path("<int:pk>/agreement/send/", views.agreement_send, name="agreement_send"),
    path("<int:pk>/agreement/sign/", views.agreement_sign, name="agreement_sign"),
    path(
        "<int:pk>/agreement/versions/<int:version>/",
        views.agreement_version,
        name="agreement_version",
    ),
    path(
        "<int:pk>/agreement/versions/<int:version>/pdf/",
        views.agreement_pdf,
        name="agreement_pdf",
    ),
    path("<int:pk>/goals/<int:goal_pk>/", views.goal_detail, name="goal_detail"),
]
