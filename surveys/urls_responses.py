from django.urls import path

from . import views_responses as views

urlpatterns = [
    # Paper copies: the open invitations, then one survey typed in.
    path("paper/", views.paper_list, name="paper_list"),
    path("paper/<int:pk>/", views.paper_entry, name="paper_entry"),
    # Importing a CSV export: upload, match the columns, check and import.
    path("import/", views.import_upload, name="import_upload"),
    path("import/columns/", views.import_map, name="import_map"),
    path("import/check/", views.import_preview, name="import_preview"),
    # A mentor's view of the responses their mentee shared with them.
    path("shared/<int:pk>/", views.shared_responses, name="shared_responses"),
    path("shared/<int:pk>/<int:response_pk>/", views.shared_response, name="shared_response"),
]
