"""Text that can leave the process: UTF-8 (the API, SQLite, files) cannot carry a lone surrogate."""

from __future__ import annotations


def wellformed(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD; the same object when there is none (the usual case).

    Scripts can make such strings (``'\\ud800'`` in either dialect; JSON from JS keeps them), and they
    cross the bridge intact; they are replaced only where text leaves for the model or the store.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # a pair of surrogates written as two code points becomes the one character they encode
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
