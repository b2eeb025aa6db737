"""ICY (Shoutcast/Icecast) in-band metadata: split a stream's bytes into audio and StreamTitle updates."""
from __future__ import annotations

import re

_TITLE = re.compile(rb"StreamTitle='(.*?)';", re.S)


def metadata_block(title: str) -> bytes:
    """What a server inserts to announce a title: a length byte, then the text padded to 16 bytes."""
    text = f"StreamTitle='{title}';".encode()
    blocks = (len(text) + 15) // 16
    return bytes([blocks]) + text.ljust(blocks * 16, b"\0")


class IcyDemuxer:
    """Every `metaint` audio bytes the server inserts one length byte and 16 x length bytes of metadata."""

    def __init__(self, metaint: int | None):
        self.metaint = metaint
        self._until_meta = metaint or 0
        self._meta_left = -1  # -1: the next byte is a length byte (when _until_meta is 0)
        self._meta = bytearray()

    def feed(self, data: bytes) -> tuple[bytes, list[str]]:
        """Audio bytes in this piece, and the titles whose metadata block ended in it."""
        if not self.metaint:
            return data, []
        audio, titles, i = bytearray(), [], 0
        while i < len(data):
            if self._until_meta:
                take = min(self._until_meta, len(data) - i)
                audio += data[i:i + take]
                self._until_meta -= take
                i += take
            elif self._meta_left < 0:
                self._meta_left = data[i] * 16
                i += 1
            else:
                take = min(self._meta_left, len(data) - i)
                self._meta += data[i:i + take]
                self._meta_left -= take
                i += take
            if not self._until_meta and self._meta_left == 0:
                found = _TITLE.search(bytes(self._meta))
                if found:
                    titles.append(found.group(1).decode("utf-8", errors="replace"))
                self._meta.clear()
                self._meta_left = -1
                self._until_meta = self.metaint
        return bytes(audio), titles
