"""Locust sessions for bench/load.py: staff doing their day's work (issue 9, acceptance 3).

Run by bench/load.py, which prepares the accounts and starts the server; not meant to be
run on its own. Each simulated user takes one staff account from the JSON file named by
LOAD_ACCOUNTS (one account per session, so each has its own authenticator app: django-otp
accepts a code only once per device), logs in through the real log-in form and code page,
then works as its role does with 1-5 s of thought between pages:

- mentor: home (their caseload), open one of their cases, log a contact (a real POST
  with the CSRF token from the form), search for a person;
- coordinator: referral queue, release calendar, cases list;
- manager: audit log, reports dashboard, funder report.

A request fails when it answers anything but 2xx (after redirects), or lands on the
log-in or code page when the session should be logged in.

This file imports no Django: Locust patches the standard library with gevent, and the
server under test is a separate process.
"""

from __future__ import annotations

import hmac
import json
import os
import random
import re
import struct
import time
from datetime import datetime
from hashlib import sha1
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from locust import HttpUser, between, events, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOGGED_OUT_PATHS = ("/login/", "/two-factor/")

with open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8") as _handle:
    ACCOUNTS: list[dict[str, Any]] = json.load(_handle)
_next_account = iter(ACCOUNTS)

# Every response time after log-in, for one p95 over the day's work (Locust's own total
# mixes in the log-ins, slow on purpose: Argon2). Written when Locust stops.
_work_times: list[float] = []


@events.request.add_listener
def _note_time(name: str, response_time: float, exception: Any, **_: Any) -> None:
    if not name.startswith("log in"):
        _work_times.append(response_time)


@events.quitting.add_listener
def _write_times(**_: Any) -> None:
    target = os.environ.get("LOAD_WORK_TIMES")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(_work_times, handle)


def totp(key_hex: str, step: int = 30, digits: int = 6, t0: int = 0) -> str:
    """The code an authenticator app shows now (RFC 6238, HMAC-SHA1, as django-otp)."""
    counter = int((time.time() - t0) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


def london_now() -> str:
    """Now, as the contact form's date-and-time box takes it (the app's zone)."""
    return datetime.now(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")


def csrf_token(text: str) -> str | None:
    found = CSRF.search(text)
    return found.group(1) if found else None


class StaffSession(HttpUser):
    wait_time = between(1, 5)

    def on_start(self) -> None:
        try:
            self.account = next(_next_account)
        except StopIteration:  # more users than accounts: bench/load.py makes enough
            raise RuntimeError("more simulated users than prepared accounts") from None
        self.role = self.account["role"]
        self.log_in()

    # --- helpers -------------------------------------------------------------------

    def page(self, url: str, name: str) -> str | None:
        """Think (1-5 s), then GET a page that needs the session; fail on an error or a
        log-in page."""
        self.wait()
        with self.client.get(url, name=name, catch_response=True) as response:
            return self._check(response)

    def _check(self, response: Any, expect_redirect_to: str | None = None) -> str | None:
        if response.status_code >= 400 or response.status_code == 0:
            response.failure(f"HTTP {response.status_code}")
            return None
        path = urlsplit(response.url or "").path
        if path.startswith(LOGGED_OUT_PATHS):
            response.failure(f"sent to {path} while logged in")
            return None
        if expect_redirect_to is not None and not path.startswith(expect_redirect_to):
            response.failure(f"not saved: ended on {path} (HTTP {response.status_code})")
            return None
        response.success()
        return response.text

    def log_in(self) -> None:
        with self.client.get("/login/", name="log in: form", catch_response=True) as response:
            token = csrf_token(response.text) if response.status_code == 200 else None
            if token is None:
                response.failure(f"no log-in form (HTTP {response.status_code})")
                return
        data = {"username": self.account["username"], "password": self.account["password"],
                "next": "/", "csrfmiddlewaretoken": token}  # fmt: skip
        with self.client.post("/login/", data, name="log in: password",
                              catch_response=True) as response:  # fmt: skip
            path = urlsplit(response.url or "").path
            if response.status_code >= 400 or path == "/login/":
                response.failure(f"password refused (HTTP {response.status_code})")
                return
            if not path.startswith("/two-factor/"):
                response.success()  # two-factor log-in is off for this run
                return
            token = csrf_token(response.text)
            code_url = response.url
            response.success()
        data = {"code": totp(self.account["totp_key"]), "next": "/", "csrfmiddlewaretoken": token}
        with self.client.post(code_url, data, name="log in: code",
                              catch_response=True) as response:  # fmt: skip
            self._check(response)

    # --- the day's work ------------------------------------------------------------

    @task
    def work(self) -> None:
        # Each page is preceded by its own think time (self.page), so the task itself
        # adds no wait after it.
        getattr(self, f"work_as_{self.role}")()

    def work_as_mentor(self) -> None:
        self.page("/", "mentor: home (caseload)")
        if not self.account["cases"]:
            return
        case = random.choice(self.account["cases"])
        self.page(f"/cases/{case}/", "mentor: case page")
        form_url = f"/cases/{case}/contacts/new/"
        form = self.page(form_url, "mentor: contact form")
        token = csrf_token(form or "")
        if token:
            self.wait()  # typing the contact
            data = {"occurred_at": london_now(), "mode": "phone",
                    "attendance": "attended", "duration_minutes": "20",
                    "summary": "Phoned to check in before the probation appointment; "
                               "talked through the bus route and what to bring.",
                    "concerns": "", "next_steps": "Meet on Thursday.",
                    "csrfmiddlewaretoken": token}  # fmt: skip
            with self.client.post(form_url, data, name="mentor: log a contact (POST)",
                                  catch_response=True) as response:  # fmt: skip
                self._check(response, expect_redirect_to=f"/cases/{case}/")
        self.page(f"/people/search/?q={self.account['search']}", "mentor: person search")

    def work_as_coordinator(self) -> None:
        self.page("/referrals/", "coordinator: referral queue")
        self.page("/releases/", "coordinator: release calendar")
        self.page("/cases/", "coordinator: cases list")

    def work_as_admin(self) -> None:
        self.page("/audit/", "manager: audit log")
        self.page("/reports/", "manager: reports dashboard")
        self.page("/reports/funder/", "manager: funder report")
