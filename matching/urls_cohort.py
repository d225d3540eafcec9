from django.urls import path

from . import views_cohort as views

urlpatterns = [
    path("", views.cohort_list, name="cohort_list"),
    path("<int:pk>/", views.cohort_detail, name="cohort_detail"),
    path("drafts/<int:pk>/", views.draft_detail, name="draft_detail"),
    path("drafts/<int:pk>/add/", views.draft_pair_add, name="draft_pair_add"),
    path("drafts/<int:pk>/publish/", views.draft_publish, name="draft_publish"),
    path("drafts/<int:pk>/discard/", views.draft_discard, name="draft_discard"),
    path("drafts/pairs/<int:pk>/remove/", views.draft_pair_remove, name="draft_pair_remove"),
    path("drafts/pairs/<int:pk>/swap/", views.draft_pair_swap, name="draft_pair_swap"),
    path("drafts/pairs/<int:pk>/coi/", views.draft_pair_coi, name="draft_pair_coi"),
]
