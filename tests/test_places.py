"""Places from the administrative-division code table (transforms.places) and their use in dim_organization."""

import polars as pl
import pytest

from transforms.organization import organizations
from transforms.places import dataset_path, divisions, resolve_place


def test_the_division_dataset_is_installed_and_read():
    assert dataset_path() is not None, "cpca (pinned in pyproject) ships adcodes.csv"
    levels = divisions()
    assert len(levels["province"]) >= 31 and len(levels["city"]) >= 300 and len(levels["county"]) >= 2500


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("中共常州市新北区薛家镇委员会", ("江苏省", "常州市", "新北区", "薛家镇", "320411000000")),
        ("中共梅州市梅县区城北镇委员会", ("广东省", "梅州市", "梅县区", "城北镇", "441403000000")),
        ("郴州市苏仙区", ("湖南省", "郴州市", "苏仙区", None, "431003000000")),
        ("苏仙区委", ("湖南省", "郴州市", "苏仙区", None, "431003000000")),  # a unique county name needs no city
        ("北京市朝阳区", ("北京市", None, "朝阳区", None, "110105000000")),  # a municipality has no city level
        ("中共江苏省委", ("江苏省", None, None, None, "320000000000")),
        # Not settled by the text and the table: nothing is guessed.
        ("朝阳区", (None, None, None, None, None)),  # 朝阳区 exists in Beijing and in Changchun
        ("城北镇党委", (None, None, None, None, None)),
        ("南京大学", (None, None, None, None, None)),
    ],
)
def test_resolve_place(name, expected):
    found = resolve_place(name)
    assert (found["province"], found["city"], found["county"], found["township"], found["adcode"]) == expected


def test_organizations_prefer_the_dataset_and_fall_back_to_name_suffixes():
    metadata = pl.DataFrame(
        {
            "content_sha256": ["a", "b"],
            "inspected_unit": ["薛家镇", "某某县某某镇"],
            "publisher": ["中共常州市新北区薛家镇委员会", None],
            "contact_address": [None, None],
        }
    )
    rows = {r["content_sha256"]: r for r in organizations(metadata).iter_rows(named=True)}
    assert (rows["a"]["province"], rows["a"]["city"], rows["a"]["county"], rows["a"]["township"], rows["a"]["org_type"]) == (
        "江苏省", "常州市", "新北区", "薛家镇", "township")
    # Not in the table: the suffix reading still states the county as written, with no code.
    assert (rows["b"]["county"], rows["b"]["adcode"]) == ("某某县", None)
