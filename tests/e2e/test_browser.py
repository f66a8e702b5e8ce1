"""A person in a real browser (Playwright driving Debian's Chromium): log into the admin, connect a
sandbox Facebook Page through the OAuth dialog, approve the post an editor of the workspace wrote, and
see it published once. At a 1366 px wide screen the main admin pages fit without scrolling sideways;
each page visited is saved as a screenshot in E2E_ARTEFACTS_DIR (default artefacts/e2e/), for CI to keep."""

import os
import shutil
from pathlib import Path

import psycopg
import pytest
import requests

from tests.e2e.conftest import new_login
from tests.servers import manage, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 768}  # the narrowest common laptop screen
ARTEFACTS = Path(os.environ.get("E2E_ARTEFACTS_DIR") or Path(__file__).resolve().parents[2] / "artefacts" / "e2e")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def api(stack, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
    return requests.request(method, stack["base"] + path, headers=headers, timeout=30, **kwargs)


def add_editor(stack) -> dict:
    """Turn on approval in the staff user's workspace and invite an editor into it; the editor's headers."""
    workspace = api(stack, "GET", "/api/v1/workspaces/", stack["headers"]).json()["results"][0]["id"]
    assert api(stack, "PATCH", f"/api/v1/workspaces/{workspace}/", stack["headers"],
               json={"approval_required": True}).status_code == 200
    invited = api(stack, "POST", f"/api/v1/workspaces/{workspace}/invitations/", stack["headers"],
                  json={"email": "editor@example.com", "role": "editor"}).json()
    editor = new_login(stack, "browser-editor")
    assert api(stack, "POST", "/api/v1/invitations/accept/", editor, json={"token": invited["token"]}).status_code == 200
    return editor


def fits_the_screen(page, name: str) -> None:
    """The page is no wider than the window, nor is a list's table wider than its box (which would
    scroll inside it); a full-page screenshot is kept either way."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    widths = page.evaluate("""() => {
        const results = document.querySelector('#changelist-form .results');
        return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                table: results ? results.scrollWidth : 0, box: results ? results.clientWidth : 0};
    }""")
    assert widths["window"] == VIEWPORT["width"]
    assert widths["page"] <= widths["window"], f"{name}: the page is {widths['page']} px wide at {widths['window']} px"
    assert widths["table"] <= widths["box"], f"{name}: the list is {widths['table']} px wide in {widths['box']} px"


def test_staff_connects_a_page_approves_an_editors_post_and_sees_it_published(stack):
    playwright = pytest.importorskip("playwright.sync_api")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is needed for the browser test (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{stack['base']}/admin/login/?next=/admin/")
        page.fill("#id_username", stack["username"])
        page.fill("#id_password", stack["password"])
        page.click("input[type=submit]")
        page.wait_for_url(f"{stack['base']}/admin/")

        # The connect button of a frontend is a plain navigation to the OAuth start with the session.
        page.goto(f"{stack['base']}/api/v1/auth/oauth/facebook")
        assert "/sandbox/facebook/" in page.url and page.locator("form").count() == 1
        page.screenshot(path=str(ARTEFACTS / "dialog.png"))
        page.click("button[value=approve]")
        page.wait_for_url(lambda url: url.startswith(stack["frontend"]) and "result=connected" in url)

        page.goto(f"{stack['base']}/admin/social/socialaccount/?platform__exact=facebook")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() >= 2
        assert "Active" in rows.first.inner_text()
        page.goto(f"{stack['base']}/admin/social/socialaccount/")
        fits_the_screen(page, "accounts")
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
        # Published: the post's page is view-only, its text shown rather than in a field.
        assert page.locator("#id_text").count() == 0
        assert "Seen in the browser" in page.locator(".field-text .readonly").inner_text()
        statuses = page.locator("tr.has_original td.field-status")  # the targets inline: one saved row
        assert statuses.count() == 1 and statuses.first.inner_text().strip() == "Published"
        assert page.locator("tr.has_original td.field-platform_post_id").first.inner_text().strip() not in ("", "-")
        fits_the_screen(page, "post")
        page.goto(f"{stack['base']}/admin/publishing/post/")
        fits_the_screen(page, "posts")

        # Fans comment and write to the connected Page; their threads fill the conversation list.
        manage(stack["env"], "sandbox_activity")
        wait_for(lambda: requests.get(f"{stack['base']}/api/v1/conversations/", headers=stack["headers"], timeout=30)
                 .json()["count"] >= 2, timeout=60)
        page.goto(f"{stack['base']}/admin/conversations/conversation/")
        assert page.locator("#result_list tbody tr").count() >= 2
        fits_the_screen(page, "conversations")
        browser.close()
    manage(stack["env"], "publish_due")
    published = requests.get(f"{stack['base']}/api/v1/posts/{post_id}/", headers=editor, timeout=30).json()
    assert published["approval"] == "approved" and [t["status"] for t in published["targets"]] == ["published"]
    with psycopg.connect(stack["env"]["DATABASE_URL"], autocommit=True) as conn:  # the sandbox holds it once
        held = conn.execute("SELECT count(*) FROM sandbox_post WHERE message = %s AND is_published",
                            ("Seen in the browser",)).fetchone()[0]
    assert held == 1
