from django.urls import path

from sources import views

app_name = "sources"

urlpatterns = [
    path("sources/<int:pk>/settings/", views.source_update, name="source-update"),
    path("sources/<int:pk>/tokens/", views.token_list, name="token-list"),
    path("sources/<int:pk>/tokens/<int:token_pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("households/<int:household_pk>/sources/new/", views.source_create, name="source-create"),
]
