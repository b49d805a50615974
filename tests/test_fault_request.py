"""Issue 9, acceptance 4 (second half): killing the server mid-request loses no
committed contact.

A real `throughgate serve` (Waitress, production settings: DEBUG off, two-factor on;
plain HTTP only because it listens on loopback) runs against a file database of the
kind the suite runs on (SQLite in a temporary folder, or a scratch PostgreSQL database
when DATABASE_URL points at PostgreSQL). A mentor logs in through the real log-in form
and code page, and several threads log contacts through the real contact form while
the server is killed with SIGKILL. After a restart: every contact the server said it
saved (the redirect back to the case) is there with its exact text, each contact that
is there has its audit event (one transaction), the audit chain verifies, and the
server serves again with the same session.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import requests

from tests.test_backup import ROOT, command, run_cli
from tests.test_jobs import Database, wait_for

POSTERS = 6  # threads logging contacts at once
KILL_AFTER = 12  # contacts saved before the kill
PASSWORD = "a-long-passphrase-for-the-fault-test"
TOTP_KEY = "3132333435363738393031323334353637383930"  # the RFC 6238 test secret, in hex

SET_UP = """
import json
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests import make
from throughgate.accounts.roles import Role
team = make.make_team("Custody team")
cara = make.make_user("cara", Role.COORDINATOR, team)
mo = make.make_user("mo", Role.MENTOR, team)
mo.set_password({password!r})
mo.save(update_fields=["password"])
TOTPDevice.objects.create(user=mo, name="Authenticator app", confirmed=True, key={key!r})
case = make.make_case(mentor=mo, actor=cara)
print(json.dumps({{"case": case.pk}}))
"""
# Read back through the ORM, not raw SQL: free text may be encrypted at rest.
READ_BACK = """
import json
from throughgate.casework.models import Contact
from throughgate.core.models import AuditEvent
audited = set(AuditEvent.objects.filter(object_type="casework.contact", action="create")
              .values_list("object_id", flat=True))
print(json.dumps([{"id": c.pk, "summary": c.summary, "audited": str(c.pk) in audited}
                  for c in Contact.objects.filter(case_id=CASE)]))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(db: Database) -> dict[str, str]:
    env = dict(db.env)
    env.update(DEBUG="false", HTTPS="off", TWO_FACTOR_REQUIRED="true",
               ALLOWED_HOSTS="127.0.0.1,localhost")  # fmt: skip
    return env


def current_code() -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}"


def london_now() -> str:
    """Now, as the contact form's date-and-time box takes it (the app's zone)."""
    return datetime.now(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Server:
    def __init__(self, env: dict[str, str], port: int):
        self.env, self.port = env, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            command("serve", "--host", "127.0.0.1", "--port", str(self.port), "--threads", "8"),
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        wait_for(self.healthy, 60, "the server to answer")

    def healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "the server stopped"
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def log_in(server: Server) -> requests.Session:
    """Log in as a person does: the password form, then the code from the app."""
    session = requests.Session()
    page = session.get(server.url + "/login/", timeout=30)
    answer = session.post(
        server.url + "/login/",
        data={
            "username": "mo",
            "password": PASSWORD,
            "next": "/",
            "csrfmiddlewaretoken": csrf_token(page.text),
        },  # fmt: skip
        timeout=30,
    )
    assert "/two-factor/" in answer.url, answer.url
    answer = session.post(
        answer.url,
        data={"code": current_code(), "next": "/", "csrfmiddlewaretoken": csrf_token(answer.text)},
        timeout=30,
    )
    assert answer.status_code == 200 and "/two-factor/" not in answer.url, answer.url
    return session


@dataclass
class Outcomes:
    saved: list[str] = field(default_factory=list)  # the server answered "Contact logged"
    unanswered: list[tuple[str, float]] = field(default_factory=list)  # (text, sent at)
    refused: list[tuple[str, int]] = field(default_factory=list)  # answered, but not saved
    lock: threading.Lock = field(default_factory=threading.Lock)


def keep_logging_contacts(server: Server, session: requests.Session, case: int, token: str,
                          outcomes: Outcomes, stop: threading.Event) -> None:  # fmt: skip
    url = f"{server.url}/cases/{case}/contacts/new/"
    # Each thread its own connection, sharing the session cookie: many requests in flight.
    mine = requests.Session()
    mine.cookies.update(session.cookies)
    while not stop.is_set():
        text = f"Met at the library, talked about college. {uuid.uuid4()}"
        when = london_now()
        data = {"occurred_at": when, "mode": "community", "attendance": "attended",
                "duration_minutes": "45", "summary": text, "concerns": "", "next_steps": "",
                "csrfmiddlewaretoken": token}  # fmt: skip
        sent = time.monotonic()
        try:
            answer = mine.post(url, data=data, allow_redirects=False, timeout=30,
                               headers={"Referer": url})  # fmt: skip
        except requests.RequestException:
            with outcomes.lock:
                outcomes.unanswered.append((text, sent))
            time.sleep(0.05)
            continue
        with outcomes.lock:
            if answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{case}/"):
                outcomes.saved.append(text)
            else:
                outcomes.refused.append((text, answer.status_code))


def test_killing_the_server_mid_request_loses_no_committed_contact(tmp_path):
    db = Database(tmp_path)
    env = production_env(db)
    server = Server(env, free_port())
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        made = run_cli(env, "manage", "shell", "--no-imports", "-c",
                       SET_UP.format(password=PASSWORD, key=TOTP_KEY))  # fmt: skip
        assert made.returncode == 0, made.stderr
        case = json.loads(made.stdout.strip().splitlines()[-1])["case"]

        server.start()
        session = log_in(server)
        form = session.get(f"{server.url}/cases/{case}/contacts/new/", timeout=30)
        assert form.status_code == 200 and "Log a contact" in form.text
        token = csrf_token(form.text)

        outcomes = Outcomes()
        for _ in range(POSTERS):
            thread = threading.Thread(
                target=keep_logging_contacts,
                args=(server, session, case, token, outcomes, stop),
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        wait_for(lambda: len(outcomes.saved) >= KILL_AFTER, 120, f"{KILL_AFTER} saved contacts")
        killed_at = time.monotonic()
        server.kill()  # while the other threads' requests are in flight
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)

        assert not outcomes.refused, outcomes.refused
        cut_off = [text for text, sent in outcomes.unanswered if sent < killed_at]
        assert cut_off, "no request was in flight when the server was killed"

        server.start()  # the same database, the same port
        again = session.get(f"{server.url}/cases/{case}/", timeout=30)
        assert again.status_code == 200 and "/login/" not in again.url  # the session survived

        read = run_cli(env, "manage", "shell", "--no-imports", "-c",
                       READ_BACK.replace("CASE", str(case)))  # fmt: skip
        assert read.returncode == 0, read.stderr
        stored = json.loads(read.stdout.strip().splitlines()[-1])
        texts = [row["summary"] for row in stored]

        # Every contact the server said it saved is there, once, with its exact text.
        assert sorted(outcomes.saved) == sorted(t for t in texts if t in outcomes.saved)
        assert len(texts) == len(set(texts))
        # Nothing else appeared from nowhere: at most the ones whose answer was cut off.
        sent_texts = set(outcomes.saved) | {text for text, _ in outcomes.unanswered}
        assert set(texts) <= sent_texts
        # No contact half-written: each has its audit event (same transaction).
        assert all(row["audited"] for row in stored), [r for r in stored if not r["audited"]]

        verified = run_cli(env, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr

        # And the restarted server takes new contacts.
        more = session.post(
            f"{server.url}/cases/{case}/contacts/new/",
            data={"occurred_at": london_now(), "mode": "phone",
                  "attendance": "attended", "duration_minutes": "10",
                  "summary": "Phoned after the restart.", "csrfmiddlewaretoken": token},
            headers={"Referer": server.url + "/"}, allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert more.status_code == 302, more.status_code
    finally:
        stop.set()
        server.stop()
        for thread in threads:
            thread.join(timeout=40)
        db.drop()
