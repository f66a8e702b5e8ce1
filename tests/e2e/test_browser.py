"""A person in a real browser (Playwright driving Debian's Chromium): log into the admin, connect a
sandbox Facebook Page through the OAuth dialog, and see the account and a published post."""

import shutil

import pytest
import requests

from tests.servers import wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_staff_connects_a_page_in_the_browser_and_sees_it_published(stack, tmp_path):
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

        created = requests.post(f"{stack['base']}/api/v1/posts/", headers=stack["headers"], timeout=30,
                                json={"text": "Seen in the browser", "accounts": [account_id]})
        assert created.status_code == 201, created.text
        post_id = created.json()["id"]
        wait_for(lambda: requests.get(f"{stack['base']}/api/v1/posts/{post_id}/", headers=stack["headers"], timeout=30)
                 .json()["targets"][0]["status"] == "published", timeout=60)
        page.goto(f"{stack['base']}/admin/publishing/post/{post_id}/change/")
        assert "Seen in the browser" in page.locator("#id_text").input_value()
        statuses = page.locator("tr.has_original td.field-status")  # the targets inline: one saved row
        assert statuses.count() == 1 and statuses.first.inner_text().strip() == "Published"
        assert page.locator("tr.has_original td.field-platform_post_id").first.inner_text().strip() not in ("", "-")
        page.screenshot(path=str(tmp_path / "post.png"))
        browser.close()
