"""The admin reads as English and offers no "Add" where rows only come from the platforms."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

pytestmark = pytest.mark.django_db

OURS = {"workspaces", "social", "tokens", "publishing", "analytics", "conversations", "sandbox", "unipulse"}


def our_models():
    return [model for model in apps.get_models() if model._meta.app_label in OURS]


@pytest.mark.parametrize("label, singular, plural", [
    ("analytics.AccountMetrics", "account metrics", "account metrics"),
    ("sandbox.TikTokCreator", "TikTok creator", "TikTok creators"),
    ("sandbox.FacebookUser", "Facebook user", "Facebook users"),
    ("sandbox.Page", "Facebook Page", "Facebook Pages"),
    ("sandbox.InstagramAccount", "Instagram account", "Instagram accounts"),
    ("social.OAuthState", "OAuth state", "OAuth states"),
    ("publishing.PostMedia", "media item", "media items"),
])
def test_models_named_from_their_class_name_have_english_names(label, singular, plural):
    meta = apps.get_model(label)._meta
    assert (str(meta.verbose_name), str(meta.verbose_name_plural)) == (singular, plural)


def test_no_model_keeps_a_name_split_from_its_class_name_or_a_doubled_plural():
    for model in our_models():
        names = f"{model._meta.verbose_name} | {model._meta.verbose_name_plural}".lower()
        assert not any(bad in names for bad in ("tik tok", "o auth", "metricss", "medias")), model._meta.label
        assert not str(model._meta.verbose_name_plural).endswith("ss"), model._meta.label


FROM_PLATFORMS = ["/admin/social/socialaccount/", "/admin/conversations/message/",
                  "/admin/conversations/conversation/", "/admin/conversations/webhookevent/",
                  "/admin/conversations/inboxsyncstate/", "/admin/analytics/trackedpost/",
                  "/admin/analytics/accountmetrics/", "/admin/analytics/syncrun/"]


@pytest.mark.parametrize("path", FROM_PLATFORMS)
def test_a_changelist_of_rows_from_the_platforms_has_no_add_link(staff, path):
    response = staff.get(path)
    assert response.status_code == 200
    assert f'href="{path}add/"' not in response.content.decode()
    assert staff.get(f"{path}add/").status_code == 403


def test_a_changelist_of_rows_made_here_keeps_its_add_link(staff):
    # The check above can see an add link: the workspace list, whose rows an admin may create, has one.
    assert 'href="/admin/workspaces/workspace/add/"' in staff.get("/admin/workspaces/workspace/").content.decode()


def test_the_admin_index_offers_no_add_for_rows_from_the_platforms(staff):
    html = staff.get("/admin/").content.decode()
    for path in FROM_PLATFORMS:
        assert f'href="{path}add/"' not in html
    assert all(path.rsplit("/", 2)[-2] in {m._meta.model_name for m in admin.site._registry} for path in FROM_PLATFORMS)


def test_the_admin_gives_the_lists_the_whole_width(staff):
    # No app list beside the pages: at 1366 px it took 300 px the account list needs (tests/e2e measures).
    html = staff.get("/admin/social/socialaccount/").content.decode()
    assert 'id="nav-sidebar"' not in html
    assert "#changelist #result_list td.nowrap { white-space: normal; }" in html
