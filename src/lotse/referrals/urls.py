from django.urls import path

from . import views, views_career_rules, views_careers

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/send/", views.referral_send, name="send"),
    path("<int:pk>/withdraw/", views.referral_withdraw, name="withdraw"),
    path("<int:pk>/accept/", views.referral_accept, name="accept"),
    path("<int:pk>/waitlist/", views.referral_waitlist, name="waitlist"),
    path("<int:pk>/reject/", views.referral_reject, name="reject"),
    path("<int:pk>/start/", views.participation_start, name="start"),
    path("cases/<int:case_pk>/new/", views.referral_new, name="new"),
    path("cases/<int:case_pk>/chain/", views.chain, name="chain"),
    path(
        "cases/<int:case_pk>/participations/new/", views.participation_new, name="participation_new"
    ),
    path("participations/<int:pk>/attendance/", views.participation_attendance, name="attendance"),
    path("participations/<int:pk>/end/", views.participation_end, name="end"),
    path("careers/", views_careers.career_flags, name="career_flags"),
    path("careers/overview/", views_careers.career_overview, name="career_overview"),
    path("careers/<int:pk>/", views_careers.career_flag, name="career_flag"),
    path(
        "careers/<int:pk>/resolve/",
        views_careers.career_flag_resolve_view,
        name="career_flag_resolve",
    ),
    path("careers/rules/", views_career_rules.career_rules, name="career_rules"),
    path(
        "careers/rules/<slug:code>/", views_career_rules.career_rule_edit, name="career_rule_edit"
    ),
]
