"""Serializers shape API input and output; every rule is checked by the services they feed."""

from onboarding.api.serializers.clusters import ClusterSerializer
from onboarding.api.serializers.teams import TeamSerializer
from onboarding.api.serializers.topics import (
    AttemptSerializer,
    ImportSerializer,
    ObservedTopicSerializer,
    TopicCreateSerializer,
    TopicDeleteSerializer,
    TopicSerializer,
    TopicUpdateSerializer,
)

__all__ = [
    "AttemptSerializer", "ClusterSerializer", "ImportSerializer", "ObservedTopicSerializer", "TeamSerializer",
    "TopicCreateSerializer", "TopicDeleteSerializer", "TopicSerializer", "TopicUpdateSerializer",
]
