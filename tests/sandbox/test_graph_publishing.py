"""Graph publishing: Page feed/photos/videos, Instagram containers over time, media_publish, quota, errors."""

from datetime import timedelta

import pytest

from sandbox.models import Post
from tests.sandbox.conftest import BASE, Graph, connect_facebook

PAGE, IG = "104500000000001", "17841400000000101"


@pytest.fixture
def page_graph(client, sandbox):
    _, page_tokens = connect_facebook(client)
    return Graph(client, page_tokens[PAGE])


def test_feed_post_returns_page_scoped_id_and_honours_read_after_write_fields(page_graph):
    body = page_graph.post(f"{PAGE}/feed?fields=id,permalink_url", {"message": "Hello", "published": "true"}).json()
    page_id, number = body["id"].split("_")
    assert page_id == PAGE and number.isdigit()
    # The sandbox's own page for the post (Graph answers https://www.facebook.com/{page}/posts/{number})
    assert body["permalink_url"] == f"{BASE}/posts/{body['id']}/"
    post = page_graph.get(body["id"], {"fields": "permalink_url"}).json()
    assert post == {"permalink_url": body["permalink_url"], "id": body["id"]}


def test_the_same_status_twice_in_a_minute_is_graph_error_506(page_graph):
    page_graph.post(f"{PAGE}/feed", {"message": "Same words"})
    response = page_graph.post(f"{PAGE}/feed", {"message": "Same words"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 506


def test_multi_photo_post_attaches_unpublished_photos(page_graph):
    first = page_graph.post(f"{PAGE}/photos", {"url": "https://e.x/1.jpg", "published": "false"}).json()
    second = page_graph.post(f"{PAGE}/photos", {"url": "https://e.x/2.jpg", "published": "false"}).json()
    assert set(first) == {"id"}
    attached = f'[{{"media_fbid":"{first["id"]}"}},{{"media_fbid":"{second["id"]}"}}]'
    body = page_graph.post(f"{PAGE}/feed", {"message": "Album", "attached_media": attached}).json()
    assert Post.objects.get(post_id=body["id"]).media_type == "album"
    bad = page_graph.post(f"{PAGE}/feed", {"message": "Again", "attached_media": attached})
    assert bad.json()["error"]["code"] == 100  # the photos now belong to the album


def test_photo_and_video_posts_answer_their_documented_shapes(page_graph):
    photo = page_graph.post(f"{PAGE}/photos", {"url": "https://e.x/p.jpg", "caption": "Hi"}).json()
    assert set(photo) == {"id", "post_id"} and photo["post_id"].startswith(f"{PAGE}_")
    video = page_graph.post(f"{PAGE}/videos", {"file_url": "https://e.x/v.mp4", "description": "Clip"}).json()
    assert set(video) == {"id"}
    node = page_graph.get(video["id"], {"fields": "permalink_url,status"}).json()
    post_id = Post.objects.get(photo_id=video["id"]).post_id
    assert node["status"]["video_status"] == "ready" and node["permalink_url"] == f"{BASE}/posts/{post_id}/"


def test_posting_without_pages_manage_posts_is_graph_error_200(client, sandbox):
    from tests.sandbox.conftest import APP_ID, APP_SECRET, REDIRECT, approve_facebook

    code = approve_facebook(client, scope="pages_show_list")
    graph = Graph(client)
    token = graph.get("oauth/access_token", {"client_id": APP_ID, "client_secret": APP_SECRET,
                                             "redirect_uri": REDIRECT, "code": code}).json()["access_token"]
    page_token = Graph(client, token).get("me/accounts", {"fields": "access_token"}).json()["data"][0]["access_token"]
    response = Graph(client, page_token).post(f"{PAGE}/feed", {"message": "x"})
    assert response.json()["error"]["code"] == 200


def test_container_is_in_progress_then_finished_then_published(page_graph, frozen):
    container = page_graph.post(f"{IG}/media", {"image_url": "https://e.x/a.jpg", "caption": "Latte"}).json()["id"]
    status = page_graph.get(container, {"fields": "status_code,status"}).json()
    assert status == {"status_code": "IN_PROGRESS", "status": "In Progress: Media is still being processed.",
                      "id": container}
    early = page_graph.post(f"{IG}/media_publish", {"creation_id": container}).json()["error"]
    assert (early["code"], early["error_subcode"], early["message"]) == (9007, 2207027, "Media ID is not available")
    frozen.advance(5)
    assert page_graph.get(container, {"fields": "status_code"}).json()["status_code"] == "FINISHED"
    media_id = page_graph.post(f"{IG}/media_publish", {"creation_id": container}).json()["id"]
    assert page_graph.get(container, {"fields": "status_code"}).json()["status_code"] == "PUBLISHED"
    media = page_graph.get(media_id, {"fields": "permalink,shortcode,timestamp,caption,media_type"}).json()
    assert media["permalink"] == f"{BASE}/posts/{media_id}/"
    assert media["caption"] == "Latte" and media["media_type"] == "IMAGE"
    limit = page_graph.get(f"{IG}/content_publishing_limit", {"fields": "quota_usage,config"}).json()
    assert limit == {"data": [{"quota_usage": 1, "config": {"quota_total": 100, "quota_duration": 86400}}]}


def test_a_container_expires_after_twenty_four_hours(page_graph, frozen):
    container = page_graph.post(f"{IG}/media", {"image_url": "https://e.x/a.jpg"}).json()["id"]
    frozen.advance(24 * 3600)
    assert page_graph.get(container, {"fields": "status_code"}).json()["status_code"] == "EXPIRED"
    assert page_graph.post(f"{IG}/media_publish", {"creation_id": container}).json()["error"]["error_subcode"] == 2207020


def test_carousel_needs_two_to_ten_finished_children_and_publishes_as_an_album(page_graph, frozen):
    children = [page_graph.post(f"{IG}/media", {"image_url": f"https://e.x/{i}.jpg", "is_carousel_item": "true"})
                .json()["id"] for i in range(2)]
    too_few = page_graph.post(f"{IG}/media", {"media_type": "CAROUSEL", "children": children[0]}).json()["error"]
    assert too_few["error_subcode"] == 2207028
    parent = page_graph.post(f"{IG}/media", {"media_type": "CAROUSEL", "children": ",".join(children),
                                             "caption": "Two"}).json()["id"]
    frozen.advance(timedelta(seconds=5).total_seconds())
    media_id = page_graph.post(f"{IG}/media_publish", {"creation_id": parent}).json()["id"]
    media = page_graph.get(media_id, {"fields": "media_type,media_product_type"}).json()
    assert media["media_type"] == "CAROUSEL_ALBUM" and media["media_product_type"] == "FEED"


def test_reels_need_a_video_url_and_take_longer(page_graph, frozen):
    assert page_graph.post(f"{IG}/media", {"media_type": "REELS"}).json()["error"]["code"] == 100
    reel = page_graph.post(f"{IG}/media", {"media_type": "REELS", "video_url": "https://e.x/r.mp4"}).json()["id"]
    frozen.advance(5)
    assert page_graph.get(reel, {"fields": "status_code"}).json()["status_code"] == "IN_PROGRESS"
    frozen.advance(5)
    media_id = page_graph.post(f"{IG}/media_publish", {"creation_id": reel}).json()["id"]
    assert page_graph.get(media_id, {"fields": "permalink"}).json()["permalink"] == f"{BASE}/posts/{media_id}/"


def test_stories_are_listed_under_stories_not_media_with_a_stories_permalink(page_graph, frozen):
    story = page_graph.post(f"{IG}/media", {"media_type": "STORIES", "image_url": "https://e.x/s.jpg"}).json()["id"]
    frozen.advance(5)
    media_id = page_graph.post(f"{IG}/media_publish", {"creation_id": story}).json()["id"]
    stories = page_graph.get(f"{IG}/stories", {"fields": "id,media_product_type,permalink"}).json()["data"]
    assert stories == [{"id": media_id, "media_product_type": "STORY",
                        "permalink": f"{BASE}/posts/{media_id}/"}]
    assert media_id not in [m["id"] for m in page_graph.get(f"{IG}/media").json()["data"]]
    frozen.advance(24 * 3600)
    assert page_graph.get(f"{IG}/stories").json()["data"] == []


def test_a_sandbox_permalink_opens_a_page_the_sandbox_serves(page_graph, client):
    post_id = page_graph.post(f"{PAGE}/feed", {"message": "Open me"}).json()["id"]
    comment = page_graph.post(f"{post_id}/comments", {"message": "Nice one"}).json()["id"]
    link = page_graph.get(post_id, {"fields": "permalink_url"}).json()["permalink_url"]
    page = client.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert b"Open me" in page.content and b"Nice one" in page.content and b"Facebook" in page.content
    assert page_graph.get(comment, {"fields": "permalink_url"}).json()["permalink_url"] == f"{link}?comment_id={comment}"
    assert client.get("/sandbox/posts/999/").status_code == 404
