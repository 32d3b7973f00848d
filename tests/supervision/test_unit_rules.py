"""Institution rules: R04 quotas, R07 leadership posts, R10 credit codes."""

from __future__ import annotations

from hub.core.records import Unit
from hub.supervision.unit_rules import bad_credit_codes, over_posts, over_quota, post_scope
from tests.supervision.synthetic import UNITS, A, world


def test_r04_headcount_over_quota_per_type() -> None:
    w = world()
    hits = list(over_quota(w, {("JG1", "JS"): 3, ("JG1", "GQ"): 1}, {("JG1", "JS"): 2, ("JG1", "GQ"): 1}))
    assert [(h.institution_code, h.facts) for h in hits] == [(A, {"quotaType": "JS"})]
    assert hits[0].evidence["over"] == 1
    assert list(over_quota(w, {("JG1", "JS"): 2}, {("JG1", "JS"): 2})) == []


def test_r04_a_type_without_quota_is_over() -> None:
    assert len(list(over_quota(world(), {("JG1", "SY"): 1}, {}))) == 1


def test_r07_unit_level_by_rank() -> None:
    assert post_scope("SECTION_HEAD", "HEAD", "141") == "UNIT"
    assert post_scope("SECTION_HEAD", "DEPUTY", "142") == "UNIT"
    assert post_scope("SECTION_HEAD", "HEAD", "150") == "INTERNAL"
    assert post_scope("SECTION_DEPUTY", "DEPUTY", "142") == "INTERNAL"  # 副科 units have no deputy level of their own


def test_r07_leaders_over_approved_posts() -> None:
    w = world()
    posts = {("JG1", "DEPUTY", "UNIT"): 1, ("JG1", "HEAD", "INTERNAL"): 2}
    hits = list(over_posts(w, [("O1", "DEPUTY", "142", 2), ("O1", "HEAD", "150", 2)], posts))
    assert [(h.institution_code, h.facts) for h in hits] == [(A, {"level": "DEPUTY", "scope": "UNIT"})]
    assert list(over_posts(w, [("O1", "DEPUTY", "142", 1)], posts)) == []


def test_r10_credit_codes_blank_and_org_codes() -> None:
    w = world()
    assert list(bad_credit_codes(w, UNITS)) == []  # blanks and a valid 9-character organization code
    spoiled = dict(UNITS, finance=[Unit("F1", "阿拉善左旗第一中学", A[:-1] + ("0" if A[-1] != "0" else "1"))])
    hits = list(bad_credit_codes(w, spoiled))
    assert [h.institution_code for h in hits] == [A]
    bad_org = dict(UNITS, organization=[Unit("O1", "阿拉善左旗第一中学", A[8:16] + "Y")])
    assert len(list(bad_credit_codes(w, bad_org))) == 1
