from django.urls import path

from onboarding.history import views

app_name = "history"

urlpatterns = [
    path("teams/<slug:slug>/audit/", views.team_history, name="team"),
    path("audit/<str:resource_type>/<int:resource_id>/", views.resource_history, name="resource"),
]
