"""Building an e-mail from an outbox message and handing it to an SMTP server. Pure: no Flask, no database.

One `SmtpSession` serves a batch: it connects on the first message and reuses the connection, reconnects
once after the server dropped it, and after a failed connection reports every further message of the batch
as "retry later" without trying again, so an unreachable server costs one time-out per batch, not one per
message. Error texts are short, in English, and never contain the password: they are stored in the outbox
for the staff who read the admin page (which translates the sentences of `_connect` and the SMTPUTF8 refusal with
app.mail.errors.error_text: change their wording in both places).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr

import idna


class _Policy(EmailPolicy):
    """The standard library's SMTP policy, except for a subject that needs RFC 2047 encoding.

    Python 3.11's folder splits a long non-ASCII subject into encoded words at a space and leaves that space
    between them, where RFC 2047 says a reader must drop it: «служба при Правительстве» reached mail clients
    as «служба приПравительстве». The older `email.header.Header` keeps every space inside the encoded words."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            return self._encoded(name, value)
        if self._writes_addresses(name, value):
            return self._addresses(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self._encoded(name, value).encode("ascii")
        if self._writes_addresses(name, value):
            return self._addresses(name, value).encode("utf-8" if self.utf8 else "ascii")
        return super().fold_binary(name, value)

    def _writes_addresses(self, name: str, value) -> bool:
        """Whether `_addresses` writes this header: an address header, unless one of its addresses has a local part
        that is not ASCII while the message goes out without SMTPUTF8 (a Reply-To such as отдел@example.org beside
        an ASCII recipient), which the standard folder writes as it always did."""
        addresses = getattr(value, "addresses", None)
        if name.lower() not in _ADDRESS_HEADERS or not addresses:
            return False
        return self.utf8 or all(address.username.isascii() for address in addresses)

    def _addresses(self, name: str, value) -> str:
        """An address header written by hand. Python 3.11's folder drops the quotes of a long display name when
        it folds it: "Aigerim Seitkazina, Chief Expert ..., x@evil.example" <real@...> then reads as three
        addresses, the last one the attacker's, which "Reply all" (to a personal link) would write to. Each
        display name is a plain phrase when it is ASCII words only, a quoted string when it is ASCII with specials,
        else RFC 2047 encoded words, which hold no comma, @ or angle bracket; the line is folded at the spaces
        between words, which any reader takes."""
        items = []
        for address in value.addresses:
            spec = address.addr_spec  # its domain already in ASCII: build_email's addresses pass split_address
            display = " ".join(address.display_name.split())
            if not display:
                items.append(spec)
                continue
            if display.isascii():
                if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+", display):  # specials: a quoted string
                    display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
            else:
                display = _encoded_words(display)
            items.append(f"{display} <{spec}>")
        return _fold_words(f"{name}: " + ", ".join(items), self.max_line_length, self.linesep)

    def _encoded(self, name: str, value: str) -> str:
        folded = Header(str(value), "utf-8", maxlinelen=self.max_line_length, header_name=name)
        return f"{name}: {folded.encode(linesep=self.linesep)}{self.linesep}"


#: The headers of addresses `_Policy` writes itself.
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to"}


def _encoded_words(text: str) -> str:
    """`text` as RFC 2047 encoded words of at most 75 characters, each ending with the space that followed its
    last word (a reader drops the spaces between encoded words, so the text's own spaces must be inside them),
    separated by spaces: a comma or an @ of the text is inside an encoded word, never a separator."""
    def encode(chunk: str) -> str:
        whole = Header(chunk, "utf-8").encode(maxlinelen=10_000)
        if len(whole) <= 75:
            return whole
        # one word too long for one encoded word: several, split inside it (a reader joins them without a space)
        return Header(chunk, "utf-8", maxlinelen=75).encode(linesep=" ").replace("  ", " ")

    words = text.split(" ")
    chunks: list[str] = []
    for n, word in enumerate(words):
        piece = word + (" " if n < len(words) - 1 else "")
        if chunks and len(encode(chunks[-1] + piece)) <= 75:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return " ".join(encode(chunk) for chunk in chunks)


def _fold_words(line: str, width: int, linesep: str) -> str:
    """`line` broken at spaces into lines of at most `width` characters where the words allow (continuation
    lines start with a space), ended by `linesep`."""
    lines: list[str] = []
    for word in line.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        elif lines:
            lines.append(" " + word)
        else:
            lines.append(word)
    return linesep.join(lines) + linesep


#: CRLF line ends, headers encoded per RFC 2047, and bodies never sent as raw 8-bit data (quoted-printable or
#: base64), so a server without 8BITMIME receives Russian text intact.
POLICY = _Policy(linesep="\r\n", cte_type="7bit")

#: The longest error text kept for a message (enough for a server's answer, short enough for a table cell).
MAX_ERROR_LENGTH = 500

#: Results of one delivery attempt.
SENT, RETRY, FAILED, BOUNCED = "sent", "retry", "failed", "bounced"


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server (the MAIL_* settings)."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: float = 10.0
    reply_to: str = ""


@dataclass(frozen=True)
class Outgoing:
    """The parts of one outbox message that go into the e-mail (read before sending, so no database
    transaction stays open while the server answers)."""

    id: int
    recipient: str
    recipient_name: str
    locale: str
    subject: str
    body_text: str
    body_html: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: SENT, RETRY (temporary failure), FAILED or BOUNCED (permanent)."""

    result: str
    error: str | None = None
    #: True when the server could not be reached at all (connection, TLS or sign-in failed).
    unreachable: bool = False


class AddressError(ValueError):
    """An address that cannot be written on an envelope."""


def split_address(address: str) -> tuple[str, str]:
    """(local part, ASCII domain) of an e-mail address; an internationalised domain is converted to IDNA."""
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ord(c) < 32 or c in "<>\x7f" for c in address):
        raise AddressError(f"not a usable e-mail address: {address!r}")
    if len(local) > 1 and local.startswith('"') and local.endswith('"'):
        local = local[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not domain.isascii():
        # IDNA 2008 with UTS 46 mapping, as email-validator checks addresses: Python's "idna" codec is IDNA 2003,
        # which maps straße.de to strasse.de, another domain, and would deliver a personal link there.
        try:
            domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise AddressError(f"not a usable e-mail domain: {domain!r}") from exc
    return local, domain


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def header_address(text: str) -> Address:
    """An Address header value of "address" or "Name <address>" (AddressError when it is neither)."""
    name, address = parseaddr(text)
    local, domain = split_address(address or text)
    return Address(display_name=_one_line(name), username=local, domain=domain)


def build_email(message: Outgoing, sender: str, *, now: datetime,
                reply_to: str = "") -> tuple[EmailMessage, str, str]:
    """The e-mail (plain text with an HTML alternative), its envelope sender and its envelope recipient.

    `sender` (MAIL_DEFAULT_SENDER) and `reply_to` are an address or "Name <address>"; `now` (timezone-aware)
    is the Date. Raises AddressError for an address that cannot be used.
    """
    from_address = header_address(sender)
    local, domain = split_address(message.recipient)
    to_address = Address(display_name=_one_line(message.recipient_name), username=local, domain=domain)
    email = EmailMessage(policy=POLICY)
    email["From"] = from_address
    email["To"] = to_address
    if reply_to:
        email["Reply-To"] = header_address(reply_to)
    email["Subject"] = _one_line(message.subject)
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(idstring=f"outbox.{message.id}", domain=from_address.domain)
    # RFC 3834: no out-of-office replies to automatic messages.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    # After the body: making the message multipart moves every Content-* header into its first part.
    email["Content-Language"] = message.locale
    return email, from_address.addr_spec, to_address.addr_spec


def _decode(answer) -> str:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    return str(answer)


def describe(exc: BaseException, *, secret: str = "") -> str:
    """A short readable text of an error: its class and message (the password, if given, is masked)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    else:
        detail = str(exc) or repr(exc)
    text = _one_line(f"{type(exc).__name__}: {detail}")
    if secret:
        text = text.replace(secret, "***")
    return text[:MAX_ERROR_LENGTH]


class SmtpSession:
    """One SMTP connection for a batch of messages; use it as a context manager."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        #: Set when connecting failed; every further message of the batch is then reported, not tried.
        self.connect_error: str | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye to the server (or just drop the connection if it is gone)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        stage = f"SMTP server {where} unreachable"
        smtp = None
        try:
            if s.use_ssl:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.use_tls and not s.use_ssl:
                stage = f"STARTTLS with {where} failed"
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.username:
                stage = f"sign-in to {where} as {s.username} failed"
                smtp.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                smtp.close()
            self.connect_error = f"{stage}: {describe(exc, secret=s.password)}"[:MAX_ERROR_LENGTH]
            raise
        return smtp

    def deliver(self, message: Outgoing, *, now: datetime) -> Outcome:
        """Send one message and say what happened; never raises for a mail problem."""
        try:
            email, from_addr, to_addr = build_email(message, self.settings.sender, now=now,
                                                    reply_to=self.settings.reply_to)
        except (AddressError, ValueError) as exc:
            return Outcome(FAILED, describe(exc))
        if self.connect_error is not None:
            return Outcome(RETRY, self.connect_error, unreachable=True)
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (OSError, smtplib.SMTPException):
                return Outcome(RETRY, self.connect_error, unreachable=True)
        secret = self.settings.password
        try:
            self._smtp.send_message(email, from_addr=from_addr, to_addrs=[to_addr])
        except smtplib.SMTPRecipientsRefused as exc:
            code, answer = next(iter(exc.recipients.values()), (0, b""))
            text = _one_line(f"{type(exc).__name__}: {code} {_decode(answer)}")[:MAX_ERROR_LENGTH]
            return Outcome(BOUNCED if code >= 500 else RETRY, text)
        except smtplib.SMTPNotSupportedError:
            return Outcome(FAILED, f"The SMTP server {self.settings.host}:{self.settings.port} does not support "
                                   f"SMTPUTF8, which the address {message.recipient} needs (non-ASCII characters "
                                   "before the @). Use a server that supports SMTPUTF8, or another address.")
        except smtplib.SMTPDataError as exc:
            # A 5xx answer to the message itself (too large, refused as spam): sending it again will not help.
            return Outcome(FAILED if exc.smtp_code >= 500 else RETRY, describe(exc, secret=secret))
        except smtplib.SMTPSenderRefused as exc:
            # Our sender address was refused: a setting to fix, after which the queue should go out.
            return Outcome(RETRY, describe(exc, secret=secret))
        except UnicodeError as exc:
            # The message cannot be written for this server (written before anything is sent): it fails alone,
            # rather than stopping every message queued after it.
            return Outcome(FAILED, describe(exc, secret=secret))
        except (OSError, smtplib.SMTPException) as exc:
            # Disconnected, timed out or an answer out of order: the connection is not trusted any more.
            self._drop()
            return Outcome(RETRY, describe(exc, secret=secret))
        return Outcome(SENT)

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
