"""Graph error details the reference missed (checked against Meta's docs and real payloads)."""

from social.clients.meta import classify_meta_error
from unipulse.platform_errors import InvalidRequestError, PermissionMissingError, TransientError


def graph_error(**fields):
    return {"error": {"type": "OAuthException", "fbtrace_id": "AbCdEf123", **fields}}


def test_messenger_out_of_window_is_not_a_missing_permission():
    body = graph_error(code=10, error_subcode=2018278,
                       message="(#10) This message is sent outside of allowed window.")
    error = classify_meta_error(400, body, {})
    assert isinstance(error, InvalidRequestError) and not isinstance(error, PermissionMissingError)
    assert error.message == "Meta no longer accepts a reply in this conversation: its messaging window has closed."
    assert error.error_code == "meta:10/2018278"


def test_instagram_out_of_window_subcode_is_recognised_too():
    body = graph_error(code=10, error_subcode=2534022, message="This message is sent outside of allowed window.")
    assert "messaging window has closed" in classify_meta_error(400, body, {}).message


def test_plain_code_10_stays_a_permission_error():
    body = graph_error(code=10, message="(#10) Application does not have permission for this action")
    assert isinstance(classify_meta_error(400, body, {}), PermissionMissingError)


def test_reduce_the_amount_of_data_hidden_under_a_generic_message_keeps_its_words():
    body = graph_error(code=1, error_subcode=99, message="An unknown error occurred",
                       error_user_title="Please reduce the amount of data you're asking for, then retry your request",
                       error_user_msg="Please reduce the amount of data you're asking for, then retry your request")
    error = classify_meta_error(500, body, {})
    assert isinstance(error, TransientError) and error.code == 1
    assert "reduce the amount of data" in error.message.lower()


def test_a_raw_2xx_answer_without_an_envelope_is_a_success(mocked_platforms):
    from social.clients import http, tiktok

    mocked_platforms.put("https://open-upload.tiktokapis.com/video/?upload_id=1", status=206, body=b"")
    response = http.request("tiktok", "PUT", "https://open-upload.tiktokapis.com/video/?upload_id=1",
                            endpoint="upload.chunk", dialect=tiktok.API, data=b"x" * 10, expect_json=False)
    assert response.status == 206 and response.data == b""


def test_a_raw_answer_with_an_error_status_is_still_classified(mocked_platforms):
    import pytest

    from social.clients import http, tiktok

    mocked_platforms.put("https://open-upload.tiktokapis.com/video/?upload_id=2", status=503, body=b"")
    with pytest.raises(TransientError):
        http.request("tiktok", "PUT", "https://open-upload.tiktokapis.com/video/?upload_id=2",
                     endpoint="upload.chunk", dialect=tiktok.API, data=b"x", expect_json=False)


def test_reduce_the_amount_of_data_is_not_repeated_by_the_http_layer(mocked_platforms, account_factory):
    import pytest

    from social.clients import meta

    account = account_factory("facebook", external_id="555")
    mocked_platforms.get("https://graph.facebook.com/v25.0/555/published_posts", status=500, json=graph_error(
        code=1, message="Please reduce the amount of data you're asking for, then retry your request"))
    with pytest.raises(TransientError):
        meta.call(account, "GET", "555/published_posts", endpoint="page.published_posts")
    assert len(mocked_platforms.calls) == 1
