"""Downloads of patient-level files (the call-back list, rejections.csv) and of the report, made on
demand and not kept past the session (issue 16.7).

Streamlit serves a download from its media store at /media/<id>, to anyone who has the address,
without cookies. Given bytes, st.download_button puts them there on every rerun, and they stay
until two of the server's later script runs have found them unused: on an idle server, for as
long as it runs (8 minutes after the tab closed, in the issue's test). So here:
- the button is given a callable (Streamlit's deferred download): nothing is stored until the
  user clicks, and what is made is the file as it is then;
- each file made is recorded for the session that made it, and removed from the media store
  KEEP_SECONDS after it was made (the browser fetches it at once), and at the latest when the
  session ends (its browser tab closes or reloads: Streamlit then clears the session's
  resources, whose release removes them; or the session is closed).

What Streamlit does not allow: tying a media address to the session that made it. Within those
seconds, whoever has the address (a long hash of the file's content) can fetch the file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import streamlit as st

# How long a file made for a download stays in the media store (the browser asks for it at once).
KEEP_SECONDS = 60.0


class SessionFiles:
    """The media store's files made for one session's downloads: id -> when it may go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        self.closed = False

    def made(self, content: bytes, mimetype: str, file_name: str) -> None:
        """Record the file the media store is about to hold for this content, and remove it
        KEEP_SECONDS from now (or when the session ends, whichever comes first)."""
        file_id = media_file_id(content, mimetype, file_name)
        if file_id is None:
            return
        with self._lock:
            self._until[file_id] = time.monotonic() + KEEP_SECONDS
        timer = threading.Timer(KEEP_SECONDS + 0.5, self.expire)
        timer.daemon = True
        timer.start()

    def expire(self) -> None:
        """Remove the files whose time is up."""
        now = time.monotonic()
        with self._lock:
            due = [file_id for file_id, until in self._until.items() if until <= now]
            for file_id in due:
                del self._until[file_id]
        for file_id in due:
            remove_media_file(file_id)

    def remove_all(self) -> None:
        with self._lock:
            ids, self._until = list(self._until), {}
        for file_id in ids:
            remove_media_file(file_id)

    @property
    def held(self) -> list[str]:
        with self._lock:
            return list(self._until)


def _release(files: SessionFiles) -> None:
    """The session has ended (or its resources were cleared): its files go now."""
    files.closed = True
    files.remove_all()


@st.cache_resource(scope="session", max_entries=1, on_release=_release, show_spinner=False)
def session_files() -> SessionFiles:
    """This session's record of the files made for its downloads."""
    return SessionFiles()


def media_file_id(content: bytes, mimetype: str, file_name: str) -> str | None:
    """The id under which Streamlit's in-memory media store keeps this file (it names a file by a
    hash of its content, type and name), or None with another Streamlit."""
    try:
        from streamlit.runtime.memory_media_file_storage import _calculate_file_id
    except ImportError:
        logging.getLogger("dashboard").warning("this Streamlit's media store is not known: downloads are "
                                               "removed only when Streamlit removes them")
        return None
    return _calculate_file_id(content, mimetype, file_name)


def remove_media_file(file_id: str) -> None:
    """Remove a file from Streamlit's media store: its address no longer serves it."""
    from streamlit import runtime

    if not runtime.exists():
        return
    manager = runtime.get_instance().media_file_mgr
    try:
        with manager._lock:
            if file_id in manager._file_metadata:
                manager._delete_file(file_id)
            else:
                manager._storage.delete_file(file_id)
    except (AttributeError, KeyError):  # another Streamlit: it removes the file in its own time
        logging.getLogger("dashboard").warning("could not remove a download from Streamlit's media store")


def download_button(where, label: str, make: Callable[[], bytes | str], file_name: str, mime: str,
                    **kwargs):
    """where.download_button (where: st, a column...) whose file is made by make() when the user
    clicks, and removed from the media store soon after, and when the session ends."""
    files = session_files()

    def data() -> bytes:
        content = make()
        content = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        files.made(content, mime, file_name)
        return content

    return where.download_button(label, data, file_name, mime, **kwargs)
