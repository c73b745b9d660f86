urlpatterns: list = []  # filled by the consent-form work (issue #3)
