"""Error codes and portable conditions (D4000R0 5.4; Asio's ``error_code`` and
``asio::error::*``): errno values, the library's own codes (end of stream, canceled),
and name-lookup failures, which must never be mistaken for either."""

from __future__ import annotations

import errno
import socket

import pytest

from senderlab import io


def test_errno_codes_compare_with_their_conditions_and_round_trip():
    ec = io.from_exception(ConnectionResetError(errno.ECONNRESET, "reset"))
    assert ec and ec == io.connection_reset and ec == errno.ECONNRESET
    assert not ec == io.canceled and not ec == io.eof
    assert isinstance(ec.exception(), ConnectionResetError)
    assert io.from_errno(errno.EPIPE) is io.from_errno(errno.EPIPE)
    assert io.from_errno(errno.EPIPE).name == "EPIPE"


def test_success_is_falsy_and_the_library_codes_are_not_errnos():
    assert not io.success
    assert io.from_exception(OSError(errno.ECANCELED, "x")) == io.canceled
    assert io.from_exception(EOFError()) == io.eof


@pytest.mark.parametrize("name, condition", [
    ("EAI_NONAME", "host_not_found"),
    ("EAI_FAIL", "host_not_found"),
    ("EAI_AGAIN", "host_not_found_try_again"),
    ("EAI_SERVICE", "service_not_found"),
])
def test_a_lookup_failure_has_a_code_of_its_own(name, condition):
    code = getattr(socket, name)
    exc = socket.gaierror(code, "lookup failed for the test")
    ec = io.from_exception(exc)
    assert ec and ec == getattr(io, condition)
    # On Linux EAI_NONAME is -2 and EAI_BADFLAGS -1: the library's canceled and eof
    # values. Taken as they are, an unresolvable name would read as a cancellation.
    for other in (io.canceled, io.eof, io.host_unreachable, io.connection_reset):
        assert not ec == other
    assert ec.exception() is exc
    assert ec.name == name
    assert ec.message == "lookup failed for the test"


def test_every_gaierror_code_is_distinct_from_errno_and_library_codes():
    eai = [getattr(socket, n) for n in dir(socket) if n.startswith("EAI_")]
    codes = {io.from_exception(socket.gaierror(c, "x")).value for c in eai}
    assert len(codes) == len(set(eai))
    assert not codes & set(errno.errorcode)
    assert not codes & {0, -1, -2}  # success, end of stream, canceled


def test_a_lookup_code_without_its_exception_makes_a_gaierror():
    ec = io.error_code(io.from_exception(socket.gaierror(socket.EAI_NONAME, "x")).value)
    exc = ec.exception()
    assert isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_NONAME
    assert ec == io.host_not_found and "EAI_NONAME" in ec.message
