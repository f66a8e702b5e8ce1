"""The "Sandbox" mark on admin lists whose rows reach a SocialAccount: a filter and a column.

Derived from `SocialAccount.is_sandbox` through the account the list already joins, so neither
adds a query per row. (Webhook events carry their own `is_sandbox`, set at intake.)
"""

from __future__ import annotations

from django.contrib import admin


def sandbox_filter(lookup: str) -> type[admin.SimpleListFilter]:
    """A list filter on `lookup` (e.g. "account__is_sandbox"): sandbox rows only, or real platforms only.

    A lookup through a reverse relation ("targets__account__is_sandbox") means "any of them": the
    matching rows are made distinct, and "real" excludes every row with at least one sandbox match.
    """

    class SandboxFilter(admin.SimpleListFilter):
        title = "sandbox"
        parameter_name = "sandbox"

        def lookups(self, request, model_admin):
            return [("yes", "Sandbox"), ("no", "Real platforms")]

        def queryset(self, request, queryset):
            if self.value() == "yes":
                return queryset.filter(**{lookup: True}).distinct()
            if self.value() == "no":
                return queryset.exclude(**{lookup: True})
            return queryset

    return SandboxFilter


class AccountWithoutTokensMixin:
    """Rows shown with their `account` joined for its name and flags only: the account's tokens are
    deferred, so a list page never decrypts two tokens per row (nor holds them in memory)."""

    def get_queryset(self, request):
        # The admin's own list_select_related too: the changelist skips it once a queryset joins anything.
        related = self.list_select_related if isinstance(self.list_select_related, list | tuple) else ()
        return super().get_queryset(request).select_related("account", *related).defer(
            "account__access_token", "account__refresh_token")


class SandboxColumnMixin(AccountWithoutTokensMixin):
    """An `is_sandbox` column for rows with an `account` (joined without its tokens)."""

    @admin.display(description="Sandbox", boolean=True, ordering="account__is_sandbox")
    def is_sandbox(self, row) -> bool:
        return row.account.is_sandbox
