from django.contrib import admin

from core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "project", "status", "progress", "created_at", "finished_at")
    list_filter = ("kind", "status")
