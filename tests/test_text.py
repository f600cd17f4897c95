import pytest

from transforms.text import UndecodableNotice, decode_notice, html_to_text, normalize_text


def test_normalize_folds_width_typos_and_spacing():
    assert normalize_text("开展应急演练 20 次，笫二巡察组（一）１２３％") == "开展应急演练20次,第二巡察组(一)123%"


def test_normalize_keeps_latin_word_spacing_and_lines():
    assert normalize_text("e-mail: a b\r\n\r\n\u3000第二行  ") == "e-mail: a b\n第二行"


def test_normalize_keeps_curly_quotes_and_cjk_punctuation():
    assert normalize_text("关于“‘四风’问题”、《办法》〔2021〕") == "关于“‘四风’问题”、《办法》〔2021〕"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("巡察整改".encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + "巡察整改".encode("utf-8"), "utf-8-sig"),
        ("巡察整改情况通报".encode("gb18030"), "gb18030"),
        ("巡察整改".encode("utf-16"), "utf-16"),
    ],
)
def test_decode_recognises_published_encodings(data, encoding):
    text, found = decode_notice(data)
    assert text.startswith("巡察整改")
    assert found == encoding


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))])
def test_decode_rejects_empty_and_binary(data):
    with pytest.raises(UndecodableNotice):
        decode_notice(data)


def test_html_to_text_drops_scripts_and_styles_and_keeps_blocks():
    html = "<html><head><style>p{color:red}</style><script>var x='巡视';</script></head><body><p>第一段</p><div>第二<br>行</div></body></html>"
    text = html_to_text(html)
    assert "var x" not in text and "color" not in text
    assert normalize_text(text) == "第一段\n第二\n行"
