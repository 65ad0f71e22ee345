"""Services: the operations every view shares (CLI, API, dashboard, report), over a workspace.

Each function takes a workspace (``ws``) and plain arguments or a request model, calls the
domains, and returns library results or plain rows; errors are domain errors (ValueError
subclasses) or :class:`~chipwatch.services.errors.ChoiceError`, which each view turns into its
own form (exit code 2, 4xx JSON, a message on the page). No module here imports a view.
"""
