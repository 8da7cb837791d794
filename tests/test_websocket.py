"""The live agent-space feed at /ws/spaces/: signed-in users on the console's own origin only,
and every open page hears about changes made through the console."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client

from dashboard import fanout
from dashboard.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each test runs its own event loop; a layer built under another loop must not leak in.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _cookie(client: Client) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def _communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/spaces/", headers=list(headers))


async def test_it_refuses_an_anonymous_connection():
    communicator = _communicator(ORIGIN)
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4401
    finally:
        await communicator.disconnect()


async def test_it_refuses_a_forged_session_cookie():
    communicator = _communicator(ORIGIN, (b"cookie", b"sessionid=not-a-real-session"))
    try:
        connected, _ = await communicator.connect()
        assert not connected
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize(
    "origin", [b"http://evil.example", b"http://testserver.evil.example", None]
)
async def test_it_refuses_a_foreign_or_missing_origin_even_when_signed_in(viewer_client, origin):
    headers = [_cookie(viewer_client)]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = _communicator(*headers)
    try:
        connected, _ = await communicator.connect()
        assert not connected
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize("origin", [b"http://testserver", b"http://localhost:8000"])
async def test_it_accepts_a_signed_in_user_on_an_allowed_origin(viewer_client, origin):
    communicator = _communicator((b"origin", origin), _cookie(viewer_client))
    try:
        connected, _ = await communicator.connect()
        assert connected
        # The page only listens: what it sends is ignored, and nothing comes back.
        await communicator.send_to(text_data="hello?")
        assert await communicator.receive_nothing(timeout=0.2)
    finally:
        await communicator.disconnect()


async def test_every_open_page_gets_the_new_row_when_an_admin_creates_a_space(
    admin_client, viewer_client, operator_client
):
    first = _communicator(ORIGIN, _cookie(viewer_client))
    second = _communicator(ORIGIN, _cookie(operator_client))
    try:
        assert (await first.connect())[0]
        assert (await second.connect())[0]
        assert await first.receive_nothing(timeout=0.1)

        response = await sync_to_async(admin_client.post)(
            "/spaces/new/", {"name": "Live one", "description": "pushed", "locale": ""}
        )
        assert response.status_code == 302
        space_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]

        for communicator in (first, second):
            html = await communicator.receive_from(timeout=2)
            assert 'hx-swap-oob="beforeend:#space-rows"' in html
            assert f'id="space-{space_id}"' in html
            assert "Live one" in html
            assert await communicator.receive_nothing(timeout=0.1)
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_pages_hear_about_edits_and_deletes(admin_client, viewer_client, space):
    communicator = _communicator(ORIGIN, _cookie(viewer_client))
    sid = space["agentSpaceId"]
    try:
        assert (await communicator.connect())[0]
        url = f"/spaces/{sid}/edit/"
        form = await sync_to_async(admin_client.get)(url)
        seen = form.context["form"]["seen_updated_at"].value()
        await sync_to_async(admin_client.post)(
            url,
            {
                "name": "Renamed live",
                "description": "Card processing",
                "locale": "en-US",
                "seen_updated_at": seen,
            },
        )
        html = await communicator.receive_from(timeout=2)
        assert f'id="space-{sid}"' in html and 'hx-swap-oob="true"' in html
        assert "Renamed live" in html

        await sync_to_async(admin_client.post)(
            f"/spaces/{sid}/delete/", {"confirm_name": "Renamed live"}
        )
        html = await communicator.receive_from(timeout=2)
        assert f'id="space-{sid}"' in html and 'hx-swap-oob="delete"' in html
        assert await communicator.receive_nothing(timeout=0.1)
    finally:
        await communicator.disconnect()


async def test_a_failed_or_refused_change_broadcasts_nothing(admin_client, viewer_client, space):
    communicator = _communicator(ORIGIN, _cookie(viewer_client))
    try:
        assert (await communicator.connect())[0]
        invalid = await sync_to_async(admin_client.post)("/spaces/new/", {"name": ""})
        assert invalid.status_code == 200
        refused = await sync_to_async(viewer_client.post)("/spaces/new/", {"name": "Nope"})
        assert refused.status_code == 403
        wrong = await sync_to_async(admin_client.post)(
            f"/spaces/{space['agentSpaceId']}/delete/", {"confirm_name": "wrong"}
        )
        assert wrong.status_code == 400
        assert await communicator.receive_nothing(timeout=0.3)
    finally:
        await communicator.disconnect()


async def test_a_disconnected_page_is_left_out(admin_client, viewer_client):
    gone = _communicator(ORIGIN, _cookie(viewer_client))
    stays = _communicator(ORIGIN, _cookie(viewer_client))
    try:
        assert (await gone.connect())[0]
        assert (await stays.connect())[0]
        await gone.disconnect()
        await sync_to_async(admin_client.post)("/spaces/new/", {"name": "After"})
        assert "After" in await stays.receive_from(timeout=2)
        # This process's hub holds the one page still open.
        assert fanout.hub().subscriber_count("spaces") == 1
    finally:
        await stays.disconnect()
