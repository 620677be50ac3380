"""Mail servers on loopback for the email tests: one that works (aiosmtpd), one that refuses
connections, one that accepts them and then says nothing (a hung server)."""

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the working server received, as parsed messages."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


@dataclass
class MailServers:
    working_port: int
    refusing_port: int
    hung_port: int
    inbox: Inbox

    def use(self, settings, which: str) -> None:
        """Point Django's SMTP settings at one of the servers."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = getattr(self, f"{which}_port")
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 1


@pytest.fixture
def mail_servers():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    # Bound but not listening: the kernel refuses every connection.
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))
    # Listening but never accepting nor greeting: connections open, then nothing is said.
    hung = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield MailServers(port, refusing.getsockname()[1], hung.getsockname()[1], inbox)
    finally:
        controller.stop()
        refusing.close()
        hung.close()
