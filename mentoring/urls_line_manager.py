from django.urls import path

from . import views_capability as views

# A line manager has no account: the single-use token in the link is what lets them in.
urlpatterns = [
    path("<str:token>/", views.line_manager_priorities, name="line_manager_priorities"),
]
