"""Import topics that already exist on a cluster: the operator picks them and the owning team."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from onboarding.admin.common import REFUSALS, VIA, refusal_text
from onboarding.models import Team
from onboarding.platform.errors import PlatformError
from onboarding.services.imports import registry_subjects_for, topics_import, unmanaged_topics

TEMPLATE = "admin/onboarding/cluster/import_topics.html"


class ImportForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), help_text="The team that will own the topics.")
    names = forms.MultipleChoiceField(label="Topics", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, topics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["names"].choices = [(topic.name, topic.name) for topic in topics]


def _listing(cluster) -> tuple[list, str]:
    """The unmanaged topics, or the reason they cannot be listed (an unreachable broker is not a 500)."""
    try:
        return unmanaged_topics(cluster), ""
    except PlatformError as exc:
        return [], exc.message


def _subjects(cluster, topics) -> dict[str, list[str]]:
    """Which sides of each listed topic have registry subjects (imported along); {} if the registry is away."""
    try:
        return registry_subjects_for(cluster, [topic.name for topic in topics])
    except PlatformError:
        return {}


def import_topics_view(model_admin, request, object_id):
    cluster = model_admin.get_object(request, unquote(object_id))
    if cluster is None:
        raise Http404("No such cluster.")
    if not model_admin.has_change_permission(request, cluster):
        raise PermissionDenied
    topics, problem = _listing(cluster)
    subjects = _subjects(cluster, topics) if topics else {}
    form = ImportForm(request.POST if request.method == "POST" else None, topics=topics)
    if form.is_bound and not problem and form.is_valid():
        team = form.cleaned_data["team"]
        try:
            imported = topics_import(actor=request.user, cluster=cluster, team=team,
                                     names=form.cleaned_data["names"], via=VIA)
        except PlatformError as exc:
            problem = exc.message
        except REFUSALS as exc:
            form.add_error(None, refusal_text(exc))
        else:
            model_admin.message_user(request, f"Imported {len(imported)} topic(s) and {len(imported.schemas)} "
                                              f"schema(s) for {team}.", messages.SUCCESS)
            if imported.registry_problem:
                model_admin.message_user(request, "The topics' registry subjects were not imported: "
                                                  f"{imported.registry_problem}", messages.WARNING)
            query = urlencode({"cluster__id__exact": cluster.pk, "team__id__exact": team.pk})
            return HttpResponseRedirect(f"{reverse('admin:onboarding_topic_changelist')}?{query}")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Import topics from {cluster}",
        "opts": cluster._meta,
        "original": cluster,
        "cluster": cluster,
        "topics": topics,
        # (topic, sides with a registry subject): the template cannot look a name up in a dict.
        "rows": [(topic, subjects.get(topic.name, [])) for topic in topics],
        "problem": problem,
        "form": form,
        "checked": set(form["names"].value() or ()),
    }
    return TemplateResponse(request, TEMPLATE, context)
