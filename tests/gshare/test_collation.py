"""Lao dictionary order for names, and the search key that makes Lao spellings meet."""

from gshare.core.collation import sort_by_name, sort_key
from gshare.core.names import search_key
from gshare.files import lookup


def test_words_with_a_vowel_written_first_sort_by_their_consonant():
    names = ["ໄກ່", "ຂາ", "ເກົ່າ", "ກາ", "ແມ່", "ໂຮງຮຽນ", "ໃຈ", "ນ້ຳ"]
    assert sort_by_name(names) == ["ກາ", "ເກົ່າ", "ໄກ່", "ຂາ", "ໃຈ", "ນ້ຳ", "ແມ່", "ໂຮງຮຽນ"]
    assert sorted(names) != sort_by_name(names)  # code-point order puts ເ ແ ໂ ໃ ໄ last


def test_latin_names_sort_without_regard_to_case_after_lao():
    assert sort_by_name(["beta", "Alpha", "ກາ"]) == ["ກາ", "Alpha", "beta"]
    assert sort_key("Alpha") < sort_key("alpha2")


def test_search_key_makes_lao_spellings_meet():
    assert search_key("ໜັງສື") == search_key("ຫນັງສື")
    assert search_key("ນ້ຳ") == search_key("ນ\u0ec9\u0ecd\u0eb2")
    assert search_key("ກ\u0ec8\u0eb5") == search_key("ກ\u0eb5\u0ec8")  # tone mark before/after ີ
    assert search_key("REPORT") == "report"


def test_a_folder_lists_its_names_in_lao_dictionary_order(world):
    user = world.user("somsak")
    home = world.home(user)
    for name in ["ໄກ່", "ຂາ", "ເກົ່າ", "Beta", "ກາ", "alpha"]:
        world.folder(home, name)
    listed = [e.node.name for e in lookup.list_folder(world.ctx, user, home)]
    assert listed == ["ກາ", "ເກົ່າ", "ໄກ່", "ຂາ", "alpha", "Beta"]
    second_page = lookup.list_folder(world.ctx, user, home, limit=2, offset=2)
    assert [e.node.name for e in second_page] == ["ໄກ່", "ຂາ"]
