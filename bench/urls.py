from django.urls import path

from bench import views
from config.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/hello", views.hello),
    path("bench/fifty-rows", views.fifty_rows),
    *product_urlpatterns,
]
