from django import template

from kinds.registry import item_media, kind_for

register = template.Library()


@register.filter
def media_of(project) -> str:
    """``text``, ``image`` or ``audio``: what the project's items are (its kind's ``media``), so a page words its
    help for the items it takes without naming task types."""
    return item_media(project)


@register.filter
def import_note(project) -> str:
    """What else a zip import of the project's kind takes beside its media (its ``TaskKind.import_note``)."""
    return kind_for(project).import_note
