import secrets

import pytest

from jianguan_sdk.minimisation import find_personal_information
from jianguan_sdk.pseudonym import Pseudonymizer


def test_references_are_stable_keyed_and_carry_no_personal_information() -> None:
    key = secrets.token_bytes(32)
    p = Pseudonymizer(key)
    phone = "13800138000"
    ref = p.ref(phone)
    assert ref == p.ref(phone)
    assert ref != p.ref("13800138001")
    assert ref != Pseudonymizer(secrets.token_bytes(32)).ref(phone)  # another provider's key
    assert phone not in ref
    assert find_personal_information(ref) is None  # the gateway accepts it as a user_ref
    assert len(ref) == 34


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        Pseudonymizer(b"too-short")
