"""Impact evaluation from the outcomes pages (issue 6): the charity's own cohort as the
evaluation sees it, running one against an uploaded file or the people the charity could
not take on, the stored report, and every bad file refused with nothing stored."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from throughgate.casework import actions as casework_actions
from throughgate.core.models import AuditAction, AuditEvent, Job, JobStatus
from throughgate.custody import actions as custody_actions
from throughgate.outcomes import evaluation as cohort
from throughgate.outcomes.models import EvaluationRun

from . import make
from .test_bad_input import SavesNothing, assert_refused_on_field
from .test_outcomes import convicted, released_case

TODAY = timezone.localdate
MATURE = 600  # days since release: past the 18 months of follow-up and waiting
COPIES = 5  # pool members identical to each participant, so matching is exact


@pytest.fixture
def small_minimum(settings):
    settings.EVALUATION_MIN_PARTICIPANTS = 8
    return 8


@pytest.fixture
def cohort12(cara, mo, programme, small_minimum):
    """Twelve mature participants of the custody programme; 3 reoffended in the year."""
    cases = []
    for i in range(12):
        case = released_case(
            cara, mo, MATURE + 7 * i, gender="female" if i % 4 == 0 else "male",
            date_of_birth=TODAY() - timedelta(days=365 * (19 + i % 5) + MATURE),
        )  # fmt: skip
        if i % 3 == 0:  # a conviction before custody: criminal history
            convicted(cara, case.person, MATURE + 400, MATURE + 300)
        if i in (1, 5, 9):  # reoffended 40 days after release
            days_ago = MATURE + 7 * i - 40
            convicted(cara, case.person, days_ago, days_ago - 60)
        cases.append(case)
    return cases


def participants_frame(programme):
    return cohort.frame(cohort.participants_of(programme), TODAY())


def pool_for(treated: pd.DataFrame, reoffended_share: float = 0.6, others: int = 200):
    """A comparison file: COPIES people identical on every covariate to each participant
    (so each is matched exactly), `reoffended_share` of them reoffending, plus `others`
    people in the same ranges but never quite the same (every participant here spent 150
    days inside; they spent more or less, on both sides, so nothing separates them)."""
    rows = []
    for _, person in treated.iterrows():
        for c in range(COPIES):
            again = c < round(COPIES * reoffended_share)
            rows.append({**person.drop(["person_id", "index_date"]).to_dict(),
                         "reoffended": int(again), "offences": 2 if again else 0,
                         "days_to_first": 30 if again else None})  # fmt: skip
    for i in range(others):
        rows.append({
            "age_at_index": 18 + i % 8, "prior_offences": i % 3, "prior_custody": i % 2,
            "sentence_days": 50 + i + (i >= 100), "index_year": 2024,
            "gender": "male" if i % 3 else "female",
            "ethnic_group": "white", "age_band": "21-24", "reoffended": i % 2,
            "offences": i % 2, "days_to_first": 100 if i % 2 else None,
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.insert(0, "person_id", range(1, len(frame) + 1))
    return frame


def csv_upload(frame: pd.DataFrame, name: str = "pool.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode(), "text/csv")


def form_data(programme, upload=None, **changes):
    data = {
        "programme": programme.pk,
        "pool_source": "file" if upload is not None else "own",
        "covariates": ["age_at_index", "prior_offences", "sentence_days"],
        "exact": ["gender"],
        "k": "5",
        "caliper": "0.2",
    }
    if upload is not None:
        data["pool_file"] = upload
    data.update(changes)
    return data


URL = reverse("outcomes:evaluation_new")


def run_in_worker(client, data, run_jobs) -> Job:
    """POST the form (it queues a job and shows its progress page), then let the worker
    run it; the job as it ended."""
    response = client.post(URL, data)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("job", args=[job.pk])
    assert job.status == JobStatus.QUEUED and job.kind == "evaluation"
    run_jobs()
    job.refresh_from_db()
    return job


def assert_refused_in_worker(client, data, run_jobs, message: str) -> Job:
    with SavesNothing():
        job = run_in_worker(client, data, run_jobs)
    assert job.status == JobStatus.REFUSED, job.message
    assert message in job.message
    assert not EvaluationRun.objects.exists()
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert "Refused" in page and "Nothing was saved" in page
    assert "/tmp" not in page and "job-files" not in page  # the file's name, not its place
    return job


# --- the charity's own cohort ------------------------------------------------------------


def test_the_cohort_frame_holds_covariates_and_outcomes_of_mature_people(cara, mo, programme):
    mature = released_case(cara, mo, MATURE, date_of_birth=TODAY() - timedelta(days=365 * 20))
    convicted(cara, mature.person, MATURE + 300, MATURE + 200)  # before custody
    convicted(cara, mature.person, MATURE - 100, MATURE - 150)  # day 100 of the year
    convicted(cara, mature.person, MATURE - 120, MATURE - 160)  # and another
    released_case(cara, mo, 100)  # not yet 18 months on: left out

    frame = participants_frame(programme)

    assert len(frame) == 1
    row = frame.iloc[0]
    index = TODAY() - timedelta(days=MATURE)
    episode = mature.person.custody_episodes.get()
    assert row["index_date"] == index
    assert row["age_at_index"] == mature.person.age_on(index)
    assert row["prior_offences"] == 1
    assert row["prior_custody"] == 0
    assert row["sentence_days"] == (index - episode.received_on).days
    assert row["index_year"] == index.year
    assert (row["reoffended"], row["offences"], row["days_to_first"]) == (1, 2, 100)
    assert row["age_band"] in ("18-20", "21-24")  # plain hyphen, as a file would have it


def test_referred_but_not_supported_people_are_the_own_pool(cara, mo, programme):
    declined = make.make_referral(programme=programme, actor=cara,
                                  referral_date=TODAY() - timedelta(days=MATURE + 100))  # fmt: skip
    casework_actions.decline_referral(cara, declined, "no_capacity", "Full this quarter.")
    episode = make.make_episode(declined.person, cara, days_in=MATURE + 150, release_in=-MATURE)
    custody_actions.record_release(cara, episode, TODAY() - timedelta(days=MATURE))
    # Declined, then taken on later: a participant, not a comparison.
    later = make.make_referral(programme=programme, actor=cara,
                               referral_date=TODAY() - timedelta(days=MATURE + 100))  # fmt: skip
    casework_actions.decline_referral(cara, later, "no_capacity", "Full this quarter.")
    make.make_case(mentor=mo, person=later.person, actor=cara, programme=programme)
    # Declined and never released: no index date.
    inside = make.make_referral(programme=programme, actor=cara)
    casework_actions.decline_referral(cara, inside, "not_eligible", "Too old.")

    pool = cohort.referred_not_supported(programme)

    assert [(p.person_id, p.index_date) for p in pool] == [
        (str(declined.person_id), TODAY() - timedelta(days=MATURE))
    ]


# --- running one -------------------------------------------------------------------------


def test_manager_runs_an_evaluation_against_a_file_and_reads_the_report(
    cohort12, programme, ade, login, run_jobs
):
    treated = participants_frame(programme)
    assert len(treated) == 12 and treated["reoffended"].sum() == 3
    client = login(ade)

    job = run_in_worker(client, form_data(programme, csv_upload(pool_for(treated))), run_jobs)

    run = EvaluationRun.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 100
    assert job.result_url == reverse("outcomes:evaluation", args=[run.pk])
    job_page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert "Open the result" in job_page and job.result_url in job_page
    response = client.get(job.result_url)
    headline = run.report["headline"]
    # Every participant matched to their five copies: 3 of 5 reoffend, 60%; participants 25%.
    assert headline["treated_mean"] == pytest.approx(0.25)
    assert headline["comparison_mean"] == pytest.approx(0.6)
    assert headline["estimate"] == pytest.approx(-0.35)
    assert run.report["sizes"]["n_comparison_matched"] == 12 * COPIES
    assert all(abs(b["smd_after"]) < 1e-9 for b in run.report["balance"])
    assert run.report["frequency"]["comparison_mean"] == pytest.approx(1.2)
    assert run.pool_name == "pool.csv" and run.run_by == ade
    event = AuditEvent.objects.get(object_type="outcomes.evaluationrun")
    assert event.action == AuditAction.CREATE and event.actor == ade

    page = response.content.decode()
    assert "Impact evaluation: " in page and "pool.csv" in page
    assert 'id="love-plot"' in page and 'id="survival-chart"' in page
    assert "25.0%" in page and "60.0%" in page and "-35.0 points" in page
    assert "Of 100 typical participants, 25 would be proven to reoffend" in page
    # Days to first reoffence needs 30 reoffenders in each group: said, not shown.
    assert "at least 30 reoffenders" in page


def test_a_parquet_file_gives_the_same_answer(cohort12, programme, ade, login, run_jobs):
    treated = participants_frame(programme)
    buffer = io.BytesIO()
    pool_for(treated).to_parquet(buffer, index=False)
    upload = SimpleUploadedFile("national.parquet", buffer.getvalue())

    job = run_in_worker(login(ade), form_data(programme, upload), run_jobs)

    assert job.status == JobStatus.SUCCEEDED
    assert EvaluationRun.objects.get().report["headline"]["estimate"] == pytest.approx(-0.35)


def test_the_analyst_runs_one_too(cohort12, programme, fay, login, run_jobs):
    treated = participants_frame(programme)
    job = run_in_worker(login(fay), form_data(programme, csv_upload(pool_for(treated))), run_jobs)
    assert job.status == JobStatus.SUCCEEDED and job.created_by == fay
    assert login(fay).get(job.result_url).status_code == 200


def test_the_dashboard_lists_evaluations(cohort12, programme, ade, login, run_jobs):
    treated = participants_frame(programme)
    run_in_worker(login(ade), form_data(programme, csv_upload(pool_for(treated))), run_jobs)
    page = login(ade).get(reverse("outcomes:dashboard")).content.decode()
    assert "Run an impact evaluation" in page and "-35.0 points" in page


# --- refusals store nothing ----------------------------------------------------------------


def _bad(treated: pd.DataFrame, problem: str) -> tuple[SimpleUploadedFile, str]:
    pool = pool_for(treated)
    if problem == "missing column":
        return csv_upload(pool.drop(columns=["sentence_days"])), "no column sentence_days"
    if problem == "wrong type":
        pool["age_at_index"] = pool["age_at_index"].astype(object)
        pool.loc[3, "age_at_index"] = "nineteen"
        return csv_upload(pool), "row 5"
    if problem == "days without a reoffence":
        pool.loc[pool["reoffended"] == 0, "days_to_first"] = 12
        return csv_upload(pool), "days_to_first is given for someone who did not reoffend"
    if problem == "negative offences":
        pool.loc[0, "offences"] = -1
        return csv_upload(pool), "row 2: offences must be a whole number"
    if problem == "not utf-8":
        return SimpleUploadedFile("pool.csv", pool.to_csv(index=False).encode("utf-16")), "UTF-8"
    if problem == "empty":
        return SimpleUploadedFile("pool.csv", b""), "empty"
    if problem == "spreadsheet":
        return SimpleUploadedFile("pool.xlsx", b"PK\x03\x04"), ".csv or .parquet"
    raise AssertionError(problem)


@pytest.mark.parametrize(
    "problem",
    ["missing column", "wrong type", "days without a reoffence", "negative offences",
     "not utf-8", "empty", "spreadsheet"],
)  # fmt: skip
def test_a_bad_comparison_file_is_refused_naming_the_problem(
    problem, cohort12, programme, ade, login, run_jobs
):
    upload, message = _bad(participants_frame(programme), problem)
    if problem in ("empty", "spreadsheet"):  # the form refuses these before any job
        with SavesNothing():
            response = login(ade).post(URL, form_data(programme, upload))
        assert_refused_on_field(response, "pool_file", message)
        assert not Job.objects.exists()
        return
    assert_refused_in_worker(login(ade), form_data(programme, upload), run_jobs, message)


def test_a_file_with_no_overlap_is_refused_with_the_reason(
    cohort12, programme, ade, login, run_jobs
):
    pool = pool_for(participants_frame(programme))
    pool["gender"] = "non_binary"  # nobody in the pool shares a participant's gender
    assert_refused_in_worker(
        login(ade), form_data(programme, csv_upload(pool)), run_jobs,
        "The evaluation was refused: only 0 of 12 participants could be matched",
    )  # fmt: skip


def test_too_few_participants_is_refused(cara, mo, programme, ade, login, run_jobs):
    for i in range(3):
        released_case(cara, mo, MATURE + i)
    pool = pool_for(participants_frame(programme))
    assert_refused_in_worker(
        login(ade), form_data(programme, csv_upload(pool)), run_jobs,
        "only 3 participants; at least 60 are needed",
    )  # fmt: skip


def test_the_own_pool_of_a_small_charity_is_refused_honestly(
    cohort12, programme, ade, login, run_jobs
):
    job = assert_refused_in_worker(login(ade), form_data(programme), run_jobs, "referred to")
    assert "has nobody in it" in job.message


def test_a_file_is_needed_when_comparing_with_a_file(cohort12, programme, ade, login):
    data = form_data(programme, pool_source="file")
    with SavesNothing():
        response = login(ade).post(URL, data)
    assert_refused_on_field(response, "pool_file", "Choose the comparison file")


def test_a_missing_report_is_404(ade, login):
    assert login(ade).get(reverse("outcomes:evaluation", args=[12345])).status_code == 404


def test_an_evaluation_whose_worker_died_runs_again_to_one_report(
    cohort12, programme, ade, login, run_jobs
):
    """Issue 10: the worker was killed while the evaluation ran (its transaction, and so
    its report, died with it); the next worker runs it again from the kept file."""
    from datetime import timedelta as _timedelta

    from django.conf import settings

    from throughgate.core import jobs

    treated = participants_frame(programme)
    client = login(ade)
    client.post(URL, form_data(programme, csv_upload(pool_for(treated))))
    job = Job.objects.get()
    kept = job.params["pool_file"]["path"]
    assert os.stat(kept).st_mode & 0o777 == 0o600  # readable by this account only
    assert job.params["pool_file"]["name"] == "pool.csv" and "pool.csv" not in kept
    # A worker claimed it and died: running, a stopped heartbeat, nothing saved.
    stopped = timezone.now() - _timedelta(seconds=settings.JOB_STALL_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=stopped,
                                         attempts=1, progress=40)  # fmt: skip
    assert not EvaluationRun.objects.exists()

    assert jobs.requeue_stalled() == 1
    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    run = EvaluationRun.objects.get()  # one report, not two
    assert job.result_url == reverse("outcomes:evaluation", args=[run.pk])
    assert run.report["headline"]["estimate"] == pytest.approx(-0.35)
    assert not os.path.exists(kept)  # the uploaded file is removed once it has been used
