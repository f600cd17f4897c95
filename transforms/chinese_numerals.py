"""Chinese numerals (中文数字: 十三, 两千, 第二十一) read by cn2an, which is imported on first use.

Importing cn2an compiles the regular expressions of all its converters (~0.3 s, a sixth of the command line's
start-up). Every refresh imports the transforms (the warehouse package builds on their schemas) but a refresh with
nothing new parses nothing, so it should not pay for them.
"""

from functools import cache


@cache
def _converter():
    import cn2an

    return cn2an.cn2an


def cn2an(text: str, mode: str) -> int | float:
    """`cn2an.cn2an(text, mode)`: the number a Chinese numeral writes; raises as cn2an does when it is not one."""
    return _converter()(text, mode)


def integer(text: str) -> int:
    """Arabic digits, or a Chinese numeral read in cn2an's smart mode (十三, 2万), as an int; raises as cn2an does
    (ValueError, KeyError, TypeError) when it is neither."""
    if text.isdigit():
        return int(text)
    return int(cn2an(text, "smart"))
