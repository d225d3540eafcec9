from django.urls import include, path

app_name = "surveys"

urlpatterns = [
    # Instruments, versions, questions and the respondent preview.
    path("instruments/", include("surveys.urls_instruments")),
    # Each programme's schedule, the waves and their invitations and reminders.
    path("schedule/", include("surveys.urls_schedule")),
    # Paper copies, imported responses, and responses a mentee shared with their mentor.
    path("responses/", include("surveys.urls_responses")),
    # Personal QR codes for printed packs, and the programme's poster.
    path("qr/", include("surveys.urls_qr")),
]
