from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.home, name="home"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/new/", views.topic_create_view, name="topic_create"),
    path("topics/validate/", views.topic_validate, name="topic_validate"),
    path("topics/<int:pk>/", views.topic_detail, name="topic_detail"),
    path("topics/<int:pk>/edit/", views.topic_edit_view, name="topic_edit"),
    path("topics/<int:pk>/edit/validate/", views.topic_edit_validate, name="topic_edit_validate"),
    path("topics/<int:pk>/delete/", views.topic_delete_view, name="topic_delete"),
    path("topics/<int:pk>/revert/", views.topic_revert_view, name="topic_revert"),
    path("topics/<int:pk>/adopt/", views.topic_adopt_view, name="topic_adopt"),
    path("topics/<int:pk>/schemas/<str:side>/", views.schema_page, name="schema_page"),
    path("topics/<int:pk>/schemas/<str:side>/check/", views.schema_check_view, name="schema_check"),
    path("topics/<int:pk>/schemas/<str:side>/compare/", views.schema_compare_view, name="schema_compare"),
    path("topics/<int:pk>/schemas/<str:side>/compatibility/", views.schema_compatibility_view,
         name="schema_compatibility"),
    path("topics/<int:pk>/schemas/<str:side>/try/", views.schema_event_view, name="schema_event"),
    path("import/", views.import_view, name="import"),
]
