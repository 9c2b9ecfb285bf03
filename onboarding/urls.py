from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.home, name="home"),
]
