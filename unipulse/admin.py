"""Background tasks in the admin: django-dramatiq's task list, plus 'send again' for failed ones."""

import dramatiq
from django.contrib import admin, messages
from django_dramatiq.admin import TaskAdmin
from django_dramatiq.models import Task

admin.site.unregister(Task)
# The app list beside every page takes 300 px of a 1366 px screen, which the main lists need (the
# index and the breadcrumbs lead to every list).
admin.site.enable_nav_sidebar = False


@admin.register(Task)
class BackgroundTaskAdmin(TaskAdmin):
    actions = ["send_again"]

    @admin.action(description="Send again (failed or skipped tasks)")
    def send_again(self, request, queryset):
        broker = dramatiq.get_broker()
        sent = 0
        for task in queryset.filter(status__in=[Task.STATUS_FAILED, Task.STATUS_SKIPPED]):
            old = task.message
            # A fresh message (new id, no retry count): the same actor and arguments, from the start.
            broker.enqueue(dramatiq.Message(queue_name=old.queue_name, actor_name=old.actor_name,
                                            args=old.args, kwargs=old.kwargs, options={}))
            sent += 1
        self.message_user(request, f"Sent {sent} task(s) again.", messages.SUCCESS)
