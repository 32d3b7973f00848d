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


class PersistedQueryNotFound(HubError):
    """Automatic persisted queries: the hash is not known here; the client sends it again with the
    query text. The message is Apollo's protocol token, which clients match on; `detail` explains it."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound", detail="未找到该哈希的查询，请连同查询文本重发 / no document with "
                         "this hash here: send the request again with the query text")


class PersistedQueryNotSupported(HubError):
    """Persisted queries are off (HUB_TRUSTED_DOCUMENTS=off); Apollo's token as the message, as above."""

    code = "PERSISTED_QUERY_NOT_SUPPORTED"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotSupported", detail="本枢纽未启用持久化查询，请发送查询文本 / persisted "
                         "queries are off on this hub: send the query text")


class PersistedQueryHashMismatch(HubError):
    """The request's sha256Hash is not the SHA-256 of its query text; nothing was registered or run."""

    code = "PERSISTED_QUERY_HASH_MISMATCH"


class PersistedQueryNotAllowed(HubError):
    """Allow-list mode (HUB_TRUSTED_DOCUMENTS=only): the document is not registered, so it does not run."""

    code = "PERSISTED_QUERY_NOT_ALLOWED"
