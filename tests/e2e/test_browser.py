"""A person in a real browser (Playwright driving Debian's Chromium): log into the admin, connect a
sandbox Facebook Page through the OAuth dialog, approve the post an editor of the workspace wrote, and
see it published once."""

import shutil

import psycopg
import pytest
import requests

from tests.e2e.conftest import new_login
from tests.servers import manage, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def api(stack, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
    return requests.request(method, stack["base"] + path, headers=headers, timeout=30, **kwargs)


def add_editor(stack) -> dict:
    """Turn on approval in the staff user's workspace and invite an editor into it; the editor's headers."""
    workspace = api(stack, "GET", "/api/v1/workspaces/", stack["headers"]).json()[0]["id"]
    assert api(stack, "PATCH", f"/api/v1/workspaces/{workspace}/", stack["headers"],
               json={"approval_required": True}).status_code == 200
    invited = api(stack, "POST", f"/api/v1/workspaces/{workspace}/invitations/", stack["headers"],
                  json={"email": "editor@example.com", "role": "editor"}).json()
    editor = new_login(stack, "browser-editor")
    assert api(stack, "POST", "/api/v1/invitations/accept/", editor, json={"token": invited["token"]}).status_code == 200
    return editor


def test_staff_connects_a_page_approves_an_editors_post_and_sees_it_published(stack, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is needed for the browser test (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(f"{stack['base']}/admin/login/?next=/admin/")
        page.fill("#id_username", stack["username"])
        page.fill("#id_password", stack["password"])
        page.click("input[type=submit]")
        page.wait_for_url(f"{stack['base']}/admin/")

        # The connect button of a frontend is a plain navigation to the OAuth start with the session.
        page.goto(f"{stack['base']}/api/v1/auth/oauth/facebook")
        assert "/sandbox/facebook/" in page.url and page.locator("form").count() == 1
        page.screenshot(path=str(tmp_path / "dialog.png"))
        page.click("button[value=approve]")
        page.wait_for_url(lambda url: url.startswith(stack["frontend"]) and "result=connected" in url)

        page.goto(f"{stack['base']}/admin/social/socialaccount/?platform__exact=facebook")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() >= 2
        assert "Active" in rows.first.inner_text()
        href = page.locator("#result_list tbody tr th a").first.get_attribute("href")  # /admin/.../<id>/change/
        account_id = int(href.split("?")[0].rstrip("/").split("/")[-2])

        editor = add_editor(stack)
        created = api(stack, "POST", "/api/v1/posts/", editor, json={"text": "Seen in the browser", "accounts": [account_id]})
        assert created.status_code == 201, created.text
        post_id = created.json()["id"]
        assert created.json()["targets"][0]["status"] == "pending_approval"

        # The admin approves it from the post list, as staff would.
        page.goto(f"{stack['base']}/admin/publishing/post/?approval__exact=pending")
        page.check(f"#result_list input[name=_selected_action][value='{post_id}']")
        page.select_option("select[name=action]", "approve")
        page.click("button[name=index]")
        page.wait_for_selector("ul.messagelist li.success")
        assert "Approved 1 post(s)." in page.locator("ul.messagelist").inner_text()
        wait_for(lambda: requests.get(f"{stack['base']}/api/v1/posts/{post_id}/", headers=stack["headers"], timeout=30)
                 .json()["targets"][0]["status"] == "published", timeout=60)
        page.goto(f"{stack['base']}/admin/publishing/post/{post_id}/change/")
        assert "Seen in the browser" in page.locator("#id_text").input_value()
        statuses = page.locator("tr.has_original td.field-status")  # the targets inline: one saved row
        assert statuses.count() == 1 and statuses.first.inner_text().strip() == "Published"
        assert page.locator("tr.has_original td.field-platform_post_id").first.inner_text().strip() not in ("", "-")
        page.screenshot(path=str(tmp_path / "post.png"))
        browser.close()
    manage(stack["env"], "publish_due")
    published = requests.get(f"{stack['base']}/api/v1/posts/{post_id}/", headers=editor, timeout=30).json()
    assert published["approval"] == "approved" and [t["status"] for t in published["targets"]] == ["published"]
    with psycopg.connect(stack["env"]["DATABASE_URL"], autocommit=True) as conn:  # the sandbox holds it once
        held = conn.execute("SELECT count(*) FROM sandbox_post WHERE message = %s AND is_published",
                            ("Seen in the browser",)).fetchone()[0]
    assert held == 1
