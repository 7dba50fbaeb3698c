"""Scenarios for flows.perpetrator: reports that name the same person find each other by index alone.

Each written form a reporter might type for one phone number, plate, handle or e-mail
address gives one canonical form and so one index; different identifiers never do; and
an index is worthless without the key.
"""

from __future__ import annotations

import hashlib
import string

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.perpetrator import (
    IdentifierKind,
    PerpetratorDetail,
    detail_indexes,
    identifier_index,
    normalise,
    normalise_email,
    normalise_handle,
    normalise_name,
    normalise_phone,
    normalise_place,
    normalise_plate,
    reports_naming_the_same_person,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
MATCHABLE = [kind for kind in IdentifierKind if kind.matchable]

# -- phone numbers -------------------------------------------------------------------

# Regions whose numbers Dutch municipalities see most; each number is built on the
# example mobile number's leading digits so that most draws are valid.
REGIONS = ["NL", "BE", "DE", "GB", "FR", "MA", "TR", "PL", "SR", "ES", "US"]


@st.composite
def phone_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    region = draw(st.sampled_from(REGIONS))
    example = str(phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE).national_number)
    keep = 2 if region != "US" else 3
    tail = draw(st.text(alphabet=string.digits, min_size=len(example) - keep, max_size=len(example) - keep))
    number = phonenumbers.parse("+" + str(phonenumbers.country_code_for_region(region)) + example[:keep] + tail)
    assume(phonenumbers.is_valid_number(number))
    return number


@st.composite
def sprinkled(draw: st.DrawFn, digits: str) -> str:
    """``digits`` with the spaces, dashes and dots people put between them."""
    gaps = draw(st.lists(st.sampled_from(["", "", " ", "-", "."]), min_size=len(digits), max_size=len(digits)))
    return "".join(d + g for d, g in zip(digits, gaps, strict=True)).rstrip(" -.")


@st.composite
def written_phone_forms(draw: st.DrawFn, number: phonenumbers.PhoneNumber) -> str:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(number)
    cc = str(number.country_code)
    forms = [
        e164,
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "00" + e164[1:],
        "tel:" + e164,
        "+" + cc + " " + draw(sprinkled(nsn)),
        "00" + cc + draw(sprinkled(nsn)),
        "  " + e164 + " ",
    ]
    if number.country_code == 31:  # the default region: national forms too
        forms += [
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            "0" + draw(sprinkled(nsn)),
            f"(0{nsn[:1]}) {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}",
            f"+31 (0){nsn[:1]} {nsn[1:]}",
        ]
    return draw(st.sampled_from(forms))


@settings(max_examples=300)
@given(data=st.data(), number=phone_numbers())
def test_every_written_form_of_a_phone_number_gives_one_index(data: st.DataObject, number: phonenumbers.PhoneNumber):
    first = data.draw(written_phone_forms(number))
    second = data.draw(written_phone_forms(number))
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert normalise_phone(first) == normalise_phone(second) == expected
    assert identifier_index(KEY, IdentifierKind.PHONE, normalise_phone(first)) == identifier_index(
        KEY, IdentifierKind.PHONE, normalise_phone(second)
    )


@settings(max_examples=200)
@given(data=st.data(), one=phone_numbers(), other=phone_numbers())
def test_different_phone_numbers_never_match(data: st.DataObject, one, other):
    assume(one != other)
    first, second = (
        normalise_phone(data.draw(written_phone_forms(one))),
        normalise_phone(data.draw(written_phone_forms(other))),
    )
    assert first != second
    assert identifier_index(KEY, IdentifierKind.PHONE, first) != identifier_index(KEY, IdentifierKind.PHONE, second)


def test_the_dutch_ways_of_writing_one_mobile_number_are_equal():
    forms = [
        "06-12345678",
        "+31 6 1234 5678",
        "0031612345678",
        "(06) 12 34 56 78",
        "+31 (0)6 12345678",
        "06.12.34.56.78",
    ]
    assert {normalise_phone(form) for form in forms} == {"+31612345678"}


@pytest.mark.parametrize("text", ["12345", "06-1234", "0612345678901234", "+999 123", "onbekend", "", "geheim nummer"])
def test_a_number_that_cannot_exist_is_not_an_identifier(text: str):
    assert normalise_phone(text) is None


# -- licence plates -------------------------------------------------------------------

plates = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=2, max_size=8).filter(
    lambda p: any(c.isalpha() for c in p) and any(c.isdigit() for c in p)
)


@st.composite
def written_plate_forms(draw: st.DrawFn, plate: str) -> str:
    chars = [c.lower() if draw(st.booleans()) else c for c in plate]
    gaps = draw(st.lists(st.sampled_from(["", "", "-", " ", "."]), min_size=len(chars), max_size=len(chars)))
    return " " + "".join(c + g for c, g in zip(chars, gaps, strict=True)) + " "


@settings(max_examples=300)
@given(data=st.data(), plate=plates)
def test_every_written_form_of_a_plate_gives_one_index(data: st.DataObject, plate: str):
    first, second = data.draw(written_plate_forms(plate)), data.draw(written_plate_forms(plate))
    assert normalise_plate(first) == normalise_plate(second) == plate
    assert identifier_index(KEY, IdentifierKind.PLATE, normalise_plate(first)) == identifier_index(
        KEY, IdentifierKind.PLATE, plate
    )


@given(data=st.data(), one=plates, other=plates)
def test_different_plates_never_match(data: st.DataObject, one: str, other: str):
    assume(one != other)
    assert normalise_plate(data.draw(written_plate_forms(one))) != normalise_plate(
        data.draw(written_plate_forms(other))
    )


def test_a_dutch_plate_written_three_ways_is_one_plate():
    assert {normalise_plate(p) for p in ["12-ABC-3", "12 abc 3", "12ABC3", "12-abc-3"]} == {"12ABC3"}
    assert normalise_plate("MÜ-AB 123") == normalise_plate("mu ab 123") == "MUAB123"  # German district codes


@pytest.mark.parametrize("text", ["onbekend", "ABCDEF", "123456", "--", "", "weet ik niet", "12-ABC-3 of zo iets"])
def test_text_without_both_letters_and_digits_is_not_a_plate(text: str):
    assert normalise_plate(text) is None


# -- handles --------------------------------------------------------------------------

CONTENT_PATHS = {"p", "reel", "reels", "tv", "explore", "accounts", "direct", "i", "home", "search", "hashtag"}
CONTENT_PATHS |= {"intent", "share", "settings", "messages", "tag", "discover", "music", "video", "t", "groups"}
CONTENT_PATHS |= {"pages", "events", "watch", "marketplace", "photo", "people", "joinchat", "s", "c", "stories"}

handles = st.from_regex(r"[a-z0-9][a-z0-9_.]{0,18}[a-z0-9_]", fullmatch=True).filter(
    lambda h: h not in CONTENT_PATHS and normalise_handle(h) == h
)


@st.composite
def written_handle_forms(draw: st.DrawFn, handle: str) -> str:
    shown = "".join(c.upper() if draw(st.booleans()) else c for c in handle)
    scheme = draw(st.sampled_from(["", "https://", "http://"]))
    www = draw(st.sampled_from(["", "www."]))
    slash = draw(st.sampled_from(["", "/"]))
    return draw(
        st.sampled_from(
            [
                shown,
                "@" + shown,
                f" @{shown} ",
                f"{scheme}{www}instagram.com/{shown}{slash}",
                f"{scheme}{www}instagram.com/stories/{shown}/",
                f"{scheme}x.com/{shown}",
                f"{scheme}{www}twitter.com/{shown}/status/1234567890",
                f"{scheme}{www}tiktok.com/@{shown}{slash}",
                f"{scheme}{www}facebook.com/{shown}{slash}",
                f"{scheme}m.facebook.com/{shown}",
                f"{scheme}t.me/{shown}",
                f"{scheme}{www}youtube.com/@{shown}",
            ]
        )
    )


@settings(max_examples=300)
@given(data=st.data(), handle=handles)
def test_every_written_form_of_a_handle_gives_one_index(data: st.DataObject, handle: str):
    first, second = data.draw(written_handle_forms(handle)), data.draw(written_handle_forms(handle))
    assert normalise_handle(first) == normalise_handle(second) == handle
    assert identifier_index(KEY, IdentifierKind.HANDLE, normalise_handle(first)) == identifier_index(
        KEY, IdentifierKind.HANDLE, handle
    )


@given(data=st.data(), one=handles, other=handles)
def test_different_handles_never_match(data: st.DataObject, one: str, other: str):
    assume(one != other)
    assert normalise_handle(data.draw(written_handle_forms(one))) != normalise_handle(
        data.draw(written_handle_forms(other))
    )


def test_a_handle_is_the_same_person_on_every_platform():
    assert normalise_handle("https://www.instagram.com/Piet.J/") == "piet.j"
    assert normalise_handle("tiktok.com/@piet.j") == "piet.j"
    assert normalise_handle("@Piet.J") == "piet.j"


def test_dots_and_underscores_tell_accounts_apart():
    assert normalise_handle("piet.jansen") != normalise_handle("pietjansen") != normalise_handle("piet_jansen")


def test_a_facebook_profile_by_number_is_that_number():
    assert normalise_handle("https://www.facebook.com/profile.php?id=100012345678") == "100012345678"


@pytest.mark.parametrize(
    "text",
    [
        "https://www.instagram.com/p/C1a2b3c4/",  # a post, not a profile
        "https://x.com/i/status/123",
        "https://www.facebook.com/groups/buurtapp",
        "https://example.com/piet",  # not a known platform
        "@",
        "@@@",
        "onbekend",
        "",
        "!!",
    ],
)
def test_links_to_content_and_junk_are_not_handles(text: str):
    assert normalise_handle(text) is None


def test_an_alias_with_spaces_is_one_handle():
    assert normalise_handle("De Slager") == normalise_handle("deslager") == normalise_handle("dé slager")


# -- e-mail ---------------------------------------------------------------------------

emails = st.tuples(
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True),
    st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3),
    st.sampled_from(["nl", "com", "be", "org", "amsterdam"]),
).map(lambda t: f"{t[0]}@{'.'.join([*t[1], t[2]])}")


@st.composite
def written_email_forms(draw: st.DrawFn, address: str) -> str:
    shown = "".join(c.upper() if draw(st.booleans()) else c for c in address)
    return draw(st.sampled_from([shown, f"  {shown} ", f"mailto:{shown}", f"Piet Jansen <{shown}>", f"{shown}."]))


@settings(max_examples=300)
@given(data=st.data(), address=emails)
def test_every_written_form_of_an_address_gives_one_index(data: st.DataObject, address: str):
    first, second = data.draw(written_email_forms(address)), data.draw(written_email_forms(address))
    assert normalise_email(first) == normalise_email(second) == address
    assert identifier_index(KEY, IdentifierKind.EMAIL, normalise_email(first)) == identifier_index(
        KEY, IdentifierKind.EMAIL, address
    )


@given(data=st.data(), one=emails, other=emails)
def test_different_addresses_never_match(data: st.DataObject, one: str, other: str):
    assume(one != other)
    assert normalise_email(data.draw(written_email_forms(one))) != normalise_email(
        data.draw(written_email_forms(other))
    )


def test_no_provider_rules_are_invented():
    # Gmail ignores dots and +tags, other providers do not: these stay different people.
    assert normalise_email("p.jansen@gmail.com") != normalise_email("pjansen@gmail.com")
    assert normalise_email("piet+werk@gmail.com") != normalise_email("piet@gmail.com")


def test_an_international_domain_matches_its_ascii_form():
    assert normalise_email("piet@bücher.de") == normalise_email("PIET@xn--bcher-kva.de") == "piet@xn--bcher-kva.de"


@pytest.mark.parametrize("text", ["piet", "piet@", "@example.nl", "piet@example", "piet @example.nl", "a@b.c", ""])
def test_what_is_not_an_address_gives_none(text: str):
    assert normalise_email(text) is None


# -- names ----------------------------------------------------------------------------


def test_names_with_accents_case_and_spacing_match():
    forms = ["Piet Jansen", "  piet   JANSEN ", "Piët Jánsen", "Jansen, Piet", "JANSEN Piet", "Piet\tJansen."]
    assert {normalise_name(form) for form in forms} == {"jansen piet"}


def test_a_surname_with_particles_matches_in_either_order():
    assert normalise_name("Jan-Willem de Vries") == normalise_name("de Vries, Jan Willem")


def test_apostrophes_join_and_letters_without_accents_fold():
    assert normalise_name("Sean O'Brien") == normalise_name("Sean OBrien") == normalise_name("sean o’brien")
    assert normalise_name("Søren Ørsted") == normalise_name("Soren Orsted")
    assert normalise_name("Hans Straße") == normalise_name("Hans Strasse")


def test_a_single_name_part_is_too_common_to_link_on():
    assert normalise_name("Piet") is None
    assert normalise_name("Bakker") is None


def test_initials_are_not_expanded():
    assert normalise_name("P. Jansen") != normalise_name("Piet Jansen")


# -- addresses and places -------------------------------------------------------------


def test_an_address_written_loosely_is_one_address():
    forms = ["Kerkstr. 12-A, 1234 AB Amsterdam", "kerkstraat 12a 1234AB amsterdam", "Kerkstraat 12 a, 1234ab Amsterdam"]
    assert {normalise_place(form) for form in forms} == {"kerkstraat 12a 1234ab amsterdam"}


def test_a_town_alone_would_link_everyone_from_there():
    assert normalise_place("Amsterdam") is None
    assert normalise_place("Camping De Vlier 3") == "camping de vlier 3"


# -- for every kind -------------------------------------------------------------------

JUNK = ["", "   ", "...", "?!", "-", "onbekend", "Onbekend.", "weet ik niet", "Weet ik niet!", "geen idee", "n.v.t."]
JUNK += ["unknown", "I don't know", "N/A", "nobody", "x"]


@pytest.mark.parametrize("kind", list(IdentifierKind))
@pytest.mark.parametrize("text", JUNK)
def test_junk_is_no_identifier_of_any_kind(kind: IdentifierKind, text: str):
    assert normalise(kind, text) is None


def test_a_description_is_never_matched():
    assert normalise(IdentifierKind.DESCRIPTION, "lange man met rode jas, Kerkstraat 12") is None
    with pytest.raises(ValueError):
        identifier_index(KEY, IdentifierKind.DESCRIPTION, "lange man")


@settings(max_examples=300)
@given(kind=st.sampled_from(MATCHABLE), text=st.text(max_size=40))
def test_normalising_twice_changes_nothing(kind: IdentifierKind, text: str):
    canonical = normalise(kind, text)
    if canonical is not None:
        assert normalise(kind, canonical) == canonical


# -- the index ------------------------------------------------------------------------


def test_the_index_depends_on_the_key():
    for kind, canonical in [
        (IdentifierKind.PHONE, "+31612345678"),
        (IdentifierKind.NAME, "jansen piet"),
        (IdentifierKind.PLATE, "12ABC3"),
    ]:
        assert identifier_index(KEY, kind, canonical) != identifier_index(OTHER_KEY, kind, canonical)


def test_the_index_reveals_nothing_of_the_identifier_or_its_kind():
    index = identifier_index(KEY, IdentifierKind.PHONE, "+31612345678")
    assert len(index) == 32
    assert b"31612345678" not in index
    assert index != hashlib.sha256(b"+31612345678").digest()
    # One string that is canonical for two kinds indexes differently per kind.
    assert normalise_handle("piet@example.nl") == normalise_email("piet@example.nl") == "piet@example.nl"
    assert identifier_index(KEY, IdentifierKind.HANDLE, "piet@example.nl") != identifier_index(
        KEY, IdentifierKind.EMAIL, "piet@example.nl"
    )


def test_only_canonical_forms_are_indexed():
    with pytest.raises(ValueError):
        identifier_index(KEY, IdentifierKind.PHONE, "06-12345678")


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        identifier_index(b"short", IdentifierKind.PHONE, "+31612345678")


# -- linking --------------------------------------------------------------------------


def details(*pairs: tuple[IdentifierKind, str]) -> list[PerpetratorDetail]:
    return [PerpetratorDetail(kind, value) for kind, value in pairs]


def test_reports_that_name_the_same_person_in_different_words_find_each_other():
    mine = detail_indexes(
        KEY, details((IdentifierKind.PHONE, "06-12345678"), (IdentifierKind.DESCRIPTION, "boze man met pet"))
    )
    others = {
        "MB-2345-6789": detail_indexes(KEY, details((IdentifierKind.PHONE, "+31 6 1234 5678"))),
        "MB-3456-7890": detail_indexes(
            KEY, details((IdentifierKind.NAME, "Jansen, Piet"), (IdentifierKind.PLATE, "99-XYZ-1"))
        ),
        "MB-4567-8901": detail_indexes(KEY, details((IdentifierKind.DESCRIPTION, "boze man met pet"))),
        "MB-5678-9012": frozenset(),
    }
    assert reports_naming_the_same_person(mine, others) == {"MB-2345-6789"}


def test_junk_and_descriptions_give_no_indexes_and_so_no_links():
    junk = detail_indexes(
        KEY,
        details(
            (IdentifierKind.NAME, "onbekend"), (IdentifierKind.PHONE, "weet ik niet"), (IdentifierKind.DESCRIPTION, "?")
        ),
    )
    assert junk == frozenset()
    assert reports_naming_the_same_person(junk, {"MB-2345-6789": junk}) == frozenset()
