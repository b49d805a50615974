"""Finding people by name, alias, date of birth or prison number, and duplicate warnings."""

from __future__ import annotations

from datetime import date

from throughgate.casework.models import Referral
from throughgate.people import actions as people_actions
from throughgate.people.models import Person
from throughgate.people.search import parse_query, possible_duplicates, search_people

from . import make


def names(hits):
    return [h.person.full_name for h in hits]


def test_jon_smyth_finds_john_smith(ade):
    make.make_person(ade, forename="John", surname="Smith", date_of_birth=date(2007, 3, 14))
    make.make_person(ade, forename="Kwame", surname="Mensah")
    assert names(search_people(ade, "Jon Smyth")) == ["John Smith"]


def test_search_finds_a_person_by_alias_and_says_so(ade):
    person = make.make_person(ade, forename="Tyrone", surname="Campbell")
    people_actions.add_alias(ade, person, "T", "Bigz", "street name")
    hits = search_people(ade, "Bigz")
    assert names(hits) == ["Tyrone Campbell"]
    assert hits[0].via_alias and hits[0].matched_name == "T Bigz"


def test_search_by_preferred_name(ade):
    make.make_person(ade, forename="Oluwaseun", preferred_name="Seun", surname="Adeyemi")
    assert names(search_people(ade, "Seun Adeyemi")) == ["Oluwaseun Adeyemi"]


def test_search_by_date_of_birth_and_prison_number(ade):
    make.make_person(
        ade, forename="Ali", surname="Khan", date_of_birth=date(2005, 1, 9), prison_number="A1234BC"
    )
    make.make_person(ade, forename="Ben", surname="Jones", date_of_birth=date(2004, 7, 1))
    assert names(search_people(ade, "09/01/2005")) == ["Ali Khan"]
    assert names(search_people(ade, "a1234bc")) == ["Ali Khan"]
    assert names(search_people(ade, "Khan 2005-01-09")) == ["Ali Khan"]
    assert search_people(ade, "Jones 09/01/2005") == []


def test_query_parsing_separates_dates_identifiers_and_words():
    parsed = parse_query("Jon Smyth 14/03/2007 A1234BC X123456")
    assert parsed.words == ["Jon", "Smyth"]
    assert parsed.dates == [date(2007, 3, 14)]
    assert parsed.identifiers == ["A1234BC", "X123456"]


def test_search_only_returns_people_the_user_may_see(mo_case, mo, kim, fay):
    name = mo_case.person.full_name
    assert names(search_people(mo, name)) == [name]
    assert search_people(kim, name) == []
    assert search_people(fay, name) == []


def test_duplicate_check_sees_every_record_but_marks_hidden_ones(mo_case, kim, cara):
    person = mo_case.person
    found = possible_duplicates(kim, person.forename, person.surname, person.date_of_birth)
    assert [d.person.pk for d in found] == [person.pk]
    assert found[0].visible is False
    found = possible_duplicates(cara, person.forename, person.surname, person.date_of_birth)
    assert found[0].visible is True


def test_duplicate_check_catches_swapped_names(ade):
    person = make.make_person(
        ade, forename="Daniel", surname="Thomas", date_of_birth=date(2006, 6, 6)
    )
    found = possible_duplicates(ade, "Thomas", "Daniel", date(2006, 6, 6))
    assert [d.person.pk for d in found] == [person.pk]


def referral_post(programme, **person):
    data = {
        "person-forename": "Jon",
        "person-surname": "Smyth",
        "person-date_of_birth": "2007-03-14",
        "person-gender": "male",
        "person-ethnicity": "not_stated",
        "person-first_language": "English",
        "referral-programme": programme.pk,
        "referral-source_type": "probation",
        "referral-referral_date": "2026-01-05",
        "referral-reasons": "Released last month; struggling with housing.",
        "referral-consent_recorded": "on",
    }
    data.update({f"person-{k}": v for k, v in person.items()})
    return data


def test_referral_for_a_known_person_warns_and_saves_nothing_until_chosen(cara, programme, login):
    known = make.make_person(
        cara, forename="John", surname="Smith", date_of_birth=date(2007, 3, 14)
    )
    make.make_referral(person=known, programme=programme, actor=cara)
    client = login(cara)
    people_before, referrals_before = Person.objects.count(), Referral.objects.count()

    response = client.post("/referrals/new/", referral_post(programme))
    body = response.content.decode()
    assert response.status_code == 200
    assert "This may be someone we already know" in body
    assert "John Smith" in body and "same date of birth" in body
    assert (Person.objects.count(), Referral.objects.count()) == (people_before, referrals_before)

    data = referral_post(programme) | {"duplicate_choice": str(known.pk)}
    response = client.post("/referrals/new/", data)
    assert response.status_code == 302
    assert Person.objects.count() == people_before
    assert Referral.objects.filter(person=known).count() == 2


def test_coordinator_may_confirm_a_genuinely_new_person(cara, programme, login):
    make.make_person(cara, forename="John", surname="Smith", date_of_birth=date(2007, 3, 14))
    make.make_referral(programme=programme, actor=cara)
    client = login(cara)
    data = referral_post(programme) | {"duplicate_choice": "new"}
    response = client.post("/referrals/new/", data)
    assert response.status_code == 302
    assert Person.objects.filter(forename="Jon", surname="Smyth").count() == 1


def test_referral_for_someone_unknown_goes_straight_through(cara, programme, login):
    response = login(cara).post(
        "/referrals/new/", referral_post(programme, forename="Brand", surname="New")
    )
    assert response.status_code == 302
    referral = Referral.objects.get(person__surname="New")
    assert referral.team == programme.team and referral.status == "pending"


def test_saving_again_without_answering_the_duplicate_question_says_so(cara, programme, login):
    make.make_person(cara, forename="John", surname="Smith", date_of_birth=date(2007, 3, 14))
    make.make_referral(programme=programme, actor=cara)
    client = login(cara)
    people_before = Person.objects.count()
    response = client.post("/referrals/new/", referral_post(programme) | {"duplicates_shown": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose the person this is, or confirm a new record." in body
    assert 'id="id_duplicate_choice_error"' in body
    assert Person.objects.count() == people_before


def test_a_coordinator_finds_only_their_teams_people_among_many_namesakes(cara, mo, programme, ade):
    """The name keys find every namesake first and each is checked against the
    coordinator's scope (issue 10: the scope is not walked person by person)."""
    other_team = make.make_team("Custody team 2")
    other = make.make_programme("Custody to community 2", team=other_team)
    for n in range(6):
        namesake = make.make_person(ade, forename=f"Other{n}", surname="Clarke")
        make.make_case(actor=ade, programme=other, person=namesake)
    jade = make.make_person(cara, forename="Jade", surname="Clarke")
    mine = make.make_case(mentor=mo, actor=cara, person=jade)
    kai = make.make_person(cara, forename="Kai", surname="Clark")
    referred = make.make_referral(actor=cara, person=kai)
    assert sorted(names(search_people(cara, "Clarke"))) == sorted(
        [mine.person.full_name, referred.person.full_name]
    )
    assert len(search_people(ade, "Clarke")) == 8


def test_search_makes_the_same_queries_for_few_or_many_namesakes(ade):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            search_people(ade, "Clarke")
        return len(ctx.captured_queries)

    make.make_person(ade, forename="Jade", surname="Clarke")
    few = queries()
    for n in range(15):
        make.make_person(ade, forename=f"Ola{n}", surname="Clarke")
    assert queries() == few
