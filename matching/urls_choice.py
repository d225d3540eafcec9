from django.urls import path

from . import views_choice as views

urlpatterns = [
    # Mentee choice: a mentee browses mentors with places and asks one; the mentor answers.
    path("", views.choose_mentor, name="choose_mentor"),
    path("mentors/<int:pk>/", views.choose_mentor_profile, name="choose_mentor_profile"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/answer/", views.request_answer, name="request_answer"),
    # Hybrid: shortlists offered by an admin or lead nurse, a mentor picked by the mentee.
    path("shortlists/", views.shortlist_admin, name="shortlist_admin"),
    path("shortlists/offer/<int:pk>/", views.shortlist_offer, name="shortlist_offer"),
    path("shortlist/", views.my_shortlist, name="my_shortlist"),
    path("shortlist/<int:pk>/choose/", views.shortlist_choose, name="shortlist_choose"),
]
