"""transforms/chinese_numerals.integer: the count a notice writes in digits or in Chinese numerals."""

import pytest

from transforms.chinese_numerals import integer


@pytest.mark.parametrize("text, value", [("13", 13), ("十三", 13), ("二十一", 21), ("两千", 2000), ("2万", 20000)])
def test_digits_and_chinese_numerals_read_as_integers(text, value):
    assert integer(text) == value


def test_words_that_are_not_numerals_raise():
    with pytest.raises(ValueError):
        integer("问题")
