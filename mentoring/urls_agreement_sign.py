from django.urls import path

from . import views_agreements as views

# Outside /o/<slug>/: a mentee without an account signs through an e-mailed link.
urlpatterns = [
    path("sign/<str:token>/", views.agreement_sign_link, name="agreement_sign_link"),
    path("sign/<str:token>/new-link/", views.agreement_new_link, name="agreement_new_link"),
]
