"""files.getUploadURLExternal and files.completeUploadExternal (the bytes go to the upload sink, sinks.py)."""

from __future__ import annotations

import mimetypes

from bot.sandbox.slack.args import opt_str
from bot.sandbox.slack.errors import SlackError, invalid_arguments
from bot.sandbox.slack.records import EPOCH, Json, StoredUpload
from bot.sandbox.slack.state import SlackState

# Each handler runs with the stand-in's lock held, after auth, scope and required-argument checks (api.py).


def files_get_upload_url_external(s: SlackState, args: Json) -> Json:
    """files.getUploadURLExternal: an upload URL on this server."""
    try:
        length = int(args["length"])
    except (TypeError, ValueError) as exc:
        raise invalid_arguments("length must be an integer") from exc
    if length < 0:
        raise invalid_arguments("length must be non-negative")
    file_id = s._next_id("F")
    s._uploads[file_id] = StoredUpload(
        file_id=file_id,
        filename=str(args["filename"]),
        length=length,
        alt_txt=opt_str(args.get("alt_txt")),
        snippet_type=opt_str(args.get("snippet_type")),
    )
    return {"upload_url": f"{s.root_url}/upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(s: SlackState, args: Json) -> Json:
    """files.completeUploadExternal: share uploads whose bytes arrived."""
    files = args["files"]
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise invalid_arguments("files must be a JSON array of objects with an id")
    uploads: list[tuple[StoredUpload, Json]] = []
    for item in files:
        upload = s._uploads.get(str(item["id"]))
        if upload is None or upload.data is None:  # never issued, or the bytes never arrived
            raise SlackError("file_not_found")
        uploads.append((upload, item))
    channel_id = opt_str(args.get("channel_id"))
    channels = [c.strip() for c in str(args.get("channels") or "").split(",") if c.strip()]
    for ref in [channel_id] if channel_id else channels:
        channel = s._find_channel(ref)
        if not channel.bot_is_member:
            raise SlackError("not_in_channel")
    result: list[Json] = []
    for upload, item in uploads:
        upload.completed = True
        upload.title = opt_str(item.get("title")) or upload.filename
        upload.channel_id = channel_id
        upload.channels = channels
        upload.thread_ts = opt_str(args.get("thread_ts"))
        upload.initial_comment = opt_str(args.get("initial_comment"))
        mimetype = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        result.append(
            {
                "id": upload.file_id,
                "created": EPOCH,
                "timestamp": EPOCH,
                "name": upload.filename,
                "title": upload.title,
                "mimetype": mimetype,
                "filetype": upload.filename.rpartition(".")[2] if "." in upload.filename else "binary",
                "user": s.bot_user_id,
                "user_team": s.team_id,
                "size": len(upload.data or b""),
                "is_external": False,
                "url_private": f"{s.root_url}/files/{upload.file_id}/{upload.filename}",
            }
        )
    return {"files": result}
