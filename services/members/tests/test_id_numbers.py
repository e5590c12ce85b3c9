import pickle
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken

from services.members import id_numbers
from services.members.id_numbers import InvalidIdNumber, check_char, normalise


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


def test_valid_number_passes():
    assert normalise("11010519491231002X") == "11010519491231002X"


def test_lower_case_x_check_character_is_accepted():
    assert normalise("11010519491231002x") == "11010519491231002X"


def test_check_character_x_is_computed_for_remainder_2():
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize("wrong", ["110105194912310021", "110105194912310020"])
def test_wrong_check_digit_is_refused(wrong):
    with pytest.raises(InvalidIdNumber, match="check digit"):
        normalise(wrong)


def test_legacy_15_digit_number_is_widened_with_century_and_check():
    # 15-digit numbers dropped the century and had no check character.
    assert normalise("110105491231002") == with_check("11010519491231002")


@pytest.mark.parametrize("bad", ["", "12345", "1101051949123100XX", "11010519491331002X",
                                 "110105194902300020", "abcdefghijklmnopqr"])
def test_malformed_numbers_are_refused(bad):
    with pytest.raises(InvalidIdNumber):
        normalise(bad)


def test_future_birth_date_is_refused():
    with pytest.raises(InvalidIdNumber, match="out of range"):
        normalise(with_check("11010530000101002"))


def test_mask_hides_the_birth_date():
    assert id_numbers.mask("11010519491231002X") == "110105********002X"


def test_protector_round_trip_and_stable_fingerprint():
    protector = id_numbers.IdProtector("k", "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA=")
    token = protector.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert protector.decrypt(token) == "11010519491231002X"
    assert protector.fingerprint("11010519491231002X") == protector.fingerprint("11010519491231002X")
    assert protector.fingerprint("11010519491231002X") != id_numbers.IdProtector(
        "other", "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA=").fingerprint("11010519491231002X")


def test_an_encrypted_number_is_a_fernet_token_fernet_itself_checks_and_reads():
    key = "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA="
    protector = id_numbers.IdProtector("k", key)
    fernet = Fernet(key.encode())
    for number in ("11010519491231002X", "", "1" * 16, "1" * 17, "身份证"):
        before = int(time.time())
        token = protector.encrypt(number)
        assert fernet.decrypt(token.encode()).decode() == number  # HMAC, padding, version checked
        assert before <= fernet.extract_timestamp(token.encode()) <= int(time.time())
        assert protector.encrypt(number) != token  # a fresh IV each time
    with pytest.raises(InvalidToken):  # another key's token is refused
        Fernet(Fernet.generate_key()).decrypt(protector.encrypt("11010519491231002X").encode())


def test_a_protector_sent_to_another_process_keeps_its_keys():
    protector = id_numbers.IdProtector("k", "dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTAwMDA=")
    copy = pickle.loads(pickle.dumps(protector))
    assert copy.decrypt(protector.encrypt("11010519491231002X")) == "11010519491231002X"
    assert copy.fingerprint("11010519491231002X") == protector.fingerprint("11010519491231002X")
