"""The rule set page (written by the helper; placeholder until then)."""

from django.http import HttpRequest, HttpResponse

from lotse.core.views import actor_required


@actor_required(None)
def rules(request: HttpRequest) -> HttpResponse:  # replaced by the helper
    return HttpResponse("")
