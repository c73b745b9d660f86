from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.register, name="register"),
    path("guides/", views.guides, name="guides"),
    path("guides/<int:guide_pk>/questions/new/", views.question_edit, name="question_new"),
    path(
        "guides/<int:guide_pk>/questions/<int:question_pk>/",
        views.question_edit,
        name="question_edit",
    ),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/person/", views.person_edit, name="person_edit"),
    path("<int:pk>/residence/new/", views.residence_new, name="residence_new"),
    path(
        "<int:pk>/residence/<int:entry_pk>/correct/",
        views.residence_correct,
        name="residence_correct",
    ),
    path("<int:pk>/benefits/new/", views.benefit_new, name="benefit_new"),
    path(
        "<int:pk>/benefits/<int:entry_pk>/correct/", views.benefit_correct, name="benefit_correct"
    ),
    path("<int:pk>/phase/", views.phase, name="phase"),
    path("<int:pk>/household/", views.household, name="household"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/team/add/", views.team_add, name="team_add"),
    path("<int:pk>/team/<int:member_pk>/remove/", views.team_remove, name="team_remove"),
    path("<int:pk>/intake/new/", views.intake_new, name="intake_new"),
    path("<int:pk>/assessments/new/", views.assessment_new, name="assessment_new"),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/items/new/",
        views.assessment_item_new,
        name="assessment_item_new",
    ),
    path("<int:pk>/needs/<int:item_pk>/status/", views.need_status, name="need_status"),
    path("<int:pk>/plan/goals/new/", views.goal_new, name="goal_new"),
    path("<int:pk>/plan/goals/<int:goal_pk>/status/", views.goal_status, name="goal_status"),
    path("<int:pk>/plan/goals/<int:goal_pk>/steps/new/", views.step_new, name="step_new"),
    path("<int:pk>/plan/steps/<int:step_pk>/status/", views.step_status, name="step_status"),
    path("<int:pk>/plan/agree/", views.plan_agree, name="plan_agree"),
    path("<int:pk>/plan/print/", views.plan_print, name="plan_print"),
    path("<int:pk>/plan/versions/<int:number>/", views.plan_print, name="plan_version"),
    path("<int:pk>/appointments/new/", views.appointment_new, name="appointment_new"),
    path(
        "<int:pk>/appointments/<int:appointment_pk>/",
        views.appointment_edit,
        name="appointment_edit",
    ),
    path("<int:pk>/notes/new/", views.note_new, name="note_new"),
    path("<int:pk>/documents/new/", views.document_upload, name="document_upload"),
    path(
        "<int:pk>/documents/<int:document_pk>/", views.document_download, name="document_download"
    ),
    path("<int:pk>/followups/new/", views.followup_new, name="followup_new"),
    path("<int:pk>/followups/<int:followup_pk>/done/", views.followup_done, name="followup_done"),
]
