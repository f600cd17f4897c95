import polars as pl
import pytest

from transforms.organization import org_type, organizations, resolve_places


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("薛家镇及所辖村(社区)", "township"),
        ("镇江经济技术开发区党工委", "development_zone"),
        ("梁溪区", "county_district"),
        ("某某街道党工委", "development_zone"),
        ("某某街道", "street"),
        ("南京大学", "university"),
        ("某某市", "city"),
        ("", None),
    ],
)
def test_org_type_from_name_cues(name, kind):
    assert org_type(name) == kind


def test_places_come_from_the_first_name_that_states_them():
    places = resolve_places("城北镇党委", "中共梅州市梅江区城北镇委员会", None)
    assert places == {"province": None, "city": "梅州市", "county": "梅江区"}
    assert resolve_places("x", "中共江苏省南京市玄武区委")["province"] == "江苏省"


def test_organizations_frame_has_one_row_per_notice():
    metadata = pl.DataFrame(
        {"content_sha256": ["a"], "inspected_unit": ["梁溪区"], "publisher": [None], "contact_address": ["无锡市梁溪区解放南路688号"]}
    )
    row = organizations(metadata).row(0, named=True)
    # The division table (transforms.places) adds the province the names leave implicit, and the code.
    assert row == {"content_sha256": "a", "name": "梁溪区", "org_type": "county_district", "province": "江苏省", "city": "无锡市",
                   "county": "梁溪区", "township": None, "adcode": "320213000000"}
