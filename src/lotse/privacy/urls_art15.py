urlpatterns: list = []  # filled by the Art. 15 report work (issue #3)
