"""The only code that changes desired state. Views, API, admin actions and tasks call these."""
