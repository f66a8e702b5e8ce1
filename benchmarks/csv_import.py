"""CSV bulk import: a 1,000-row dry run through the API, against the single-post validation it reuses.

The dry run goes through the Django test client (all middleware, token auth, multipart parsing) to
`POST /api/v1/posts/import/?dry_run=true`: 1,000 rows over a Facebook Page, an Instagram account and a
TikTok account (`creator_info` mocked with `responses`), with fixed times and `next slot`, one in twenty
invalid. Baselines in the same run: the same 1,000 post bodies validated one by one by PostInputSerializer
called directly (what 1,000 single POST /api/v1/posts/ would check, without HTTP), and reading the CSV
alone. Then the real run (the valid rows created in one transaction) and the same file sent again, against
the dry run. Target (issue 18): the dry run under 10 s on this machine.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from benchmarks.common import ROOT, Row, setup_django, timed

ROWS = 1_000
LABEL = "CSV import (1,000 rows)"
CREATOR_INFO = "v2/post/publish/creator_info/query/"  # under TIKTOK_API_URL (the sandbox's when it is on)


def _csv(accounts, when: str) -> bytes:
    fb, ig, tt = accounts
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "link", "media", "accounts", "time", "first_comment", "instagram_kind", "tiktok_privacy_level"])
    for i in range(ROWS):
        kind = i % 4
        if kind == 0:
            writer.writerow([f"Post {i} #coffee", "", "https://cdn.example.com/a.jpg", f"{fb.pk} {ig.pk}", when, "First!", "feed", ""])
        elif kind == 1:
            writer.writerow([f"Link {i}", "https://example.com/menu", "", f"{fb.pk}", "next slot", "", "", ""])
        elif kind == 2:
            writer.writerow([f"Clip {i}", "", "https://cdn.example.com/v.mp4", f"{tt.pk}", when, "", "", "SELF_ONLY"])
        else:  # one row in twenty has a time in the past
            bad = i % 20 == 3
            writer.writerow([f"Carousel {i}", "", "https://cdn.example.com/b.jpg https://cdn.example.com/c.jpg",
                             f"{ig.pk}", "2020-01-01T09:00:00Z" if bad else when, "", "carousel", ""])
    return out.getvalue().encode()


def run() -> list[Row]:
    setup_django()
    from types import SimpleNamespace

    import responses
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from publishing.models import Post, PostingSchedule, ScheduleTime
    from publishing.serializers import PostInputSerializer
    from publishing.services import imports
    from social.models import SocialAccount
    from workspaces.models import Membership
    from workspaces.services import personal_workspace

    User = get_user_model()
    User.objects.filter(username="bench-import").delete()
    user = User.objects.create_user("bench-import")
    token = Token.objects.create(user=user)
    workspace = personal_workspace(user)
    now = timezone.now()
    scopes = {"facebook": ["pages_manage_posts"], "instagram": ["instagram_content_publish"], "tiktok": ["video.publish"]}
    accounts = [SocialAccount.objects.create(
        workspace=workspace, connected_by=user, platform=p, external_id=f"bench-import-{p}", platform_user_id=f"u-{p}",
        name=f"Bench {p}", access_token=f"tok-{p}", refresh_token="rft" if p == "tiktok" else "", scopes=scopes[p],
        token_expires_at=now + timedelta(days=2)) for p in ("facebook", "instagram", "tiktok")]
    schedule = PostingSchedule.objects.create(account=accounts[0])
    ScheduleTime.objects.bulk_create([ScheduleTime(schedule=schedule, weekday=d, time=f"{h:02d}:00")
                                      for d in range(7) for h in range(8, 20)])
    raw = _csv(accounts, (now + timedelta(days=3)).replace(microsecond=0).isoformat())
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    membership = Membership.objects.get(user=user, workspace=workspace)
    context = {"request": SimpleNamespace(_workspace_membership=membership)}  # what workspace_of() reads
    bodies = [row.body for row in imports.read_csv(raw)]

    def dry_run():
        response = client.post("/api/v1/posts/import/?dry_run=true",
                               {"file": SimpleUploadedFile("posts.csv", raw, "text/csv")})
        assert response.status_code == 200, response.content[:500]
        return response.json()

    def upload(expected: int):
        response = client.post("/api/v1/posts/import/", {"file": SimpleUploadedFile("posts.csv", raw, "text/csv")})
        assert response.status_code == expected, response.content[:500]

    def serializer_only():
        for body in bodies:
            PostInputSerializer(data=body, context=context).is_valid()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{settings.TIKTOK_API_URL}/{CREATOR_INFO}", json=json.loads((ROOT / "tests/fixtures/tiktok/publishing_creator_info.json").read_text()))
        report = dry_run()
        assert report["rows"] == ROWS and report["valid_rows"] == ROWS - ROWS // 20, report["valid_rows"]
        assert {e["column"] for e in report["errors"]} == {"time"}
        dry_run_s = timed(dry_run)
        serializer_s = timed(serializer_only)
        parse_s = timed(lambda: imports.read_csv(raw))
        creator_calls = len(rsps.calls)
        real_s = timed(lambda: upload(201), repeat=1)
        again_s = timed(lambda: upload(200), repeat=1)
    assert Post.objects.filter(workspace=workspace).count() == ROWS - ROWS // 20
    assert dry_run_s < 10, f"the dry run took {dry_run_s:.1f} s (target < 10 s)"
    workspace.delete()  # its accounts and posts with it
    User.objects.filter(pk=user.pk).delete()
    return [
        Row(LABEL, "dry run through the API (target < 10 s)", dry_run_s, "1,000 PostInputSerializer validations",
            serializer_s, "s"),
        Row(LABEL, "reading the CSV alone", parse_s, "1,000 PostInputSerializer validations", serializer_s, "s"),
        Row(LABEL, f"real run: {ROWS - ROWS // 20} posts created in one transaction", real_s, "the dry run", dry_run_s, "s"),
        Row(LABEL, "the same file again (every row already imported)", again_s, "the dry run", dry_run_s, "s"),
        Row(LABEL, "TikTok creator_info calls per dry run", creator_calls / 4, "one per TikTok row", ROWS / 4, "calls"),
    ]


if __name__ == "__main__":
    from benchmarks.common import table

    print(table(run()))
