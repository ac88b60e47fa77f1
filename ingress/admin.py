from django.contrib import admin

from ingress.models import ImportBatch

admin.site.register(ImportBatch)
