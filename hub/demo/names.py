"""Name and place data of Alxa League: people's names, towns, departments, schools, hospitals."""

from __future__ import annotations

import random

from hub.demo.draws import Weighted, choice


def _words(text: str) -> tuple[str, ...]:
    """A tuple of the space-separated words of `text` (keeps long name lists compact)."""
    return tuple(text.split())


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """'a:b c:d' -> (('a', 'b'), ('c', 'd')): a unit and the department that runs it."""
    return tuple((a, b) for a, _, b in (item.partition(":") for item in text.split()))


# Han surnames, most common first; weights fall off with rank (roughly Zipf, as in a census).
HAN_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
HAN_SURNAME_WEIGHTS = tuple(1.0 / (i + 8) for i in range(len(HAN_SURNAMES)))
_HAN_SURNAME = Weighted(zip(HAN_SURNAMES, HAN_SURNAME_WEIGHTS, strict=True))
HUI_SURNAMES = "马马马杨丁海哈穆金沙"
MANCHU_SURNAMES = "关金佟那富赵肖"
# Mongolians who use a Han-style surname mostly pick one of these.
MONGOL_SURNAMES = "包白宝韩吴王"

MALE_GIVEN = "伟刚勇军杰涛明超强磊斌鹏辉华建国文志海波宇浩鑫俊峰亮平东林成龙飞晨博凯彬毅"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳洁梅红莉萍英华晶蕾瑶佳媛欣倩琴兰云月"
MONGOL_MALE = _words(
    "巴特尔 苏和 额尔敦 宝音 朝鲁 孟和 阿拉坦 布和 吉日嘎拉 达来 巴雅尔 那顺 额尔德尼 巴图 孟根 图门 白音 呼和 "
    "特木尔 胡日查 朝格图 毕力格 道尔吉 恩和 满都拉 宝力道 青格乐 "
    "赛音 阿拉腾 斯琴巴图 乌力吉 哈斯 敖其尔 巴音孟和"
)
MONGOL_FEMALE = _words(
    "其其格 乌云 图雅 萨仁 格日勒 斯琴 娜仁 乌兰 敖登 其木格 高娃 塔娜 托娅 苏日娜 乌日娜 萨如拉 阿拉坦其其格 "
    "斯琴高娃 乌云毕力格 娜仁花 琪琪格 额尔敦其木格 哈斯高娃 包桂兰 赛汗 "
    "阿茹娜"
)

# Look-alike replacements for planted name disagreements (R12): a different name, not formatting.
NAME_SWAPS = dict(
    _pairs(
        "伟:玮 丽:莉 华:桦 明:铭 军:君 静:婧 芳:方 娟:鹃 磊:蕾 勇:永 杰:洁 涛:韬 斌:彬 晶:菁 琳:林 红:宏 霞:侠 燕:艳 尔:日 格:歌 和:赫 音:英 其:琪 乌:吴 娜:那 特:德 图:涂"
    )
)

# GB 3304 ethnic group codes with the Alxa mix (汉 ~70%, 蒙古 ~25%).
ETHNIC_WEIGHTS = {"01": 70.0, "02": 25.0, "03": 3.0, "11": 1.5, "04": 0.2, "97": 0.3}

# Banner-level regions of the league and their weight as a home of institutions.
INSTITUTION_REGIONS = {
    "152900": 0.27,
    "152921": 0.36,
    "152922": 0.13,
    "152923": 0.14,
    "152971": 0.05,
    "15292101": 0.03,
    "15292102": 0.01,
    "15292301": 0.01,
}
BANNERS = ("152921", "152922", "152923")
# Where a person's ID number was issued, for staff of league-level units and zones.
HOME_BANNERS = {"152921": 0.62, "152922": 0.17, "152923": 0.21}
# Short forms used in document numbers (文号).
REGION_SHORT = {"152900": "阿盟", "152921": "阿左", "152922": "阿右", "152923": "额", "152971": "阿高新"}

TOWNS = {
    "152921": _words(
        "巴彦浩特镇 嘉尔嘎勒赛汉镇 温都尔勒图镇 吉兰泰镇 宗别立镇 敖伦布拉格镇 乌力吉苏木 银根苏木 巴润别立镇 超格图呼热苏木 巴彦诺日公苏木 腾格里额里斯镇 额尔克哈什哈苏木"
    ),
    "152922": _words(
        "额肯呼都格镇 阿拉腾朝格苏木 巴丹吉林镇 雅布赖镇 塔木素布拉格苏木 阿拉腾敖包镇 曼德拉苏木"
    ),
    "152923": _words(
        "达来呼布镇 东风镇 哈日布日格德音乌拉镇 赛汉陶来苏木 马鬃山苏木 苏泊淖尔苏木 温图高勒苏木"
    ),
}

# Party and government departments; the first ones exist even in the smallest demo.
DEPARTMENTS = _words(
    "财政局 教育体育局 卫生健康委员会 人力资源和社会保障局 农牧局 自然资源局 人民政府办公室 党委组织部 发展和改革委员会 住房和城乡建设局 交通运输局 水务局 生态环境局 林业和草原局 "
    "应急管理局 审计局 统计局 民政局 商务局 文化旅游体育局 市场监督管理局 医疗保障局 退役军人事务局 民族事务委员会 工业和信息化局 党委办公室 党委宣传部 党委统战部 纪律检查委员会 "
    "党委政法委员会 机构编制委员会办公室 信访局 能源局 科学技术局 乡村振兴局 数据局 国有资产监督管理委员会 城市管理综合执法局 行政审批和政务服务局 "
    "人民代表大会常务委员会办公室"
)
POLITICS = ("公安局", "人民法院", "人民检察院", "司法局")
# 挂牌 second names written in brackets after the main name.
ALIASES = {
    "人民政府办公室": "外事办公室",
    "应急管理局": "地震局",
    "文化旅游体育局": "文物局",
    "民族事务委员会": "宗教事务局",
    "党委办公室": "机要保密局",
    "党校": "行政学院",
    "档案史志馆": "地方志编纂中心",
    "医疗保障局": "医疗保障基金监管中心",
}
CIVIL_SERVICE_UNITS = _words(
    "社会保险事业服务中心 医疗保障服务中心 档案史志馆 党校 机关事务服务中心 住房公积金管理中心 不动产登记中心 就业服务中心 农村牧区合作经济经营管理站 综合行政执法大队 老干部服务中心 "
    "机关党建服务中心 社会治安综合治理中心 动物卫生监督所 文化市场综合执法大队 交通运输综合行政执法大队 农牧业综合行政执法大队 劳动保障监察大队 信访接待中心 党员教育中心"
)
MASS_ORGS = _words(
    "总工会 共青团委员会 妇女联合会 科学技术协会 文学艺术界联合会 残疾人联合会 工商业联合会 红十字会 归国华侨联合会 社会科学界联合会"
)
# Service units (公益一类) and the department that runs them.
SERVICES = _pairs(
    "疾病预防控制中心:卫生健康委员会 农牧业技术推广中心:农牧局 动物疫病预防控制中心:农牧局 林业和草原保护站:林业和草原局 水土保持工作站:水务局 图书馆:文化旅游体育局 "
    "文化馆:文化旅游体育局 博物馆:文化旅游体育局 环境监测站:生态环境局 退役军人服务中心:退役军人事务局 统计调查中心:统计局 政务服务中心:行政审批和政务服务局 "
    "土地储备中心:自然资源局 教育教学研究中心:教育体育局 社会福利院:民政局 融媒体中心:党委宣传部 国库集中支付中心:财政局 气象灾害防御中心:应急管理局 "
    "乌兰牧骑:文化旅游体育局 公共资源交易中心:行政审批和政务服务局 大数据中心:数据局 招商引资服务中心:商务局 乡村振兴服务中心:乡村振兴局 地质环境监测站:自然资源局 "
    "草原工作站:林业和草原局 水文水资源中心:水务局 人才服务中心:党委组织部 劳动人事争议仲裁院:人力资源和社会保障局 救助管理站:民政局 儿童福利院:民政局 殡仪馆:民政局 "
    "青少年活动中心:共青团委员会 科技馆:科学技术局 妇女儿童活动中心:妇女联合会 文物保护中心:文化旅游体育局 蒙医药研究所:卫生健康委员会 农牧业科学研究所:农牧局 "
    "沙产业研究所:林业和草原局 经济责任审计中心:审计局 价格认证中心:发展和改革委员会 城乡规划编制研究中心:自然资源局 计量测试所:市场监督管理局 "
    "残疾人康复中心:残疾人联合会"
)
PI2_UNITS = _pairs(
    "综合检验检测中心:市场监督管理局 城市建设勘察设计院:住房和城乡建设局 园林绿化服务中心:住房和城乡建设局 供排水服务中心:水务局 公路养护中心:交通运输局 "
    "职业技能培训中心:人力资源和社会保障局 广播电视台:党委宣传部 环境卫生服务中心:城市管理综合执法局 房产服务中心:住房和城乡建设局 农牧业技术服务中心:农牧局"
)
COMMERCIAL = _pairs(
    "宾馆:机关事务服务中心 招待所:人民政府办公室 印刷厂:党委宣传部 物业服务中心:机关事务服务中心 国营林场:林业和草原局 苗圃:林业和草原局 "
    "旅游开发服务中心:文化旅游体育局 种畜场:农牧局"
)
HOSPITALS = {
    "152900": ("中心医院", "蒙医医院", "妇幼保健院", "传染病医院"),
    "banner": ("人民医院", "蒙医医院", "妇幼保健计划生育服务中心"),
}
SPECIAL_SCHOOLS = ("蒙古族学校", "实验小学", "蒙古族小学")

TEACHING_SUBJECTS = _words(
    "语文 数学 英语 物理 化学 生物 道德与法治 历史 地理 体育 音乐 美术 信息技术 蒙古语文 科学"
)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """A positive integer below 100,000 in Chinese numerals, as in school names (第十二小学)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    units = ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out, zero = "", False
    for value, unit in units:
        digit = n // value % 10
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


def person_name(rng: random.Random, ethnic: str, male: bool) -> tuple[str, int]:
    """A plausible name for the ethnic group and sex, and the length of its surname (0 if none)."""
    given = MALE_GIVEN if male else FEMALE_GIVEN
    if ethnic == "02" and rng.random() < 0.7:
        return choice(rng, MONGOL_MALE if male else MONGOL_FEMALE), 0
    if ethnic == "02":
        surname = choice(rng, MONGOL_SURNAMES)
    elif ethnic == "03":
        surname = choice(rng, HUI_SURNAMES)
    elif ethnic == "11":
        surname = choice(rng, MANCHU_SURNAMES)
    else:
        surname = _HAN_SURNAME.pick(rng)
    length = 1 if rng.random() < 0.35 else 2
    return surname + "".join(choice(rng, given) for _ in range(length)), 1


def other_name(name: str, rng: random.Random) -> str:
    """A different name that looks like `name` (one character replaced), for planted R12."""
    for i in range(len(name) - 1, 0, -1):
        if name[i] in NAME_SWAPS:
            return name[:i] + NAME_SWAPS[name[i]] + name[i + 1 :]
    pool = [c for c in MALE_GIVEN + FEMALE_GIVEN if c != name[-1]]
    return name[:-1] + choice(rng, pool)
