"""Errors as types with a code and a bilingual message (extensions.code in GraphQL)."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the hub's errors: `code` goes to extensions.code; the message is Chinese / English."""

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code, **extensions}


class BadUserInput(HubError):
    """The request's input is malformed or names something unknown; nothing was changed."""

    code = "BAD_USER_INPUT"


class NotFound(HubError):
    """The named thing does not exist."""

    code = "NOT_FOUND"


class Forbidden(HubError):
    """The principal may not do or see this."""

    code = "FORBIDDEN"


class Unauthenticated(HubError):
    """No or bad credentials."""

    code = "UNAUTHENTICATED"


class SourceUnavailable(HubError):
    """A department database did not answer; the rest of the answer still stands."""

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, department: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(
            f"数据源「{department}」暂不可用 / source '{department}' is unavailable{detail}",
            source=department,
        )
        self.department = department


class MappingError(HubError):
    """A mapping file is malformed or does not fit its database."""

    code = "MAPPING_ERROR"


class Conflict(HubError):
    """The request contradicts the current state (e.g. an illegal lifecycle transition); nothing changed."""

    code = "CONFLICT"


class InstitutionFrozen(HubError):
    """The institution is frozen for this kind of change."""

    code = "INSTITUTION_FROZEN"


class PayloadTooLarge(HubError):
    """The request body is larger than `max_body_bytes` (HTTP 413)."""

    code = "PAYLOAD_TOO_LARGE"


class QueryTooLarge(HubError):
    """The query text is longer than `max_query_chars`; it was not parsed."""

    code = "QUERY_TOO_LARGE"


class QueryTooComplex(HubError):
    """The operation's estimated cost is over the caller's limit; nothing was executed."""

    code = "QUERY_TOO_COMPLEX"


class AnswerTooLarge(HubError):
    """The answer is larger than `max_answer_bytes`; it was not sent."""

    code = "ANSWER_TOO_LARGE"


class BadRequest(HubError):
    """The HTTP request itself is malformed (not a JSON object, a batch, no query …)."""

    code = "BAD_REQUEST"


class AuditUnavailable(HubError):
    """The audit log could not record a read of personal data, so its answer is not sent."""

    code = "AUDIT_UNAVAILABLE"

    def __init__(self, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"审计日志无法记录，不予答复 / the audit log cannot record this read, so it is not answered{detail}")


class StoreBehind(HubError):
    """The hub store is not at the shipped migrations' head; `hub db upgrade` migrates it."""

    code = "STORE_BEHIND"
