"""Ade's import pages: upload, match the columns, read the report, import; bad files and
bad mappings answered on the page."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from throughgate.core.models import Job, JobStatus
from throughgate.imports.models import ImportRun, RunStatus, SourceMapping
from throughgate.people.models import Person

GOOD = b"ID,First name,Last name,DOB\nP1,Jo,Bloggs,01/02/2006\nP2,Sam,Oduya,2005-07-09\n"
BAD = GOOD.replace(b"2005-07-09", b"31/02/2009")


def upload(client, content: bytes, name: str = "people.csv", **extra):
    data = {"kind": "people", "file": SimpleUploadedFile(name, content, "text/csv"), **extra}
    data.setdefault("new_source", "Old spreadsheets")
    return client.post(reverse("imports:index"), data)


def test_ade_uploads_checks_fixes_and_imports(ade, login, run_jobs):
    client = login(ade)
    response = upload(client, BAD)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:mapping", args=[run.pk])

    page = client.get(response.url).content.decode()
    assert '<option value="DOB" selected>' in page  # matched by its name

    mapping = {
        "source_id": "ID",
        "forename": "First name",
        "surname": "Last name",
        "date_of_birth": "DOB",
    }
    response = client.post(reverse("imports:mapping", args=[run.pk]), mapping)
    job = Job.objects.get()
    assert response.url == reverse("job", args=[job.pk])
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result_url == reverse(
        "imports:run", args=[run.pk]
    )
    page = client.get(job.result_url).content.decode()
    assert "Problems to fix" in page and "31/02/2009 is not a date" in page
    assert '<td class="num">3</td><td>DOB</td>' in page
    assert "Import people" not in page  # no commit button while there are problems
    refused = client.post(reverse("imports:commit", args=[run.pk]))
    assert refused.status_code == 302 and Job.objects.count() == 1

    # The corrected file: the saved columns are offered, the check passes, then import.
    source = run.source
    response = upload(client, GOOD, source=source.pk, new_source="")
    second = ImportRun.objects.latest("pk")
    assert SourceMapping.objects.get(source=source, kind="people").columns == mapping
    client.post(reverse("imports:mapping", args=[second.pk]), mapping)
    run_jobs()
    second.refresh_from_db()
    assert second.status == RunStatus.CHECKED and Person.objects.count() == 0
    assert "Import people" in client.get(reverse("imports:run", args=[second.pk])).content.decode()
    response = client.post(reverse("imports:commit", args=[second.pk]))
    run_jobs()
    second.refresh_from_db()
    assert second.status == RunStatus.COMMITTED and second.added == 2
    assert Person.objects.count() == 2 and second.file_path == ""  # the upload is removed


def test_bad_files_are_answered_next_to_the_file_field(ade, login):
    client = login(ade)
    for content, name, message in [
        (b"", "people.csv", "The submitted file is empty."),
        (b"P1,Jo,Bloggs,01/02/2006\n", "people.csv", "The first row looks like data"),
        ("ID,Name\n1,Zoë\n".encode("cp1252"), "people.csv", "not UTF-8 text"),
        (b"ID,Name\n", "people.txt", "Choose a .csv or .xlsx file."),
        (b"ID,Name\n", "people.xlsx", "This is not an Excel .xlsx workbook"),
    ]:
        response = upload(client, content, name)
        assert response.status_code == 400, name
        assert message in response.content.decode(), message
    assert not ImportRun.objects.exists()


def test_a_column_chosen_twice_is_refused_on_the_mapping_page(ade, login):
    client = login(ade)
    upload(client, GOOD)
    run = ImportRun.objects.get()
    response = client.post(
        reverse("imports:mapping", args=[run.pk]),
        {
            "source_id": "ID",
            "forename": "First name",
            "surname": "First name",
            "date_of_birth": "DOB",
        },
    )
    assert response.status_code == 400
    assert "Column &#x27;First name&#x27; is already chosen for &#x27;First name&#x27;" in (
        response.content.decode()
    )
    assert not Job.objects.exists()


def test_only_the_admin_sees_the_import_pages(cara, fay, login):
    for user in (cara, fay):
        assert login(user).get(reverse("imports:index")).status_code == 404
