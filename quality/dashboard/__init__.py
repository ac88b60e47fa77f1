"""The project dashboard: progress, labels, agreement, HLP vs model, active learning, ingress and data problems."""
