"""CSV bulk import: the same checks as one post, row/column errors, one transaction, idempotent per file and row."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from publishing.models import Post, PostTarget
from workspaces.models import AuditEntry, Role

from .conftest import TIKTOK, fixture

pytestmark = pytest.mark.django_db

CREATOR = f"{TIKTOK}/creator_info/query/"
HEADER = ["text", "link", "media", "accounts", "time", "first_comment", "instagram_kind", "tiktok_privacy_level", "options"]


def later(hours: int = 2) -> str:
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def make_csv(rows: list[dict], header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, raw: bytes, **flags):
    query = "&".join(f"{k}={str(v).lower()}" for k, v in flags.items())
    return client.post(f"/api/v1/posts/import/?{query}", {"file": SimpleUploadedFile("posts.csv", raw, "text/csv")},
                       format="multipart")


def errors_of(response) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in response.json()["errors"]]


def single_post_fields(client, body: dict) -> dict:
    response = client.post("/api/v1/posts/", body, format="json")
    assert response.status_code == 400, response.json()
    return response.json()["error"]["fields"]


def test_a_dry_run_answers_each_rows_errors_with_the_single_post_messages_and_creates_nothing(api_client, account_factory):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    raw = make_csv([
        {"text": "Fine", "accounts": f"{fb.pk}", "time": later()},
        {"text": "No image for Instagram", "accounts": f"{ig.pk}", "time": later()},
        {"text": "Past", "accounts": f"{fb.pk}", "time": "2020-01-01T09:00:00+01:00"},
        {"text": "Nobody's", "accounts": f"{fb.pk} 999999", "time": later()},
        {"text": "Plain http", "media": "http://10.0.0.1/a.jpg", "accounts": f"{fb.pk}", "time": later()},
    ])

    response = upload(api_client, raw, dry_run=True)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["dry_run"], body["rows"], body["valid_rows"], body["created"]) == (True, 5, 1, [])
    # The messages are the single post's own, for the same body.
    ig_fields = single_post_fields(api_client, {"text": "x", "accounts": [ig.pk]})
    past_fields = single_post_fields(api_client, {"text": "x", "accounts": [fb.pk], "scheduled_at": "2020-01-01T09:00:00+01:00"})
    unknown_fields = single_post_fields(api_client, {"text": "x", "accounts": [fb.pk, 999999]})
    media_fields = single_post_fields(api_client, {"text": "x", "accounts": [fb.pk],
                                                   "media": [{"url": "http://10.0.0.1/a.jpg", "type": "image"}]})
    assert errors_of(response) == [
        (3, "media", ig_fields["media"][0]),
        (4, "time", past_fields["scheduled_at"][0]),
        (5, "accounts", unknown_fields["accounts"][0]),
        (6, "media", "Media item 1: " + media_fields["media"]["0"]["url"][0]),
    ]
    assert ig_fields["media"] == ["Instagram needs at least one image or video."]
    assert Post.objects.count() == 0


def test_the_csv_formats_own_rules_name_their_column(api_client, account_factory):
    fb = account_factory("facebook")
    raw = make_csv([
        {"text": "No offset", "accounts": f"{fb.pk}", "time": "2030-01-01T09:00:00"},
        {"text": "No time", "accounts": f"{fb.pk}", "time": ""},
        {"text": "Odd media", "media": "https://cdn.example.com/file", "accounts": f"{fb.pk}", "time": later()},
        {"text": "Bad options", "accounts": f"{fb.pk}", "time": later(), "options": "[1]"},
        {"text": "Letters", "accounts": "abc", "time": later()},
    ])

    errors = errors_of(upload(api_client, raw, dry_run=True))

    assert errors == [
        (2, "time", "Give 2030-01-01T09:00:00 with its offset (e.g. 2030-01-01T09:00:00+01:00, or Z for UTC), so it "
                    "means one moment."),
        (3, "time", "Give an ISO 8601 time with its offset (2026-12-07T09:00:00+01:00), `next slot`, or `now`."),
        (4, "media", "Say whether https://cdn.example.com/file is an image or a video: write image:URL or video:URL."),
        (5, "options", 'Write the options as a JSON object per platform, e.g. {"tiktok": {"disable_duet": true}}.'),
        (6, "accounts", "Account 1: A valid integer is required."),
    ]


def test_a_real_run_creates_the_valid_rows_like_single_posts_and_reports_the_others(api_client, account_factory,
                                                                                   sent, django_capture_on_commit_callbacks):
    fb, ig = account_factory("facebook"), account_factory("instagram")
    when = later(3)
    raw = make_csv([
        {"text": "Photo", "media": "https://cdn.example.com/a.jpg", "accounts": f"{fb.pk};{ig.pk}", "time": when,
         "first_comment": "First!", "instagram_kind": "feed"},
        {"text": "Broken", "accounts": f"{ig.pk}", "time": when},
        {"text": "Right now", "link": "https://example.com/menu", "accounts": f"{fb.pk}", "time": "now"},
        {"text": "Typed", "media": "video:https://cdn.example.com/clip", "accounts": f"{fb.pk}", "time": when},
    ])

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client, raw)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [c["row"] for c in body["created"]] == [2, 4, 5] and [e[:2] for e in errors_of(response)] == [(3, "media")]
    assert list(AuditEntry.objects.filter(action="posts.imported").values_list("summary", flat=True)) == [
        f"Imported 3 post(s) from a CSV of 4 row(s) (sha256 {body['file_sha256'][:12]}…)."]
    photo = Post.objects.get(pk=body["created"][0]["post"])
    assert (photo.text, photo.first_comment, photo.scheduled_at) == ("Photo", "First!", datetime.fromisoformat(when))
    assert [(t.account_id, t.status, t.options) for t in photo.targets.order_by("account_id")] == [
        (fb.pk, "scheduled", {}), (ig.pk, "scheduled", {"kind": "feed"})]
    assert [(m.url, m.type) for m in photo.media.all()] == [("https://cdn.example.com/a.jpg", "image")]
    now_post = Post.objects.get(pk=body["created"][1]["post"])
    assert now_post.link == "https://example.com/menu" and now_post.scheduled_at is None
    assert [t for t, _ in sent] == list(now_post.targets.values_list("pk", flat=True))  # queued after the commit
    typed = Post.objects.get(pk=body["created"][2]["post"])
    assert [(m.url, m.type) for m in typed.media.all()] == [("https://cdn.example.com/clip", "video")]


def test_all_or_nothing_creates_nothing_when_a_row_fails_and_everything_when_none_does(api_client, account_factory):
    fb = account_factory("facebook")
    good = {"text": "Good", "accounts": f"{fb.pk}", "time": later()}
    raw = make_csv([good, {"text": "", "accounts": f"{fb.pk}", "time": later()}])

    refused = upload(api_client, raw, all_or_nothing=True)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "import_invalid"
    assert "1 row(s) have errors, so nothing was imported" in refused.json()["error"]["message"]
    assert [(e["row"], e["column"]) for e in refused.json()["report"]["errors"]] == [(3, "text")]
    assert Post.objects.count() == 0

    accepted = upload(api_client, make_csv([good, {**good, "text": "Also good"}]), all_or_nothing=True)
    assert accepted.status_code == 201 and [c["row"] for c in accepted.json()["created"]] == [2, 3]
    assert sorted(Post.objects.values_list("text", flat=True)) == ["Also good", "Good"]


def test_the_same_file_sent_again_creates_nothing_twice(api_client, account_factory):
    fb = account_factory("facebook")
    raw = make_csv([{"text": "Once", "accounts": f"{fb.pk}", "time": later()},
                    {"text": "Twice?", "accounts": f"{fb.pk}", "time": later(4)}])

    first = upload(api_client, raw).json()
    again = upload(api_client, raw)
    as_body = api_client.generic("POST", "/api/v1/posts/import/", raw, content_type="text/csv")

    assert again.status_code == 200 and as_body.status_code == 200
    assert again.json()["created"] == [] and again.json()["already_imported"] == first["created"]
    assert as_body.json()["already_imported"] == first["created"]
    assert Post.objects.count() == 2
    keys = set(Post.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"import:{first['file_sha256']}:2", f"import:{first['file_sha256']}:3"}


def test_a_text_csv_body_is_imported_like_a_file(api_client, account_factory):
    fb = account_factory("facebook")
    raw = make_csv([{"text": "From the body", "accounts": f"{fb.pk}", "time": later()}], header=["text", "accounts", "time"])

    response = api_client.generic("POST", "/api/v1/posts/import/?dry_run=false", raw, content_type="text/csv")

    assert response.status_code == 201, response.json()
    assert Post.objects.get().text == "From the body"


def test_next_slot_rows_fill_the_queue_one_slot_each_in_file_order(api_client, account_factory):
    fb = account_factory("facebook")
    api_client.put(f"/api/v1/accounts/{fb.pk}/schedule/", {"paused": False, "times": [
        {"weekday": d, "time": "09:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]}, format="json")
    raw = make_csv([{"text": f"Queued {i}", "accounts": f"{fb.pk}", "time": "next slot"} for i in range(3)])

    response = upload(api_client, raw)

    assert response.status_code == 201, response.json()
    targets = PostTarget.objects.order_by("post_id")
    slots = [t.slot_at for t in targets]
    assert [t.post.text for t in targets] == ["Queued 0", "Queued 1", "Queued 2"]
    assert all(s is not None for s in slots) and slots == sorted(slots) and len(set(slots)) == 3
    assert [b - a for a, b in zip(slots, slots[1:])] == [timedelta(days=1)] * 2


def test_an_editors_imported_posts_wait_for_approval_and_a_viewer_cannot_import(workspace, member_factory,
                                                                                 account_factory):
    workspace.approval_required = True
    workspace.save()
    _, editor = member_factory(workspace, Role.EDITOR)
    _, viewer = member_factory(workspace, Role.VIEWER)
    fb = account_factory("facebook")
    raw = make_csv([{"text": "For review", "accounts": f"{fb.pk}", "time": later()}])

    assert upload(viewer, raw).status_code == 403
    response = upload(editor, raw)

    assert response.status_code == 201
    post = Post.objects.get()
    assert post.approval == "pending" and [t.status for t in post.targets.all()] == ["pending_approval"]


def test_tiktok_rows_ask_creator_info_once_per_account_and_its_refusal_names_the_privacy_column(
        api_client, account_factory, mocked_platforms):
    tt = account_factory("tiktok")
    mocked_platforms.post(CREATOR, json=fixture("tiktok/publishing_creator_info_unaudited.json"))  # SELF_ONLY only
    rows = [{"text": f"Clip {i}", "media": "https://cdn.example.com/v.mp4", "accounts": f"{tt.pk}", "time": later(),
             "tiktok_privacy_level": "SELF_ONLY" if i % 2 else "PUBLIC_TO_EVERYONE"} for i in range(6)]

    response = upload(api_client, make_csv(rows), dry_run=True)

    assert response.status_code == 200, response.json()
    assert errors_of(response) == [(row, "tiktok_privacy_level", f"{tt} may post as: SELF_ONLY.") for row in (2, 4, 6)]
    assert response.json()["valid_rows"] == 3
    assert len(mocked_platforms.calls) == 1  # one creator_info for six rows


def test_too_many_rows_or_bytes_is_a_413_and_a_file_that_is_not_our_csv_a_400(api_client, account_factory):
    fb = account_factory("facebook")
    rows = [{"text": f"Post {i}", "accounts": f"{fb.pk}", "time": later()} for i in range(3)]
    with override_settings(SCHEDULING_IMPORT_MAX_ROWS=2):
        too_many = upload(api_client, make_csv(rows), dry_run=True)
    with override_settings(SCHEDULING_IMPORT_MAX_BYTES=100):
        too_big = upload(api_client, make_csv(rows), dry_run=True)
        too_big_body = api_client.generic("POST", "/api/v1/posts/import/", make_csv(rows), content_type="text/csv")

    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "import_too_large"
    assert "The file has 3 posts; at most 2 can be imported at once" in too_many.json()["error"]["message"]
    assert too_big.status_code == 413 and too_big_body.status_code == 413
    assert "larger than 100" in too_big.json()["error"]["message"]

    unknown = upload(api_client, b"text,account,when\nhi,1,now\n")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_csv"
    assert unknown.json()["error"]["message"].startswith(
        "The header line has unknown column(s) 'account', 'when'; missing column(s) accounts, time.")
    assert upload(api_client, "text,accounts,time\nCafé,1,now\n".encode("latin-1")).json()["error"]["code"] == "invalid_csv"
    assert upload(api_client, b"").json()["error"]["code"] == "invalid_csv"
    missing = api_client.post("/api/v1/posts/import/", {}, format="multipart")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "csv_required"
    assert Post.objects.count() == 0


def test_a_row_with_more_cells_than_columns_is_reported_not_guessed(api_client, account_factory):
    fb = account_factory("facebook")
    raw = f"text,accounts,time\nHello, world,{fb.pk},{later()}\n".encode()

    errors = errors_of(upload(api_client, raw, dry_run=True))

    assert (2, "", 'This row has 4 cells but the header names 3 columns: quote a cell that holds a comma ("a, b").') \
        in errors


def test_the_rows_keep_their_spreadsheet_numbers_across_blank_lines(api_client, account_factory):
    fb = account_factory("facebook")
    raw = f"text,accounts,time\n\nGood,{fb.pk},{later()}\n,,\n,{fb.pk},{later()}\n".encode()

    body = upload(api_client, raw, dry_run=True).json()

    assert body["rows"] == 2 and [e["row"] for e in body["errors"]] == [5]


def test_an_unchanged_clock_sees_a_fixed_time_the_same_as_a_single_post(api_client, account_factory):
    fb = account_factory("facebook")
    moment = datetime(2031, 5, 4, 7, 30, tzinfo=UTC)
    raw = make_csv([{"text": "Zulu", "accounts": f"{fb.pk}", "time": "2031-05-04T07:30:00Z"},
                    {"text": "Paris", "accounts": f"{fb.pk}", "time": "2031-05-04T09:30:00+02:00"}])

    upload(api_client, raw)

    assert list(Post.objects.order_by("id").values_list("scheduled_at", flat=True)) == [moment, moment]


def test_a_single_post_cannot_take_a_key_that_names_an_import_row(api_client, account_factory):
    fb = account_factory("facebook")
    raw = make_csv([{"text": "Row", "accounts": f"{fb.pk}", "time": later()}])
    digest = upload(api_client, raw, dry_run=True).json()["file_sha256"]

    response = api_client.post("/api/v1/posts/", {"text": "Squatter", "accounts": [fb.pk]}, format="json",
                               headers={"Idempotency-Key": f"import:{digest}:2"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"Idempotency-Key": [
        "Keys starting with 'import:' name the posts of CSV imports; choose another one."]}
    assert upload(api_client, raw).json()["created"][0]["row"] == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_at_once_creates_each_row_once(user, account_factory, monkeypatch):
    import threading

    from rest_framework.test import APIClient

    from publishing.services import imports
    from tests.conftest import side_by_side

    fb = account_factory("facebook")
    raw = make_csv([{"text": "Once", "accounts": f"{fb.pk}", "time": later()},
                    {"text": "Once too", "accounts": f"{fb.pk}", "time": later(5)}])
    real_check, both_checked = imports.check_row, threading.Barrier(2)

    def check_then_wait(row, context, info_of):
        checked = real_check(row, context, info_of)
        if row.number == 3:
            both_checked.wait(timeout=10)  # both runs found no earlier post for the file: both go on to INSERT
        return checked

    monkeypatch.setattr(imports, "check_row", check_then_wait)

    def request():
        client = APIClient()
        client.force_authenticate(user)
        return upload(client, raw)

    errors, answers = side_by_side(request)

    assert errors == []
    assert sorted(a.status_code for a in answers) == [200, 201]
    winner, loser = sorted((a.json() for a in answers), key=lambda body: -len(body["created"]))
    assert [c["row"] for c in winner["created"]] == [2, 3] and loser["already_imported"] == winner["created"]
    assert sorted(Post.objects.values_list("text", flat=True)) == ["Once", "Once too"]
