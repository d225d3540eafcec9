from django.urls import path

from . import views_qr as views

urlpatterns = [
    # Personal codes for mentees' printed packs: the list per programme, one pack, and
    # its downloads (POST with a short-lived ticket; see surveys/qr.py).
    path("programmes/<int:pk>/", views.qr_list, name="qr_list"),
    path("invitations/<int:pk>/", views.qr_pack, name="qr_pack"),
    path("invitations/<int:pk>/png/", views.qr_png, name="qr_png"),
    path("invitations/<int:pk>/svg/", views.qr_svg, name="qr_svg"),
    path("invitations/<int:pk>/pdf/", views.qr_pdf, name="qr_pdf"),
    # The programme's poster code; ``?download=pdf|png|svg`` gives the files.
    path("programmes/<int:pk>/poster/", views.poster, name="poster"),
]
