"""The impact evaluation as a background job: the form's choices are kept as the job's
settings (an uploaded comparison file in the data folder, readable by this account
only), and the worker runs `actions.run_evaluation` with them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.urls import reverse

from throughgate.casework.models import Programme
from throughgate.core import jobs
from throughgate.core.models import Job

from . import actions
from .models import PoolSource

KIND = "evaluation"


def start(actor: Any, data: dict[str, Any]) -> Job:
    """Queue an evaluation with the form's cleaned data."""
    programme = data["programme"]
    params = {
        "programme": programme.pk,
        "as_of": data["as_of"].isoformat() if data.get("as_of") else None,
        "index_from": data["index_from"].isoformat() if data.get("index_from") else None,
        "index_to": data["index_to"].isoformat() if data.get("index_to") else None,
        "pool_source": data["pool_source"],
        "covariates": list(data["covariates"]),
        "exact": list(data.get("exact") or []),
        "k": data["k"],
        "caliper": str(data["caliper"]),
        "pool_file": None,
    }
    if data["pool_source"] == PoolSource.FILE:
        params["pool_file"] = jobs.keep_upload(data["pool_file"])
    back = reverse("outcomes:evaluation_new") + "?from_job={job}"
    return jobs.start(actor, KIND, f"Impact evaluation of {programme}", params, back)


def initial_from(job: Job) -> dict[str, Any]:
    """The form's choices as they were for an earlier run (all but the file)."""
    params = job.params
    return {
        key: params[key]
        for key in (
            "programme",
            "as_of",
            "index_from",
            "index_to",
            "pool_source",
            "covariates",
            "exact",
            "k",
            "caliper",
        )  # fmt: skip
        if params.get(key) is not None
    }


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@jobs.handler(KIND)
def run(job: Job, progress: jobs.Progress) -> str:
    params = job.params
    programme = Programme.objects.filter(pk=params["programme"]).first()
    if programme is None:
        raise ValidationError("The programme no longer exists.")
    data: dict[str, Any] = {
        "programme": programme,
        "as_of": _day(params["as_of"]),
        "index_from": _day(params["index_from"]),
        "index_to": _day(params["index_to"]),
        "pool_source": params["pool_source"],
        "covariates": params["covariates"],
        "exact": params["exact"],
        "k": params["k"],
        "caliper": Decimal(params["caliper"]),
    }
    upload = params.get("pool_file")
    try:
        if upload:
            try:
                handle = open(upload["path"], "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                raise ValidationError(
                    "The uploaded comparison file is no longer there; upload it again."
                ) from None
            data["pool_file"] = File(handle, name=upload["name"])
        try:
            evaluation = actions.run_evaluation(job.created_by, data, progress=progress)
        finally:
            if upload:
                data["pool_file"].close()
    except ValidationError:
        _discard(upload)
        raise
    _discard(upload)  # kept after an unexpected error, so that "try again" can use it
    return reverse("outcomes:evaluation", kwargs={"pk": evaluation.pk})


def _discard(upload: dict[str, str] | None) -> None:
    if upload:
        Path(upload["path"]).unlink(missing_ok=True)
