from django.urls import path

from . import views_stages

urlpatterns = [
    path("<int:pk>/stage/move/", views_stages.stage_move, name="stage_move"),
    path("<int:pk>/stage/<slug:item>/done/", views_stages.stage_tick, name="stage_tick"),
    path("<int:pk>/close/", views_stages.relationship_close, name="relationship_close"),
]
