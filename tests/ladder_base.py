"""What the access ladder's rows are made of, shared by `test_access_ladder.py` and the
per-app ladder modules beside it (`ladder_*.py`), which add rows for their own URLs.

A ladder module defines:

- ``PAGES``: its `Page` rows;
- ``VISIBLE_TO``: for each object key its pages name, who can *see* that object (so who
  gets 403 rather than 404 on a change they may not make);
- ``build(world) -> dict``: called at the end of the ladder's world-building, returns the
  objects its pages' ``obj`` keys name;
- ``valid_post(page, world, objects) -> dict | None``: data a POST to one of its pages
  accepts (None for pages that are not its own).
"""

from __future__ import annotations

from dataclasses import dataclass

READ = "read"  # a page to look at: GET only
FORM = "form"  # GET shows a form, POST changes something
POST = "post"  # an action: POST only

ROLES = ("mo", "kim", "pat", "cara", "sam", "ade", "fay")
CASEWORKERS = frozenset({"mo", "kim", "pat"})
LOGGED_IN = frozenset(ROLES)
# Who may change the person and log contacts on Mo's mentee's case.
HOLDERS = frozenset({"mo", "cara", "ade"})
MANAGERS = frozenset({"cara", "ade"})
# Who can see Mo's mentee and everything on the mentee's case.
MOS_MENTEE = frozenset({"mo", "cara", "sam", "ade"})

MISSING_PK = 987_654_321


@dataclass(frozen=True)
class Page:
    name: str  # URL name, with namespace
    kind: str  # READ, FORM or POST
    users: frozenset[str]  # who can use it: GET answers `ok`, a valid POST redirects
    obj: str | None = None  # which object's pk goes in the URL
    kwarg: str = "pk"
    personal: bool = True  # shows or changes personal data (the analyst gets 404)
    public: bool = False  # answers without logging in
    ok: int = 200  # what a GET answers the people it is for
    posted: int = 302  # what a valid POST answers them
    fixed: tuple[tuple[str, str], ...] = ()  # URL arguments that name no object

    def __str__(self) -> str:
        return self.name

    @property
    def changes(self) -> bool:
        return self.kind != READ

    @property
    def methods(self) -> tuple[str, ...]:
        return {READ: ("get",), FORM: ("get", "post"), POST: ("post",)}[self.kind]

    @property
    def wrong_methods(self) -> tuple[str, ...]:
        return {READ: ("post", "delete"), FORM: ("put", "delete"), POST: ("get", "put")}[self.kind]
