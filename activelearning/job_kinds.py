"""The kind of job the activelearning app runs (the value rows store)."""

from core.job_kinds import register_job_kind

TRAIN_JOB = register_job_kind("train", "Model training and scoring")
