"""The one exception type the CLI turns into a one-line message.

Library code raises :class:`StreamganError` (or a subclass) for anything the user
can fix: a missing file, a video without a face, an unwritable output. Anything
else is a bug and keeps its traceback.
"""


class StreamganError(Exception):
    """A problem with the user's input or environment, worded for the user."""


class InputError(StreamganError):
    """An input file is missing, unreadable, or not what it should be."""


class NoFaceError(StreamganError):
    """No usable face was found where one is needed."""


class OutputError(StreamganError):
    """The output cannot be written."""
