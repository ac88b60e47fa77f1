"""The kinds of job the annotation app runs (the values rows store)."""

from core.job_kinds import register_job_kind

SELFTEST_JOB = register_job_kind("selftest", "Self-test")
