import pytest

from jianguan_sdk.minimisation import (
    EMAIL,
    MOBILE,
    RESIDENT_ID,
    find_personal_information,
    resident_id_is_valid,
)

VALID_ID = "11010519491231002X"  # the standard's published example


def test_resident_id_checksum_and_date() -> None:
    assert resident_id_is_valid(VALID_ID)
    assert not resident_id_is_valid("110105194912310021")  # wrong check digit
    assert not resident_id_is_valid("11010519491331002X")  # month 13


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("用户电话13800138000请回电", MOBILE),
        ("call +86 138-0013-8000 now", MOBILE),
        (f"身份证{VALID_ID}已核验", RESIDENT_ID),
        ("mail zhang.san@example.com.cn", EMAIL),
        ("电话１３８００１３８０００", MOBILE),  # full-width digits
        ("call 138.0013.8000", MOBILE),
        ("联系someone＠example.cn", EMAIL),  # full-width at sign
        ("身份证１１０１０５１９４９１２３１００２Ｘ", RESIDENT_ID),  # full-width
        ("ID 110105 19491231 002X on file", RESIDENT_ID),  # in groups
        ("ID 110105-19491231-002X on file", RESIDENT_ID),
        ("13800138000", MOBILE),  # as a request id or user reference
    ],
)
def test_finds_each_kind(text: str, kind: str) -> None:
    found = find_personal_information(text)
    assert found is not None
    assert found.kind == kind
    assert found.end > found.start


@pytest.mark.parametrize(
    "text",
    [
        "",
        "输出内容不准确",
        "u_a13800138000b9f0",  # digits inside a hex pseudonym are not a phone number
        "order 110105194912310021 shipped",  # 18 digits with a wrong checksum
        "model hl-chat-3 at 2024-05-01",
        "pi is 3.14159265358979",  # the fraction of a decimal number
        "（一）输出内容不准确，已于２０２５年更正。",  # full-width punctuation and a year
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_personal_information(text) is None


def test_finding_does_not_carry_the_value() -> None:
    found = find_personal_information("x 13800138000")
    assert found is not None
    assert "13800138000" not in repr(found)


def test_positions_are_those_of_the_text_as_given() -> None:
    text = "电话：１３８ ００１３ ８０００。"
    found = find_personal_information(text)
    assert found is not None
    assert text[found.start : found.end] == "１３８ ００１３ ８０００"
    circled = "号码①③⑧⓪⓪①③⑧⓪⓪⓪"  # NFKC of each circled digit is that digit
    found = find_personal_information(circled)
    assert found is not None
    assert circled[found.start : found.end] == circled[2:]
