"""Mounted at /sandbox/ by unipulse/urls.py only when settings.SOCIAL_SANDBOX is on."""

from django.urls import path, re_path

from . import control, dialogs, graph, instagram_login, pages, tiktok

app_name = "sandbox"

urlpatterns = [
    # Meta
    path("facebook/<str:version>/dialog/oauth", dialogs.facebook_dialog, name="facebook-dialog"),
    re_path(r"^graph/(?P<version>v\d+\.\d+)/(?P<path>.*)$", graph.graph, name="graph"),
    # Instagram Login (Instagram accounts without a Page)
    path("instagram/oauth/authorize", instagram_login.dialog, name="instagram-dialog"),
    path("instagram-api/oauth/access_token", instagram_login.access_token, name="instagram-access-token"),
    path("instagram-graph/access_token", instagram_login.exchange_token, name="instagram-exchange-token"),
    path("instagram-graph/refresh_access_token", instagram_login.refresh_token, name="instagram-refresh-token"),
    re_path(r"^instagram-graph/(?P<version>v\d+\.\d+)/me$", instagram_login.me, name="instagram-me"),
    re_path(r"^instagram-graph/(?P<version>v\d+\.\d+)/(?P<path>.*)$", graph.instagram_graph, name="instagram-graph"),
    # TikTok
    path("tiktok/v2/auth/authorize/", dialogs.tiktok_dialog, name="tiktok-dialog"),
    path("tiktok-api/v2/oauth/token/", tiktok.oauth_token, name="tiktok-token"),
    path("tiktok-api/v2/oauth/revoke/", tiktok.oauth_revoke, name="tiktok-revoke"),
    path("tiktok-api/v2/user/info/", tiktok.user_info_view, name="tiktok-user-info"),
    path("tiktok-api/v2/video/list/", tiktok.video_list_view, name="tiktok-video-list"),
    path("tiktok-api/v2/video/query/", tiktok.video_query_view, name="tiktok-video-query"),
    path("tiktok-api/v2/post/publish/creator_info/query/", tiktok.creator_info_view, name="tiktok-creator-info"),
    path("tiktok-api/v2/post/publish/video/init/", tiktok.video_init_view, name="tiktok-video-init"),
    path("tiktok-api/v2/post/publish/inbox/video/init/", tiktok.inbox_video_init_view, name="tiktok-inbox-init"),
    path("tiktok-api/v2/post/publish/content/init/", tiktok.content_init_view, name="tiktok-content-init"),
    path("tiktok-api/v2/post/publish/status/fetch/", tiktok.status_fetch_view, name="tiktok-status-fetch"),
    path("tiktok-upload/video/", tiktok.upload, name="tiktok-upload"),
    # What a sandbox permalink opens
    path("posts/<str:post_id>/", pages.post_page, name="post"),
    # Test control
    path("control/failures", control.failures_view, name="failures"),
]
