"""Asset pages of a space: list by type with paging, an asset's versions and files, file
previews (escaped, long text cut with a download, binary as hex), create (text, upload, zip,
URL), update with a lost-update guard, delete; adding, changing and deleting files."""

from __future__ import annotations

import html
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboard.aws import configuration as aws_config
from dashboard.configuration import display
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def base(space: dict) -> str:
    return f"/spaces/{space['agentSpaceId']}/assets/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def make(space: dict, asset_type: str = "attachment", **content) -> dict:
    body = content or {"file": {"path": "notes.md", "body": {"text": "# Notes\n"}}}
    return aws_config.create_asset(
        space["agentSpaceId"],
        asset_type=asset_type,
        metadata={"name": f"My {asset_type}", "description": "For the tests"},
        content=body,
    )


# --- reading ---------------------------------------------------------------------------------


def test_the_list_shows_assets_and_filters_by_type(viewer_client, space):
    make(space, "attachment")
    make(space, "agents_md")
    body = text(viewer_client.get(base(space)))
    assert "My attachment" in body and "My agents_md" in body
    assert ">skill</a>" in body  # every type the service has is a filter
    filtered = text(viewer_client.get(base(space) + "?type=agents_md"))
    assert "My agents_md" in filtered and "My attachment" not in filtered
    assert "An AGENTS.md file" in filtered  # the type's description


def test_an_empty_list_says_what_assets_are(viewer_client, admin_client, space):
    assert "No assets yet" in text(viewer_client.get(base(space)))
    assert "Ask an admin" in text(viewer_client.get(base(space)))
    assert "Create the first asset" in text(admin_client.get(base(space)))
    assert "No skill assets" in text(viewer_client.get(base(space) + "?type=skill"))


def test_a_malformed_type_filter_shows_everything_with_a_notice(viewer_client, space):
    make(space)
    body = text(viewer_client.get(base(space) + "?type=<script>"))
    assert "not an asset type" in body and "My attachment" in body
    assert "<script>" not in viewer_client.get(base(space) + "?type=<script>").content.decode()


def test_the_list_pages_with_load_more(viewer_client, space, monkeypatch):
    from dashboard.configuration import views_assets

    monkeypatch.setattr(views_assets, "PAGE_SIZE", 2)
    for _ in range(3):
        make(space)
    first = viewer_client.get(base(space)).content.decode()
    assert first.count('<tr id="asset-') == 2 and "Load more" in first
    token = first.split("next=")[1].split('"')[0]
    more = viewer_client.get(
        base(space) + f"?next={html.unescape(token)}", headers={"HX-Request": "true"}
    )
    assert more.content.decode().count('<tr id="asset-') == 1
    assert "<html" not in more.content.decode()


def test_the_asset_page_shows_versions_files_and_metadata(viewer_client, space):
    asset = make(space)
    sid = space["agentSpaceId"]
    aws_config.create_asset_file(sid, asset["assetId"], "refs/runbook.md", content={"text": "x"})
    body = text(viewer_client.get(base(space) + asset["assetId"] + "/"))
    assert "Version 2" in body and "Version 1" in body and "latest" in body
    assert "notes.md" in body and "refs/runbook.md" in body
    assert '"description": "For the tests"' in body
    assert "Download version 2 (zip)" in body

    old = text(viewer_client.get(base(space) + asset["assetId"] + "/?version=1"))
    assert "You are looking at version 1" in old
    assert "refs/runbook.md" not in old


def test_missing_and_malformed_assets_are_404(viewer_client, space):
    assert viewer_client.get(base(space) + "nope/").status_code == 404
    assert viewer_client.get(base(space) + "bad%20id/").status_code == 404
    asset = make(space)
    assert viewer_client.get(base(space) + asset["assetId"] + "/?version=x").status_code == 404
    for odd in ("\u00b2", "9" * 5000):  # were a ValueError from int(): a 500
        assert (
            viewer_client.get(base(space) + asset["assetId"] + "/", {"version": odd}).status_code
            == 404
        )
    assert viewer_client.get(base(space) + asset["assetId"] + "/?version=9").status_code == 404
    assert viewer_client.get(base(space) + asset["assetId"] + "/file/?path=../x").status_code == 404


def test_a_text_file_is_shown_escaped(viewer_client, space):
    asset = make(space, file={"path": "evil.md", "body": {"text": "<script>alert(1)</script>\n"}})
    response = viewer_client.get(base(space) + asset["assetId"] + "/file/?path=evil.md")
    raw = response.content.decode()
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_long_text_is_cut_with_a_download(viewer_client, space, monkeypatch):
    monkeypatch.setattr(display, "PREVIEW_CHARS", 50)
    long = "line of the log\n" * 100
    asset = make(space, file={"path": "big.log", "body": {"text": long}})
    url = base(space) + asset["assetId"] + "/file/"
    body = text(viewer_client.get(url + "?path=big.log"))
    assert "Showing the first 50 characters" in body
    assert "Download the whole file" in body
    download = viewer_client.get(url + "download?path=big.log")
    assert download.content.decode() == long
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == 'attachment; filename="big.log"'


def test_binary_content_is_shown_as_hex(viewer_client, space):
    data = b"\x89PNG\r\n\x1a\n\x00\x01\x02"
    asset = make(space, file={"path": "img/pic.png", "body": {"bytes": data}})
    body = text(viewer_client.get(base(space) + asset["assetId"] + "/file/?path=img/pic.png"))
    assert "Binary content" in body and "89 50 4e 47" in body
    download = viewer_client.get(base(space) + asset["assetId"] + "/file/download?path=img/pic.png")
    assert download.content == data


def test_the_zip_download_holds_the_version(viewer_client, space):
    asset = make(space)
    response = viewer_client.get(base(space) + asset["assetId"] + "/content.zip?version=1")
    assert response["Content-Type"] == "application/zip"
    assert f'filename="{asset["assetId"]}-v1.zip"' in response["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["notes.md"]


def test_preview_rules():
    assert display.file_preview({"text": "a\nb"})["lines"] == 2
    assert display.file_preview({"bytes": b"plain text"})["kind"] == "text"
    assert display.file_preview({"bytes": b"\xff\xfe\x00"})["kind"] == "binary"
    assert display.hexdump(b"AB\x00")[0].startswith("00000000  41 42 00")


# --- writing ---------------------------------------------------------------------------------


def test_an_admin_creates_an_asset_with_a_typed_file(admin_client, space):
    response = admin_client.post(
        base(space) + "new/",
        {
            "asset_type": "skill",
            "metadata": '{"name": "rds-failover", "description": "Fail over"}',
            "content_kind": "file",
            "file_path": "SKILL.md",
            "file_text": "# Skill\r\nline two\r\n",
        },
    )
    assert response.status_code == 302
    asset_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    file = aws_config.get_asset_file(space["agentSpaceId"], asset_id, "SKILL.md")
    assert file["content"] == {"text": "# Skill\nline two\n"}  # the line breaks the person saw
    entry = AuditEntry.objects.get(operation="CreateAsset")
    assert entry.detail["content"] == {"file": {"path": "SKILL.md", "body": {"text": "[17 bytes]"}}}


def test_an_admin_creates_an_asset_from_an_upload_and_from_a_zip(admin_client, space):
    upload = SimpleUploadedFile("diagram.png", b"\x89PNG\x00\x01")
    response = admin_client.post(
        base(space) + "new/",
        {
            "asset_type": "attachment",
            "content_kind": "file",
            "file_path": "diagram.png",
            "file_upload": upload,
        },
    )
    assert response.status_code == 302
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.md", "A")
        archive.writestr("dir/b.md", "B")
    response = admin_client.post(
        base(space) + "new/",
        {
            "asset_type": "attachment",
            "content_kind": "zip",
            "zip_upload": SimpleUploadedFile("bundle.zip", buffer.getvalue()),
        },
    )
    assert response.status_code == 302
    asset_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    files = aws_config.list_asset_files(space["agentSpaceId"], asset_id)["items"]
    assert sorted(f["path"] for f in files) == ["a.md", "dir/b.md"]


def test_create_errors_keep_what_was_typed(admin_client, space):
    response = admin_client.post(
        base(space) + "new/",
        {
            "asset_type": "skill",
            "metadata": '{"name": "x",',
            "content_kind": "file",
            "file_path": "bad|path",
            "file_text": "keep me",
        },
    )
    assert response.status_code == 400
    body = text(response)
    assert "This is not valid JSON" in body
    assert "Does not match the format AWS requires" in body
    assert "keep me" in body and '{"name": "x",' in body
    assert not AuditEntry.objects.exists()


def test_service_validation_lands_next_to_the_metadata(admin_client, space):
    response = admin_client.post(
        base(space) + "new/",
        {
            "asset_type": "skill",
            "metadata": '{"name": "no description"}',
            "content_kind": "file",
            "file_path": "SKILL.md",
            "file_text": "x",
        },
    )
    assert response.status_code == 400
    assert "A skill's metadata needs a description" in text(response)
    assert AuditEntry.objects.get(operation="CreateAsset").outcome == AuditEntry.FAILED


def test_an_admin_updates_metadata_and_content(admin_client, space):
    asset = make(space)
    url = base(space) + asset["assetId"] + "/edit/"
    form = text(admin_client.get(url))
    assert "Saving makes version 2" in form and 'name="seen_version" value="1"' in form
    response = admin_client.post(
        url,
        {
            "seen_version": "1",
            "metadata": '{"description": "Changed", "name": null}',
            "content_kind": "file",
            "file_path": "extra.md",
            "file_text": "more",
        },
    )
    assert response.status_code == 302
    latest = aws_config.get_asset(space["agentSpaceId"], asset["assetId"])
    assert latest["version"] == 2 and latest["metadata"] == {"description": "Changed"}


def test_an_update_over_a_newer_version_is_refused(admin_client, space):
    asset = make(space)
    sid = space["agentSpaceId"]
    aws_config.update_asset(sid, asset["assetId"], metadata={"touched": True})
    response = admin_client.post(
        base(space) + asset["assetId"] + "/edit/", {"seen_version": "1", "metadata": '{"a": 1}'}
    )
    assert response.status_code == 409
    body = text(response)
    assert "changed while you edited it" in body and '{"a": 1}' in body
    assert 'name="seen_version" value="2"' in body
    assert aws_config.get_asset(sid, asset["assetId"])["version"] == 2


def test_an_update_that_changes_nothing_says_so(admin_client, space):
    asset = make(space)
    response = admin_client.post(base(space) + asset["assetId"] + "/edit/", {"seen_version": "1"})
    assert response.status_code == 400
    assert "Nothing to change" in text(response)


def test_files_are_added_edited_and_deleted(admin_client, space):
    asset = make(space)
    sid, aid = space["agentSpaceId"], asset["assetId"]
    files = base(space) + aid + "/file/"
    response = admin_client.post(files + "new/", {"path": "runbook.md", "text": "v1"})
    assert response.status_code == 302 and "path=runbook.md" in response["Location"]
    conflict = admin_client.post(files + "new/", {"path": "runbook.md", "text": "again"})
    assert conflict.status_code == 409 and "already has a file" in text(conflict)

    form = text(admin_client.get(files + "edit/?path=runbook.md"))
    assert "v1</textarea>" in form
    unchanged = admin_client.post(
        files + "edit/?path=runbook.md", {"path": "runbook.md", "text": "v1"}
    )
    assert unchanged.status_code == 400 and "Nothing changed" in text(unchanged)
    edited = admin_client.post(
        files + "edit/?path=runbook.md",
        {"path": "runbook.md", "text": "v2", "metadata": '{"owner": "sre"}'},
    )
    assert edited.status_code == 302
    file = aws_config.get_asset_file(sid, aid, "runbook.md")
    assert file["content"] == {"text": "v2"} and file["metadata"] == {"owner": "sre"}

    confirm = text(admin_client.get(files + "delete/?path=runbook.md"))
    assert "Version 3 and earlier keep the file" in confirm
    deleted = admin_client.post(files + "delete/?path=runbook.md", {"path": "runbook.md"})
    assert deleted.status_code == 302
    assert [f["path"] for f in aws_config.list_asset_files(sid, aid)["items"]] == ["notes.md"]
    operations = set(AuditEntry.objects.values_list("operation", flat=True))
    assert {"CreateAssetFile", "UpdateAssetFile", "DeleteAssetFile"} <= operations


def test_a_binary_file_is_replaced_by_upload_only(admin_client, space):
    asset = make(space, file={"path": "pic.bin", "body": {"bytes": b"\x00\x01"}})
    url = base(space) + asset["assetId"] + "/file/edit/?path=pic.bin"
    assert "upload a replacement instead" in text(admin_client.get(url))
    response = admin_client.post(
        url, {"path": "pic.bin", "upload": SimpleUploadedFile("pic.bin", b"\x00\x02")}
    )
    assert response.status_code == 302
    file = aws_config.get_asset_file(space["agentSpaceId"], asset["assetId"], "pic.bin")
    assert file["content"] == {"bytes": b"\x00\x02"}


def test_an_asset_is_deleted_after_confirming(admin_client, space):
    asset = make(space)
    url = base(space) + asset["assetId"] + "/delete/"
    confirm = text(admin_client.get(url))
    assert "removes all 1 version and its 1 file" in confirm
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"] == base(space)
    assert aws_config.list_assets(space["agentSpaceId"])["items"] == []
    assert AuditEntry.objects.get(operation="DeleteAsset").target == asset["assetId"]


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ("[" * 50_000, "nested more than 64 levels deep"),
        ('{"a": ' * 5_000 + "1" + "}" * 5_000, "nested more than 64 levels deep"),
        ('{"name": "x", "size": NaN}', "NaN is not a JSON number"),
        ('{"name": "x", "size": -Infinity}', "-Infinity is not a JSON number"),
        ('{"name": "x", "size": 1e999}', "1e999 is too large a number"),
    ],
)
def test_metadata_that_is_not_json_aws_could_read_is_refused_before_aws(
    admin_client, space, metadata, words
):
    """Python's json reads NaN, Infinity and 1e999 (JSON has none of them) and gives up on
    deep nesting with a RecursionError: each was a 500 or a bogus "AWS unavailable"."""
    asset = make(space)
    asset_url = f"{base(space)}{asset['assetId']}/"
    posts = [
        (
            base(space) + "new/",
            {
                "asset_type": "skill",
                "metadata": metadata,
                "content_kind": "file",
                "file_path": "SKILL.md",
                "file_text": "keep me",
            },
        ),
        (asset_url + "edit/", {"metadata": metadata, "seen_version": str(asset["version"])}),
        (asset_url + "file/new/", {"path": "a.md", "text": "keep me", "metadata": metadata}),
    ]
    for url, data in posts:
        response = admin_client.post(url, data)
        assert response.status_code == 400, url
        assert words in text(response), url
    assert not AuditEntry.objects.exists()  # nothing was sent to AWS
