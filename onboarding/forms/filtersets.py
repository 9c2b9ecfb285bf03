"""How the topic list page draws its filters: selects offering only values that exist for this user.

The filtering itself is ``filtersets.TopicFilterSet``, the one the API uses too; this form only presents
its fields. Its choices are plain lists filled here, not model choices: a model choice field counts its
rows and then reads them through a server-side cursor, four round trips for two short lists on every
keystroke's request.
"""

from __future__ import annotations

from django import forms
from django.db.models import Func, QuerySet

from onboarding.models import Cluster, ResourceStatus, Team


class TopicFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    team = forms.ChoiceField(required=False, label="Team")
    cluster = forms.ChoiceField(required=False, label="Cluster")
    status = forms.ChoiceField(required=False, label="Status", choices=[("", "Any status"), *ResourceStatus.choices])
    tag = forms.ChoiceField(required=False, label="Tag")

    def __init__(self, data=None, *, topics: QuerySet):
        super().__init__(data)
        # Offer only tags that exist on topics this user can see: others would always give nothing.
        tags = topics.order_by().annotate(tag=Func("tags", function="unnest")).values_list("tag", flat=True).distinct()
        self.fields["tag"].choices = [("", "Any tag"), *((t, t) for t in sorted(set(tags)))]
        self.fields["team"].choices = [("", "All teams"),
                                       *((slug, slug) for slug in Team.objects.values_list("slug", flat=True))]
        clusters = Cluster.objects.values_list("name", "environment")
        self.fields["cluster"].choices = [("", "All clusters"),
                                          *((name, f"{name} ({environment})") for name, environment in clusters)]
