"""The four departments' legacy tables (docs/legacy-databases.md), named exactly as their systems name them.

Only this module and the adapters' mapping files know these names. Codes are VARCHAR, money is
BIGINT fen, dates are DATE where the legacy system keeps a date and text where it keeps text.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()


def _t(length: int) -> sa.String:
    return sa.String(length)


def _col(name: str, type_: sa.types.TypeEngine | type, pk: bool = False, null: bool = True) -> sa.Column:
    return sa.Column(name, type_, primary_key=pk, nullable=null and not pk)


def _table(name: str, *columns: sa.Column, indexes: tuple[tuple[str, ...], ...] = ()) -> sa.Table:
    table = sa.Table(name, METADATA, *columns, mysql_charset="utf8mb4")
    for cols in indexes:
        sa.Index(f"IX_{name}_{'_'.join(cols)}", *(table.c[c] for c in cols))
    return table


_MONEY = tuple(
    _col(c, sa.BigInteger, null=False)
    for c in ("ZWGZ", "JBGZ", "GWGZ", "XJGZ", "JCJX", "JLJX", "JTBT", "YFHJ")
    + ("DK_YL", "DK_YB", "DK_NJ", "DK_SY", "DK_GJJ", "DK_SDS", "SFHJ")
)

# 编办 establishment office
T_JG = _table(
    "T_JG",
    _col("JGID", _t(12), pk=True),
    _col("JGMC", _t(100), null=False),
    _col("TYSHXYDM", _t(18)),
    _col("JGLB", _t(10)),
    _col("JGGG", _t(4)),
    _col("JFXS", _t(8)),
    _col("XZQH", _t(12)),
    _col("SJJGID", _t(12)),
    _col("XXLB", _t(8)),
    _col("ZXSS", sa.Integer),
    _col("CLRQ", sa.Date),
    _col("CXRQ", sa.Date),
    indexes=(("TYSHXYDM",), ("SJJGID",)),
)
T_BZ = _table(
    "T_BZ",
    _col("JGID", _t(12), pk=True),
    _col("BZLX", _t(2), pk=True),
    _col("HDS", sa.Integer, null=False),
    _col("PZWH", _t(40)),
    _col("PZRQ", sa.Date),
)
T_LDZS = _table(
    "T_LDZS",
    _col("JGID", _t(12), pk=True),
    _col("ZWCC", _t(4), pk=True),
    _col("ZSLX", _t(4), pk=True),
    _col("HDZS", sa.Integer, null=False),
)
T_SMZ = _table(
    "T_SMZ",
    _col("RYID", _t(12), pk=True),
    _col("JGID", _t(12), null=False),
    _col("XM", _t(30)),
    _col("SFZH", _t(18)),
    _col("XB", _t(2)),
    _col("CSRQ", _t(7)),
    _col("MZ", _t(10)),
    _col("XL", _t(10)),
    _col("BZLX", _t(2), null=False),
    _col("RBRQ", sa.Date),
    _col("CBRQ", sa.Date),
    _col("CBYY", _t(20)),
    _col("RYZT", _t(4), null=False),
    _col("JHID", _t(12)),
    indexes=(("JGID",), ("SFZH",), ("JHID",)),
)
T_YBJH = _table(
    "T_YBJH",
    _col("JHID", _t(12), pk=True),
    _col("JGID", _t(12), null=False),
    _col("BZLX", _t(2), null=False),
    _col("JHS", sa.Integer, null=False),
    _col("YYS", sa.Integer),
    _col("PZRQ", sa.Date),
    _col("ZT", _t(6)),
    indexes=(("JGID", "BZLX"),),
)

# 组织部 organization department
B01 = _table(
    "B01",
    _col("B0111", _t(12), pk=True),
    _col("B0101", _t(100), null=False),
    _col("B0114", _t(18)),
    _col("B0127", _t(4)),
    _col("B0183", sa.Integer),
    _col("B0185", sa.Integer),
    indexes=(("B0114",),),
)
A01 = _table(
    "A01",
    _col("A0100", _t(36), pk=True),
    _col("A0101", _t(30)),
    _col("A0104", _t(1)),
    _col("A0107", _t(6)),
    _col("A0117", _t(2)),
    _col("A0184", _t(18)),
    _col("A0157", _t(12)),
    indexes=(("A0184",), ("A0157",)),
)
A02 = _table(
    "A02",
    _col("A0200", _t(36), pk=True),
    _col("A0100", _t(36), null=False),
    _col("A0201B", _t(12)),
    _col("A0215A", _t(30)),
    _col("A0221", _t(3)),
    _col("A0219", _t(1)),
    _col("A0243", _t(8)),
    _col("A0245", _t(40)),
    _col("A0265", _t(8)),
    indexes=(("A0100",), ("A0201B",)),
)
A08 = _table(
    "A08",
    _col("A0100", _t(36), pk=True),
    _col("A0801B", _t(2), pk=True),
    _col("A0837", _t(1)),
    _col("A0807", _t(8)),
)

# 人社局 HR and social security
RS_DW = _table(
    "RS_DW",
    _col("DWBM", _t(12), pk=True),
    _col("DWMC", _t(100), null=False),
    _col("TYXYDM", _t(18)),
    _col("XZQH", _t(6)),
    indexes=(("TYXYDM",),),
)
RS_RYXX = _table(
    "RS_RYXX",
    _col("RYBH", _t(10), pk=True),
    _col("DWBM", _t(12)),
    _col("XM", _t(30)),
    _col("GMSFHM", _t(18)),
    _col("XB", _t(1)),
    _col("CSRQ", sa.Date),
    _col("MZDM", _t(2)),
    _col("XLDM", _t(2)),
    _col("RYLB", _t(2)),
    _col("RJXK", _t(10)),
    _col("CJGZRQ", sa.Date),
    _col("ZT", _t(4)),
    _col("ZTRQ", sa.Date),
    indexes=(("GMSFHM",), ("DWBM",)),
)
RS_GWPY = _table(
    "RS_GWPY",
    _col("RYBH", _t(10), pk=True),
    _col("GWLB", _t(1)),
    _col("GWDJ", sa.Integer),
    _col("QSRQ", sa.Date, pk=True),
    _col("ZZRQ", sa.Date),
)
RS_ZC = _table(
    "RS_ZC",
    _col("RYBH", _t(10), pk=True),
    _col("ZCMC", _t(20), pk=True),
    _col("ZCJB", _t(1)),
    _col("QDRQ", sa.Date),
)
AC01 = _table(
    "AC01",
    _col("AAC001", _t(14), pk=True),
    _col("AAC002", _t(18)),
    _col("AAC003", _t(30)),
    _col("AAC004", _t(1)),
    _col("AAC006", sa.Integer),
    _col("AAC008", _t(1)),
    indexes=(("AAC002",),),
)

# 财政局 finance
GZ_DW = _table(
    "GZ_DW",
    _col("DWDM", _t(12), pk=True),
    _col("DWMC", _t(100), null=False),
    _col("TYXYDM", _t(18)),
    indexes=(("TYXYDM",),),
)
GZ_RY = _table(
    "GZ_RY",
    _col("RYBM", _t(10), pk=True),
    _col("DWDM", _t(12)),
    _col("XM", _t(30)),
    _col("SFZH", _t(18)),
    _col("XB", _t(1)),
    _col("RYLB", _t(4)),
    _col("BZQK", _t(4)),
    _col("TFBZ", _t(1)),
    indexes=(("SFZH",), ("DWDM",)),
)
GZ_YB = _table(
    "GZ_YB",
    _col("GZNY", _t(6), pk=True),
    _col("RYBM", _t(10), pk=True),
    _col("DWDM", _t(12)),
    *_MONEY,
    indexes=(("RYBM", "GZNY"), ("DWDM",)),
)
GZ_YD = _table(
    "GZ_YD",
    _col("YDID", _t(12), pk=True),
    _col("RYBM", _t(10), null=False),
    _col("YDLX", _t(4)),
    _col("QXNY", _t(6)),
    _col("TXNY", _t(6)),
    _col("PZWH", _t(40)),
    indexes=(("RYBM",),),
)

DEPARTMENT_TABLES: dict[str, tuple[sa.Table, ...]] = {
    "establishment": (T_JG, T_BZ, T_LDZS, T_SMZ, T_YBJH),
    "organization": (B01, A01, A02, A08),
    "hr": (RS_DW, RS_RYXX, RS_GWPY, RS_ZC, AC01),
    "finance": (GZ_DW, GZ_RY, GZ_YB, GZ_YD),
}
