"""An answer that is not AWS's (another emulator's HTML 500 page, a proxy's own error page)
is said in words: status, content type, first line of text; never pasted into the page as
the HTML it was. Real HTTP answers from a local server, parsed by botocore as AWS's would be."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from dashboard.aws import errors
from dashboard.aws.clients import call, reset_clients

SPACE = "0f7a2c3e-1111-4222-8333-444455556666"
# What moto answers for an operation it does not implement (Werkzeug's error page).
MOTO_500 = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request.</p>\n"
)
PROXY_502 = "<html><head><style>body{}</style><script>x()</script></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"  # noqa: E501


class _Answer(BaseHTTPRequestHandler):
    status = 500
    content_type = "text/html; charset=utf-8"
    body = MOTO_500

    def _answer(self) -> None:
        data = self.body.encode()
        self.send_response(self.status)
        if self.content_type:
            self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def elsewhere(monkeypatch) -> Iterator[type[_Answer]]:
    handler = type("Handler", (_Answer,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with override_settings(
        DASHBOARD_BACKEND="aws", AWS_ENDPOINT_URL=url, AWS_REGION="us-east-1", AWS_PROFILE=""
    ):
        reset_clients()
        try:
            yield handler
        finally:
            reset_clients()
            server.shutdown()
            server.server_close()


def test_another_emulators_html_500_is_described(elsewhere):
    with pytest.raises(errors.NotAws) as caught:
        call("devops-agent", "ListBacklogTasks", agentSpaceId=SPACE)
    message = caught.value.message
    assert "did not come from AWS" in message
    assert "HTTP 500" in message and "text/html" in message
    assert "“500 Internal Server Error”" in message
    assert "<" not in message and "doctype" not in message.lower()
    assert caught.value.operation == "ListBacklogTasks"


def test_a_proxys_page_is_described_without_its_scripts_or_styles(elsewhere):
    elsewhere.status, elsewhere.body = 502, PROXY_502
    with pytest.raises(errors.NotAws) as caught:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)
    assert "HTTP 502, text/html, saying “Bad Gateway”" in caught.value.message
    assert "x()" not in caught.value.message and "body{}" not in caught.value.message


def test_plain_text_without_a_content_type_marker_is_described(elsewhere):
    elsewhere.status, elsewhere.content_type, elsewhere.body = (
        403,
        "text/plain",
        "Forbidden by policy\n",
    )
    with pytest.raises(errors.NotAws) as caught:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)
    assert "HTTP 403, text/plain, saying “Forbidden by policy”" in caught.value.message


def test_awss_own_json_errors_are_unchanged(elsewhere):
    elsewhere.status, elsewhere.content_type = 404, "application/json"
    elsewhere.body = '{"message": "No such space <b>x</b>"}'
    elsewhere.send_header = _Answer.send_header
    with pytest.raises(errors.AwsError) as caught:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)
    assert not isinstance(caught.value, errors.NotAws)


def test_the_page_says_it_in_words(elsewhere, viewer_client):
    response = viewer_client.get(f"/spaces/{SPACE}/tasks/")
    page = response.content.decode()
    assert response.status_code == 502
    assert "Not an answer from AWS" in page
    assert "“500 Internal Server Error”" in page
    assert "doctype" not in page.split("<main")[1].lower()
    htmx = viewer_client.get(f"/spaces/{SPACE}/tasks/", HTTP_HX_REQUEST="true")
    assert "did not come from AWS" in htmx.content.decode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (MOTO_500, "500 Internal Server Error"),
        ("", ""),
        ("just text\nsecond", "just text"),
        ("<p>  spaced   out </p>", "spaced out"),
        ("x" * 500, "x" * 199 + "…"),
        ("<not really html", "<not really html"),
    ],
)
def test_first_line_of_text(body, expected):
    assert errors.first_line_of_text(body) == expected


def test_a_proxys_page_answered_with_200_is_described_not_parsed(elsewhere, viewer_client):
    # A proxy that wants its own sign-in first answers every request with its page, and 200.
    elsewhere.status = 200
    elsewhere.body = "<html><title>Sign in to the web gateway</title><p>Who are you?</p></html>"
    with pytest.raises(errors.NotAws) as caught:
        call("devops-agent", "GetAgentSpace", agentSpaceId=SPACE)
    assert "HTTP 200, text/html, saying “Sign in to the web gateway”" in caught.value.message
    response = viewer_client.get(f"/spaces/{SPACE}/tasks/")
    assert response.status_code == 502 and "Not an answer from AWS" in response.content.decode()


def test_awss_own_json_successes_are_unchanged(elsewhere):
    elsewhere.status, elsewhere.content_type = 200, "application/json"
    elsewhere.body = '{"agentSpaces": [], "nextToken": null}'
    assert call("devops-agent", "ListAgentSpaces")["agentSpaces"] == []


STS_SUCCESS = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ops</Arn>"
    "<UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
)
STS_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>ExpiredToken</Code><Message>The security token included in the request is expired"
    "</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"
)


def test_stss_xml_answers_are_awss_own(elsewhere):
    # STS speaks the query protocol: its answers, successes and errors, are text/xml.
    elsewhere.status, elsewhere.content_type, elsewhere.body = 200, "text/xml", STS_SUCCESS
    assert call("sts", "GetCallerIdentity")["Account"] == "123456789012"
    elsewhere.status, elsewhere.body = 403, STS_ERROR
    with pytest.raises(errors.AwsError) as caught:
        call("sts", "GetCallerIdentity")
    assert not isinstance(caught.value, errors.NotAws)
    assert "security token included in the request is expired" in caught.value.message
