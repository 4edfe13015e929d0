from django.urls import path

from readings import views

app_name = "readings"

urlpatterns = [
    path("", views.home, name="home"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("sources/<int:source_pk>/readings/new/", views.reading_create, name="reading-create"),
    path("sources/<int:source_pk>/readings/import/", views.reading_import, name="reading-import"),
    path("sources/<int:source_pk>/chart.svg", views.usage_chart, name="usage-chart"),
    path("readings/<uuid:pk>/", views.reading_update, name="reading-update"),
    path("readings/<uuid:pk>/delete/", views.reading_delete, name="reading-delete"),
]
