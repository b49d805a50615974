def test_mentor_opens_own_case_and_other_mentor_gets_404(mo_case, mo, kim, login):
    url = f"/cases/{mo_case.pk}/"
    assert login(mo).get(url).status_code == 200
    assert login(kim).get(url).status_code == 404
