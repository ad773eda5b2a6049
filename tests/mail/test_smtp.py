"""Building e-mails and describing SMTP errors: pure code, no app, no server."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from app.mail.smtp import POLICY, AddressError, Outgoing, build_email, describe, split_address

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _outgoing(**overrides) -> Outgoing:
    values = {"id": 7, "recipient": "contact@example.org", "recipient_name": "Ерлан Нурланов", "locale": "ru",
              "subject": "Анкета: оценка потребностей", "body_text": "Здравствуйте!\n", "body_html": "<p>Привет</p>"}
    return Outgoing(**{**values, **overrides})


def test_message_is_multipart_alternative_with_encoded_headers():
    email, mail_from, rcpt_to = build_email(_outgoing(), "Оценка потребностей <noreply@example.org>", now=NOW,
                                            reply_to="Project team <team@example.org>")
    raw = email.as_bytes(policy=POLICY)
    assert raw.isascii()  # headers RFC 2047, bodies base64 or quoted-printable: any server takes it
    parsed = message_from_bytes(raw, policy=policy.default)
    assert (mail_from, rcpt_to) == ("noreply@example.org", "contact@example.org")
    assert parsed["From"].addresses[0].display_name == "Оценка потребностей"
    assert parsed["To"].addresses[0].display_name == "Ерлан Нурланов"
    assert parsed["Reply-To"].addresses[0].addr_spec == "team@example.org"
    assert parsed["Subject"] == "Анкета: оценка потребностей"
    assert parsed["Date"].datetime == NOW
    assert parsed["Message-ID"].endswith("@example.org>") and ".outbox.7@" in parsed["Message-ID"]
    assert parsed["Content-Language"] == "ru" and parsed["Auto-Submitted"] == "auto-generated"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content_charset() == "utf-8"


def test_a_long_russian_subject_keeps_every_space_in_a_mail_client():
    """Split into several RFC 2047 encoded words, a long subject must decode to the same text: a reader drops the
    whitespace between two encoded words, so no space of the subject may fall there (Python's own folder put
    one there: «при Правительстве» arrived as «приПравительстве»)."""
    from email.generator import BytesGenerator
    from email.header import decode_header, make_header
    from io import BytesIO

    subject = ("Анкета «Анкета для анализа потребностей в сфере противодействия терроризму» (Таможенная служба при "
               "Правительстве Республики Таджикистан)")
    email, _, _ = build_email(_outgoing(subject=subject), "noreply@example.org", now=NOW)
    sent = BytesIO()
    BytesGenerator(sent, policy=email.policy).flatten(email)  # as smtplib's send_message writes it
    for raw in (sent.getvalue(), email.as_bytes(policy=POLICY)):
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        folded = head[head.index("\r\nSubject: ") + 2:].split("\r\n")
        lines = folded[:1]
        for line in folded[1:]:  # the subject's continuation lines, up to the next header
            if line[:1] not in (" ", "\t"):
                break
            lines.append(line)
        assert len(lines) > 1 and all(len(line) <= 78 for line in lines)
        encoded = "\r\n".join(lines).removeprefix("Subject: ")
        assert str(make_header(decode_header(encoded))) == subject
        assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


def test_message_without_html_is_plain_text():
    email, _, _ = build_email(_outgoing(body_html=""), "noreply@example.org", now=NOW)
    assert email.get_content_type() == "text/plain" and "Reply-To" not in email


def test_header_injection_is_impossible():
    email, _, _ = build_email(_outgoing(subject="Hello\r\nBcc: victim@example.org", recipient_name="A\nB"),
                              "noreply@example.org", now=NOW)
    raw = email.as_bytes(policy=POLICY)
    assert b"\r\nBcc:" not in raw and email["Subject"] == "Hello Bcc: victim@example.org"


@pytest.mark.parametrize("name", [
    "Aigerim Seitkazina, Chief Expert of the International Cooperation Department, attacker@evil.example",
    "Head of department (Ministry of Internal Affairs of the Republic), Bob <attacker@evil.example>",
    "Сейтказина Айгерим, главный эксперт департамента международного сотрудничества, attacker@evil.example",
    'A "quoted" name; with: every special . [in] it \\ and more words to make it long enough to fold',
    "Anna Smith",
])
def test_a_long_display_name_never_adds_a_recipient(name):
    """Folded by Python 3.11, a long display name lost its quotes: its commas and @ then made extra addresses in
    To (an attacker's included, which "Reply all" to a personal link would reach). Every reader must find the one
    recipient, with the name as typed."""
    import re
    from email.header import decode_header, make_header
    from email.utils import getaddresses

    email, _, rcpt_to = build_email(_outgoing(recipient_name=name, recipient="a.seitkazina@example.org"),
                                    '"Needs Assessment, EU project" <noreply@example.org>', now=NOW)
    raw = email.as_bytes(policy=POLICY)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.split("\r\n") if line.startswith(("To:", " ")))
    parsed = message_from_bytes(raw, policy=policy.default)
    (to,) = parsed["To"].addresses
    # (Python's reader keeps the space between two encoded words, which RFC 2047 readers drop: compared without)
    assert (" ".join(to.display_name.split()), to.addr_spec) == (name, "a.seitkazina@example.org")
    assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [
        ("Needs Assessment, EU project", "noreply@example.org")]
    old_reader = message_from_bytes(raw, policy=policy.compat32)
    unfolded = [re.sub(r"\r?\n(?=[ \t])", "", value) for value in old_reader.get_all("To")]  # RFC 5322 2.2.3
    [(shown, address)] = getaddresses(unfolded)
    assert address == "a.seitkazina@example.org" and str(make_header(decode_header(shown))) == name
    assert rcpt_to == "a.seitkazina@example.org"


@pytest.mark.parametrize("address, expected", [
    ("user@example.org", ("user", "example.org")),
    ("user@пример.рф", ("user", "xn--e1afmkfd.xn--p1ai")),
    # IDNA 2008, as the address was checked: ß and ς are letters of their own, not "ss" and "σ" (IDNA 2003 sent
    # kontakt@straße.de to strasse.de, another domain), and capitals are mapped to small letters
    ("kontakt@straße.de", ("kontakt", "xn--strae-oqa.de")),
    ("user@ΣΟΦΊΑς.gr", ("user", "xn--kxae4bobt.gr")),
    ("user@Пример.РФ", ("user", "xn--e1afmkfd.xn--p1ai")),
    ("айгуль@example.org", ("айгуль", "example.org")),
    ('"john doe"@example.org', ("john doe", "example.org")),
])
def test_split_address(address, expected):
    assert split_address(address) == expected


@pytest.mark.parametrize("address", ["", "no-at-sign", "@example.org", "user@", "a@b\r\nBcc: x@y", "<a@b>"])
def test_unusable_addresses_are_refused(address):
    with pytest.raises(AddressError):
        split_address(address)


def test_quoted_local_part_is_quoted_again_on_the_envelope():
    _, _, rcpt_to = build_email(_outgoing(recipient='"john doe"@example.org'), "noreply@example.org", now=NOW)
    assert rcpt_to == '"john doe"@example.org'


def test_describe_is_short_readable_and_hides_the_password():
    assert describe(ConnectionRefusedError(111, "Connection refused")) == \
        "ConnectionRefusedError: [Errno 111] Connection refused"
    error = smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials for s3cret-pass")
    assert describe(error, secret="s3cret-pass") == "SMTPAuthenticationError: 535 5.7.8 Bad credentials for ***"
    assert len(describe(RuntimeError("x" * 5000))) == 500


def test_a_reply_to_with_a_non_ascii_local_part_goes_out_to_an_ascii_recipient():
    """Written by our address folder as ASCII, a Reply-To such as отдел@example.org beside an ASCII recipient
    (no SMTPUTF8) raised an error that stopped the whole outbox; and a name of one very long word made an
    encoded word over RFC 2047's 75 characters."""
    from email.header import decode_header, make_header

    email, _, _ = build_email(_outgoing(recipient_name="Айгерим" * 30), "noreply@example.org", now=NOW,
                              reply_to="Отдел <отдел@example.org>")
    raw = email.as_bytes(policy=POLICY)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Reply-To"].addresses[0].username == "отдел"
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    to = head[head.index("To: ") + 4:].split("\r\nSubject")[0].split(" <")[0]
    assert all(len(word) <= 75 for word in to.split())
    assert str(make_header(decode_header(to.replace("\r\n", "")))) == "Айгерим" * 30
