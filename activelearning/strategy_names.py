"""The sampling strategy names, apart from ``strategies`` (which re-exports them) so that views, API schemas and
service validation can list them without importing scipy at web/worker startup."""

STRATEGIES = ("random", "least_confidence", "margin", "entropy", "bald")
