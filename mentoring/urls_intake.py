from django.urls import path

from . import views

urlpatterns = [
    path("mentees/", views.mentee_queue, name="mentee_queue"),
    path("mentees/new/", views.mentee_create, name="mentee_create"),
    path("mentees/<int:pk>/", views.mentee_detail, name="mentee_detail"),
    path("mentees/<int:pk>/edit/", views.mentee_edit, name="mentee_edit"),
    path("mentees/<int:pk>/priority/", views.mentee_priority, name="mentee_priority"),
    path("mentees/<int:pk>/withdraw/", views.mentee_withdraw, name="mentee_withdraw"),
    path("mentees/<int:pk>/refer-again/", views.mentee_refer_again, name="mentee_refer_again"),
    path("mentors/", views.mentor_list, name="mentor_list"),
    path("mentors/<int:pk>/", views.mentor_detail, name="mentor_detail"),
    path("profile/", views.mentor_profile, name="mentor_profile"),
    path("profile/<int:pk>/edit/", views.mentor_profile_edit, name="mentor_profile_edit"),
]
