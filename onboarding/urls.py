from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue_view, name="catalogue"),
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
    path("topics/<int:pk>/subscribe/", views.subscribe_view, name="subscribe"),
    path("access/", views.access_view, name="access"),
    path("subscriptions/filter-test/", views.filter_test_view, name="filter_test"),
    path("subscriptions/<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("subscriptions/<int:pk>/approve/", views.subscription_approve_view, name="subscription_approve"),
    path("subscriptions/<int:pk>/reject/", views.subscription_reject_view, name="subscription_reject"),
    path("subscriptions/<int:pk>/revoke/", views.subscription_revoke_view, name="subscription_revoke"),
    path("subscriptions/<int:pk>/filter/", views.subscription_filter_view, name="subscription_filter"),
    path("teams/<slug:slug>/service-accounts/", views.service_account_list, name="service_accounts"),
    path("service-accounts/<int:pk>/rotate/", views.service_account_rotate_view, name="service_account_rotate"),
    path("service-accounts/<int:pk>/delete/", views.service_account_delete_view, name="service_account_delete"),
    path("import/", views.import_view, name="import"),
]
