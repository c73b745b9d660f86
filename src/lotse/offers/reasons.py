"""Sentences for the reasons of a match ("passt, weil …", "ausgeschlossen, weil …")."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lotse.core.models import NeedType
from lotse.eligibility import labels as elig_labels
from lotse.people.codes import ResidenceStatus

from .matching import Reason


def reason_text(r: Reason, need_names: dict[int, str]) -> str:
    p = r.params
    if r.code == "need":
        return _("answers the open need “%(need)s”") % {
            "need": need_names.get(int(p["need_type_id"]), "?")  # type: ignore[call-overload]
        }
    if r.code == "legal":
        if not r.fit and "result" not in p:
            return _("excluded by law (%(citation)s)") % {"citation": p.get("citation") or "–"}
        result = str(p["result"])
        if result == "unknown":
            missing = ", ".join(
                str(elig_labels.FACT_LABELS.get(str(m), m))
                for m in p.get("missing") or ()  # type: ignore[attr-defined]
            )
            if missing:
                return _("legal access cannot be decided without: %(facts)s") % {"facts": missing}
            return _("legal access cannot be decided from the recorded facts")
        return _("legal access: %(result)s (%(citation)s)") % {
            "result": elig_labels.RESULT_LABELS[result],
            "citation": p.get("citation") or "–",
        }
    if r.code == "unavailable":
        return _("not available in practice: %(note)s") % {"note": p.get("note", "")}
    if r.code == "status":
        status = str(p["status"])
        return _("the offer does not admit the residence status “%(status)s”") % {
            "status": ResidenceStatus(status).label if status in ResidenceStatus.values else status
        }
    if r.code == "age":
        return _("age %(age)s is outside the offer's age range (%(min)s–%(max)s)") % {
            "age": p["age"],
            "min": p["min"] if p["min"] is not None else "",
            "max": p["max"] if p["max"] is not None else "",
        }
    if r.code == "german":
        return _("needs German %(min)s; recorded: %(have)s") % {"min": p["min"], "have": p["have"]}
    if r.code == "german_unknown":
        return _("needs German %(min)s; the person's German level is not recorded") % {
            "min": p["min"]
        }
    if r.code == "district":
        return _("in the person's district")
    if r.code == "full":
        return _("no free place at present: waiting list")
    if r.code == "free":
        return _("%(n)s free places") % {"n": p["free"]}
    if r.code == "starts_soon":
        return _("starts on %(day)s") % {"day": date_format(p["on"], "d.m.Y")}  # type: ignore[arg-type]
    if r.code == "running":
        return _("running, entry possible")
    return r.code


def need_names(reasons: list[tuple[Reason, ...]]) -> dict[int, str]:
    ids = {int(r.params["need_type_id"]) for rs in reasons for r in rs if r.code == "need"}  # type: ignore[call-overload]
    return dict(NeedType.objects.filter(pk__in=ids).values_list("pk", "name"))
