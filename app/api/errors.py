"""Every error under /api/ as JSON of one shape: {"error": {"status", "code", "title", "message", "details"}}.

`code` is stable and meant for programs; `title` and `message` are for people, in the language of the request's
Accept-Language (else DEFAULT_LOCALE; an API request has no session, so nothing else decides).

Errors raised by the API's views (and its authentication, validation and rate limits) go through the
blueprint's handlers; requests under /api/ that match no route (404) or no method (405) are answered by
`routing_error`, so the shape is the same whatever failed.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import LazyString
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.i18n import _, _l, available_locales, force_locale

#: The stable `code` of each status (a more precise code is given where one applies, e.g. invalid_token).
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

#: The `title` of each status: the HTTP status names (translated; werkzeug's English names for any other status).
TITLES = {
    # i18n: HTTP status names, the title of an error of the JSON API
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    406: _l("Not Acceptable"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}

#: The `message` of each status when the code raising it gives none (never werkzeug's English descriptions).
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid API token: Authorization: Bearer <token>."),
    403: _l("Your account may not use this part of the API."),
    404: _l("There is nothing at this address, or you may not see it."),
    405: _l("This address does not accept this method."),
    406: _l("The API answers only in JSON."),
    413: _l("The request is larger than the server accepts."),
    415: _l("The API does not accept this type of content."),
    422: _l("The request is well formed but its content is not valid."),
    429: _l("Too many requests in a short time: wait and try again (see the Retry-After header)."),
    500: _l("An unexpected error happened. It has been logged; please try again later."),
    503: _l("The service is unavailable for a moment: try again later."),
}

#: Messages given as plain English text by code outside this package's views (app.api.spec, which spectree calls):
#: listed so that they are extracted for translation; `error_response` looks every plain message up.
_PLAIN_MESSAGES = (
    _l("A query parameter is missing, malformed or out of range."),
)

#: Headers of an HTTP exception worth keeping on the JSON answer.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """An error to answer as JSON: status, stable code, message for people, optional details and headers.

    `message` is a lazy translation (`_l`), or English text that is looked up in the catalogue when answering;
    either way it is shown in the request's language.
    """

    def __init__(self, status: int, code: str | None = None, message: str | LazyString | None = None, *,
                 details: list[dict] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message or MESSAGES.get(status, ""))
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message or MESSAGES.get(status, HTTP_STATUS_CODES.get(status, ""))
        self.details = details or []
        self.headers = headers or {}


def api_locale() -> str:
    """The language of an API answer: the best of LOCALES for Accept-Language, else DEFAULT_LOCALE."""
    return request.accept_languages.best_match(available_locales()) or current_app.config["DEFAULT_LOCALE"]


def _text(message: str | LazyString | None) -> str:
    if isinstance(message, LazyString):
        return str(message)
    return _(message) if message else ""  # gettext("") would answer the catalogue's header


def error_response(error: ApiError):
    """The JSON answer of an ApiError, its title and message in the request's language."""
    with force_locale(api_locale()):
        title = _text(TITLES.get(error.status)) or HTTP_STATUS_CODES.get(error.status, "Error")
        message = _text(error.message)
        details = [{**detail, "message": _text(detail["message"])} if "message" in detail else detail
                   for detail in error.details]
    body = {"error": {"status": error.status, "code": error.code, "title": title, "message": message,
                      "details": details}}
    response = jsonify(body)
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    """An ApiError for a werkzeug/Flask HTTP exception (routing, abort(), rate limit...)."""
    status = exc.code or 500
    headers = {name: value for name, value in exc.get_headers() if name in _KEPT_HEADERS}
    message = MESSAGES.get(status) or exc.description or ""
    return ApiError(status, message=message, headers=headers)


def is_api_path() -> bool:
    """True for every address under /api/."""
    return request.path == "/api" or request.path.startswith("/api/")


class RoutingError(HTTPException):
    """A 404 or 405 under /api/ (no view matched): answered by the API's handler instead of the HTML one."""

    def __init__(self, original: HTTPException):
        super().__init__(description=original.description)
        self.code = original.code
        self.original = original


def register(bp) -> None:
    """Attach the handlers to the API blueprint (and, for routing errors under /api/, to the app)."""

    @bp.before_app_request
    def mark_routing_error():
        """No view, so no blueprint handler, sees a 404 or 405: mark it so `routing_error` answers it.

        The request goes on as usual (timers, logging) until Flask raises the routing error.
        """
        exc = request.routing_exception
        if exc is None or not is_api_path() or not isinstance(exc, HTTPException):
            return
        if exc.code is None or 300 <= exc.code < 400:
            return  # a redirect, such as a missing trailing slash: let Flask answer it
        request.routing_exception = RoutingError(exc)

    @bp.app_errorhandler(RoutingError)
    def routing_error(exc: RoutingError):
        return error_response(from_http_exception(exc.original))

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is not None and 300 <= exc.code < 400:
            return exc
        return error_response(from_http_exception(exc))

    @bp.errorhandler(Exception)
    def server_error(exc: Exception):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.url_rule)
        db.session.rollback()
        return error_response(ApiError(500))
