from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "lotse.analytics"
    label = "analytics"
    verbose_name = "Analytics and reporting"
