"""A short made-up notice staged and parsed once by a long-lived process before its first real parse (`zhenggai watch`).

The parser loads its reference data (units, metrics, status phrases, place names, the privacy rules, OpenCC) and
compiles its patterns on first use, and imports cn2an then: ~0.15-0.2 s that the first notice parsed in a process
pays. A refresh process parses one changed notice right after starting and pays it whatever happens; a watcher can
pay it while it waits."""

import hashlib

import polars as pl

from transforms.ingest import stage_notices
from transforms.pipeline import notice_star

# The parts the parser reads: title, inspection dates, a category, numbered problems with a status, measures,
# figures with units and a rate, contacts, signature.
WARM_UP_TEXT = """中共某县委员会关于巡察整改进展情况的通报
根据县委统一部署,2021年3月1日至4月30日,县委第一巡察组对某镇党委进行了巡察。5月20日,巡察组反馈了巡察意见。现将整改进展情况予以公布。
一、党的建设方面
1.关于“基层党组织建设薄弱”问题的整改。
整改状态:已完成整改。
整改措施:一是整顿软弱涣散村党组织3个;二是培训党员120人次。
2.关于“资金管理不规范”问题的整改。
整改状态:正在整改,预计2022年6月底前完成。
整改措施:一是追回资金12.5万元;二是处理2人。
截至目前,共计1个问题已完成整改,1个问题正在整改,整改完成率50%。
联系电话:0519-12345678;邮政信箱:某县某镇邮政信箱1号。
中共某镇委员会
2021年9月30日
"""


def warm_up() -> dict[str, pl.DataFrame]:
    """The star rows of WARM_UP_TEXT, staged from its bytes as a landed file is (what matters is having done it)."""
    data = WARM_UP_TEXT.encode("utf-8")
    landed = pl.DataFrame({"source_name": ["warm_up.txt"], "content_sha256": [hashlib.sha256(data).hexdigest()],
                           "data": [data], "read_error": [None]},
                          schema={"source_name": pl.String, "content_sha256": pl.String, "data": pl.Binary,
                                  "read_error": pl.String})
    notices, _ = stage_notices(landed)
    return notice_star(notices)
