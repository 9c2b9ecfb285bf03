from django.db import models

from onboarding.choices import ResourceStatus


class Reconciled(models.Model):
    """Desired state that a reconciler applies: status, generations, drift, backoff and claim.

    ``generation`` grows with every change of desired state; ``observed_generation`` is the
    generation last applied successfully, so the two differ while work is outstanding.
    ``observed`` holds what the real system reported at the last check, for the drift diff.
    """

    status = models.CharField(max_length=10, choices=ResourceStatus.choices, default=ResourceStatus.PENDING,
                              db_index=True)
    generation = models.PositiveIntegerField(default=1)
    observed_generation = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    observed = models.JSONField(null=True, blank=True, help_text="What the real system had at the last check.")
    drift = models.JSONField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive failed attempts, for the backoff.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delete_requested_at = models.DateTimeField(null=True, blank=True)
    # A reconcile run owns the row while claim_token is set; a stale claim (dead worker) expires.
    claim_token = models.CharField(max_length=40, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_generation = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def bump_generation_in_place(self) -> None:
        """A new generation for an edit the real system never sees (a description, tags, a flag).

        Optimistic concurrency (ETag/If-Match, a change request's base) compares generations, so
        every edit a user can lose must bump it. The reconciler, though, reads ``generation`` against
        ``observed_generation`` and ``claimed_generation`` to find work. What the real system should
        hold is unchanged, so those markers move along with it: an applied row stays applied without
        a call to the cluster, a run that claimed the previous generation still settles it, and
        outstanding work (pending, failed) keeps its place and backoff. Call it on a locked row.
        """
        previous = self.generation
        self.generation = previous + 1
        if self.observed_generation == previous:
            self.observed_generation = self.generation
        if self.claim_token and self.claimed_generation == previous:
            self.claimed_generation = self.generation

    @property
    def wants_deletion(self) -> bool:
        return self.delete_requested_at is not None

    @property
    def is_settling(self) -> bool:
        """True while the reconciler still has work to do, so pages keep refreshing."""
        return self.status in (ResourceStatus.PENDING, ResourceStatus.APPLYING, ResourceStatus.DELETING)
