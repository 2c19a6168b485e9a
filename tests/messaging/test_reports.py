"""The DSN (RFC 3464) and complaint (RFC 5965, ARF) parser on sample reports written after
the RFCs' examples and the shape Postfix and Sendmail give them (tests/messaging/samples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenure.messaging.reports import Bounce, ReportKind, classify, parse_report

SAMPLES = Path(__file__).parent / "samples"


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_a_postfix_550_5_1_1_is_a_hard_bounce_of_the_recipient() -> None:
    report = parse_report(_sample("postfix_550_user_unknown.eml"))
    assert report.kind is ReportKind.delivery_status
    (recipient,) = report.recipients
    assert recipient.recipient == "nobody@customer.example.net"
    assert recipient.original_recipient == "nobody@customer.example.net"
    assert (recipient.action, recipient.status, recipient.bounce) == (
        "failed",
        "5.1.1",
        Bounce.hard,
    )
    assert recipient.remote_mta == "mx1.customer.example.net"
    # The folded Diagnostic-Code is read as one line
    assert recipient.diagnostic_code == (
        "smtp; 550 5.1.1 <nobody@customer.example.net>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert report.reporting_mta == "mail.example.org"
    # From the returned headers (text/rfc822-headers): the message it is about
    assert report.original_message_id == "<msg-42.person-7@shop.example.com>"
    assert report.hard_bounces == report.recipients and report.soft_bounces == ()


def test_a_delayed_452_4_2_2_mailbox_full_is_a_soft_bounce() -> None:
    report = parse_report(_sample("delayed_452_mailbox_full.eml"))
    assert report.kind is ReportKind.delivery_status
    (recipient,) = report.recipients
    assert (recipient.recipient, recipient.action) == ("full.box@customer.example.net", "delayed")
    assert (recipient.status, recipient.bounce) == ("4.2.2", Bounce.soft)
    assert recipient.diagnostic_code == "SMTP; 452 4.2.2 Mailbox full"
    # From the returned message (message/rfc822)
    assert report.original_message_id == "<msg-77.person-9@shop.example.com>"


def test_a_report_on_several_recipients_classifies_each() -> None:
    report = parse_report(_sample("multi_recipient.eml"))
    assert [(r.recipient, r.action, r.status, r.bounce) for r in report.recipients] == [
        ("gone@one.example.net", "failed", "5.1.1", Bounce.hard),
        ("busy@two.example.net", "delayed", "4.4.1", Bounce.soft),
        ("closed@three.example.net", "failed", "5.2.1", Bounce.hard),
        ("ok@four.example.net", "delivered", "2.0.0", None),
    ]
    assert [r.recipient for r in report.hard_bounces] == [
        "gone@one.example.net",
        "closed@three.example.net",
    ]
    assert [r.recipient for r in report.soft_bounces] == ["busy@two.example.net"]
    assert report.original_message_id == "<campaign-12.batch-3@shop.example.com>"


def test_an_arf_abuse_report_is_a_complaint_naming_the_recipient_and_message() -> None:
    report = parse_report(_sample("arf_abuse.eml"))
    assert report.kind is ReportKind.complaint
    assert report.feedback_type == "abuse"
    assert report.complained_recipients == ("annoyed@mailbox-provider.example",)
    assert report.original_message_id == "<campaign-12.person-31@shop.example.com>"
    assert report.source_ip == "198.51.100.7"
    assert report.reporting_mta == "mail.mailbox-provider.example"
    assert report.recipients == ()


def test_a_complaint_without_original_rcpt_to_names_the_original_to() -> None:
    raw = _sample("arf_abuse.eml").replace(
        b"Original-Rcpt-To: <annoyed@mailbox-provider.example>\n", b""
    )
    report = parse_report(raw)
    assert report.kind is ReportKind.complaint
    assert report.complained_recipients == ("annoyed@mailbox-provider.example",)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_sample("not_a_report.eml"), "a text/plain message, not multipart/report"),
        (_sample("truncated_report.eml"), "names no recipient"),
        (b"", "not multipart/report"),
        (b"\x00\xff\xfe garbage \x80\x81", "not multipart/report"),
        ("Content-Type: multipart/report; report-type=delivery-status\n\nno parts", "part"),
        (
            "Content-Type: multipart/report; report-type=disposition-notification; "
            'boundary="b"\n\n--b\nContent-Type: text/plain\n\nread\n--b--\n',
            "of type 'disposition-notification'",
        ),
        (
            'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n'
            "--b\nContent-Type: message/feedback-report\n\nUser-Agent: x\n--b--\n",
            "no Feedback-Type",
        ),
    ],
)
def test_anything_else_is_not_a_report_with_a_reason(raw: bytes | str, reason: str) -> None:
    report = parse_report(raw)
    assert report.kind is ReportKind.not_a_report
    assert report.reason is not None and reason in report.reason
    assert report.recipients == () and report.complained_recipients == ()


def test_truncated_copies_of_every_sample_never_raise() -> None:
    for path in sorted(SAMPLES.glob("*.eml")):
        raw = path.read_bytes()
        for end in range(0, len(raw), 37):
            report = parse_report(raw[:end])
            assert report.kind in ReportKind


def test_the_status_comes_from_the_diagnostic_when_missing() -> None:
    assert classify(None, "smtp; 550 5.7.1 Message rejected as spam") == ("5.7.1", Bounce.hard)
    assert classify(None, "smtp; 421 Service not available") == (None, Bounce.soft)
    assert classify("5.1.10", None) == ("5.1.10", Bounce.hard)
    assert classify("2.0.0", None) == ("2.0.0", None)
    assert classify("bogus", "no code here") == (None, None)
