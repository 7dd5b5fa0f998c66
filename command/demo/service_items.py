"""The demo service catalogue (服务事项清单): 56 items grouped as seeds 000 and 002 group them — administrative
approvals of the 民政、医保、卫健、人社、公安、残联、退役军人 departments handled for residents by community cadres
(代办), public services sunk to the street and community (下沉), certificates, and social services (water, power,
network, health, transport) answered by service teams. Offices, addresses and phones are the demo district's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from command.core.models import ServiceItem

_ID = "居民身份证、户口簿"
# group, name, department, category, level, type, working days (None: on the spot), online, conditions, materials
ITEMS: tuple[tuple[str, str, str, str | None, str, str, int | None, bool, str, str], ...] = (
    ("行政审批", "最低生活保障申请", "区民政局", "subsistence_allowance", "street", "promise", 20, True,
     "共同生活家庭成员人均收入低于本市低保标准且财产状况符合规定", f"{_ID}、家庭收入及财产申报表、低保申请书"),
    ("行政审批", "特困人员救助供养申请", "区民政局", "subsistence_allowance", "street", "promise", 20, False,
     "无劳动能力、无生活来源、无法定赡养抚养扶养义务人或其无履行能力", f"{_ID}、特困供养申请书、残疾证或病历"),
    ("行政审批", "临时救助申请", "区民政局", "social_security", "street", "promise", 5, True,
     "因火灾、交通事故、突发重大疾病等导致基本生活暂时出现严重困难", f"{_ID}、困难情况说明及证明材料"),
    ("行政审批", "高龄津贴申领", "区民政局", "elderly_care", "community", "promise", 10, True,
     "本区户籍年满80周岁的老年人", f"{_ID}、银行卡"),
    ("行政审批", "经济困难老年人养老服务补贴", "区民政局", "elderly_care", "street", "promise", 15, False,
     "本区户籍60周岁以上低保、低收入家庭老年人", f"{_ID}、低保证或低收入证明、能力评估表"),
    ("行政审批", "困难残疾人生活补贴", "区残联", "disability_aid", "community", "promise", 15, True,
     "持第二代残疾人证的低保、低保边缘家庭残疾人", f"{_ID}、残疾人证、低保证"),
    ("行政审批", "重度残疾人护理补贴", "区残联", "disability_aid", "community", "promise", 15, True,
     "残疾等级为一级、二级且需长期照护的残疾人", f"{_ID}、残疾人证、银行卡"),
    ("行政审批", "残疾人证新办", "区残联", "disability_aid", "street", "promise", 20, False,
     "符合残疾标准的本区户籍居民", f"{_ID}、近期一寸免冠照片3张、二级以上医院病历"),
    ("行政审批", "残疾人辅助器具适配申请", "区残联", "disability_aid", "community", "promise", 20, False,
     "持证残疾人有辅具适配需求", f"{_ID}、残疾人证、辅具评估表"),
    ("行政审批", "城乡居民医疗保险参保登记", "区医保局", "health", "community", "immediate", None, True,
     "未参加职工医保的本区户籍或居住证持有人", _ID),
    ("行政审批", "医疗救助申请", "区医保局", "health", "street", "promise", 15, False,
     "低保、特困、低保边缘家庭成员发生政策范围内自付医疗费用", f"{_ID}、住院发票、费用清单、出院小结"),
    ("行政审批", "异地就医备案", "区医保局", "health", "community", "immediate", None, True,
     "参保人员因长期居住或转诊需在外地就医", f"{_ID}、医保电子凭证、居住证明或转诊单"),
    ("行政审批", "门诊慢特病待遇认定", "区医保局", "health", "street", "promise", 10, True,
     "患有规定慢特病病种的参保人员", f"{_ID}、二级以上医院诊断证明、近期检查报告"),
    ("行政审批", "城乡居民养老保险参保登记", "区人社局", "social_security", "community", "immediate", None, True,
     "年满16周岁、未参加职工养老保险的本区户籍居民", _ID),
    ("行政审批", "城乡居民养老保险待遇领取资格认证", "区人社局", "social_security", "community", "immediate", None,
     True, "领取城乡居民养老金人员每年一次", f"{_ID}（可通过“老来”APP刷脸认证）"),
    ("行政审批", "社会保障卡申领", "区人社局", "social_security", "street", "promise", 10, True,
     "参加本市社会保险的人员", f"{_ID}、近期免冠照片"),
    ("行政审批", "社会保障卡挂失与补换", "区人社局", "social_security", "street", "immediate", None, True,
     "社保卡丢失、损坏或信息变更", f"{_ID}、原卡（补换时）"),
    ("行政审批", "失业登记", "区人社局", "social_security", "street", "immediate", None, True,
     "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的人员", f"{_ID}、解除劳动合同证明"),
    ("行政审批", "就业困难人员认定", "区人社局", "social_security", "street", "promise", 10, False,
     "已办理失业登记且属于大龄、残疾、低保家庭等就业困难情形", f"{_ID}、就业创业证、相关证明"),
    ("行政审批", "灵活就业人员社保补贴申请", "区人社局", "social_security", "street", "promise", 20, True,
     "就业困难人员灵活就业并缴纳社会保险费", f"{_ID}、灵活就业登记、缴费凭证"),
    ("行政审批", "生育登记", "区卫健委", "family_planning", "community", "immediate", None, True,
     "夫妻双方或一方为本区户籍或居住证持有人", "夫妻双方身份证、结婚证"),
    ("行政审批", "计划生育家庭特别扶助金申请", "区卫健委", "family_planning", "street", "promise", 30, False,
     "独生子女死亡或伤残且未再生育、收养子女的夫妻，女方年满49周岁", f"{_ID}、独生子女证、死亡或伤残证明"),
    ("行政审批", "出生医学证明首次签发预约", "区卫健委", "health", "community", "answer", 5, True,
     "在本区助产机构出生的新生儿", "父母身份证、分娩记录"),
    ("行政审批", "居住证申领", "区公安分局", "public_security", "community", "promise", 15, True,
     "离开常住户口所在地到本区居住半年以上", f"{_ID}、租房合同或房产证明、近期免冠照片"),
    ("行政审批", "户口迁入（投靠）", "区公安分局", "public_security", "street", "promise", 20, False,
     "夫妻、子女、父母投靠符合本市落户政策", f"{_ID}、关系证明、合法稳定住所证明"),
    ("行政审批", "优抚对象抚恤补助申请", "区退役军人事务局", "social_security", "street", "promise", 20, False,
     "在乡退役军人、伤残军人、烈士遗属等优抚对象", f"{_ID}、优待证、退役证明"),
    ("行政审批", "退役军人优待证申领", "区退役军人事务局", "social_security", "community", "promise", 30, True,
     "本区户籍退役军人和其他优抚对象", f"{_ID}、退役证明、近期免冠照片"),
    ("行政审批", "廉租住房保障申请", "区住建局", "low_rent_housing", "street", "promise", 30, False,
     "本区户籍低收入住房困难家庭", f"{_ID}、收入证明、住房情况证明、申请表"),
    ("行政审批", "公共租赁住房申请", "区住建局", "low_rent_housing", "street", "promise", 30, True,
     "本区户籍或持居住证且无自有住房的家庭", f"{_ID}、收入证明、无房证明"),
    ("公共服务", "老年人优待证办理", "区民政局", "elderly_care", "community", "immediate", None, True,
     "年满60周岁的老年人", f"{_ID}、近期一寸免冠照片"),
    ("公共服务", "居家养老服务申请", "区民政局", "elderly_care", "community", "promise", 5, True,
     "有助餐、助洁、助浴、助医需求的居家老年人", f"{_ID}、需求登记表"),
    ("公共服务", "婚姻登记预约", "区民政局", "law_publicity", "community", "answer", 3, True,
     "符合《民法典》结婚或离婚条件的当事人", "双方身份证、户口簿、近期合影照片"),
    ("公共服务", "法律援助申请", "区司法局", "law_publicity", "street", "promise", 7, True,
     "经济困难且属于法律援助事项范围的公民", f"{_ID}、经济困难声明、案件材料"),
    ("公共服务", "人民调解申请", "街道司法所", "dispute_mediation", "community", "joint", 15, False,
     "邻里、婚姻家庭、物业等民间纠纷，当事人自愿调解", f"{_ID}、纠纷情况说明"),
    ("公共服务", "社区矫正报到", "街道司法所", "community_correction", "street", "immediate", None, False,
     "被依法判处管制、宣告缓刑、假释或暂予监外执行人员", f"{_ID}、判决书、执行通知书"),
    ("公共服务", "适龄儿童入学信息登记", "区教育局", "culture_education", "community", "answer", 5, True,
     "本学区内年满6周岁的适龄儿童", "户口簿、房产证明或居住证"),
    ("公共服务", "家庭医生签约", "社区卫生服务中心", "health", "community", "immediate", None, True,
     "本社区常住居民", _ID),
    ("公共服务", "预防接种证办理", "社区卫生服务中心", "health", "community", "immediate", None, False,
     "新生儿或来本区居住的儿童", "出生医学证明、监护人身份证"),
    ("公共服务", "文化活动场馆预约", "街道文化站", "culture_education", "street", "answer", 2, True,
     "社区居民或团体开展公益文化活动", "活动方案、联系人身份证"),
    ("公共服务", "公共设施报修（路灯、井盖、座椅）", "区城管局", "public_facilities", "community", "promise", 5,
     True, "社区及道路范围内损坏的公共设施", "现场照片、位置"),
    ("公共服务", "占道经营及违章搭建投诉", "区城管局", "civilized_city", "street", "promise", 5, True,
     "影响通行、市容或安全的占道、搭建行为", "现场照片、位置"),
    ("证明服务", "居住证明", "社区居委会", None, "community", "immediate", None, False,
     "在本社区实际居住的居民", f"{_ID}、租房合同或房产证明"),
    ("证明服务", "家庭经济状况证明", "社区居委会", "subsistence_allowance", "community", "promise", 3, False,
     "因就学、就医、救助需要出具家庭经济状况证明", f"{_ID}、收入情况说明"),
    ("证明服务", "亲属关系证明（协助开具）", "社区居委会", None, "community", "joint", 10, False,
     "户籍档案无法直接证明的亲属关系，需迁出地协助核实", f"{_ID}、关系人证件"),
    ("证明服务", "无犯罪记录证明", "区公安分局", "public_security", "street", "promise", 3, True,
     "本人因就业、出国等需要", f"{_ID}、用途说明"),
    ("证明服务", "独生子女父母光荣证补办", "区卫健委", "family_planning", "community", "promise", 10, False,
     "原证遗失或损毁的独生子女父母", "夫妻双方身份证、户口簿"),
    ("社会服务", "用水报装与水表报修", "城南供水所", "public_facilities", "community", "promise", 3, True,
     "本区供水范围内用户", "房产证明、户主身份证"),
    ("社会服务", "停水与水质问题反映", "城南供水所", "public_facilities", "community", "answer", 1, True,
     "本区供水范围内用户", "位置、情况说明"),
    ("社会服务", "用电报装与故障报修", "城南供电中心", "public_facilities", "community", "promise", 3, True,
     "本区供电范围内用户", "户号、户主身份证"),
    ("社会服务", "宽带与固话装移修", "城南通信分公司", "public_facilities", "community", "promise", 3, True,
     "本区通信网络覆盖范围内用户", "户主身份证、安装地址"),
    ("社会服务", "燃气开通与安全检查预约", "城南燃气公司", "public_facilities", "community", "promise", 3, True,
     "已通管道燃气的住户", "户号、户主身份证"),
    ("社会服务", "上门健康随访（慢病、高龄）", "社区卫生服务中心", "health", "community", "promise", 5, True,
     "高血压、糖尿病患者及80周岁以上老年人", "居民健康档案号"),
    ("社会服务", "助餐助浴上门服务", "社会化服务队", "elderly_care", "community", "promise", 2, True,
     "失能、半失能及独居老年人", "需求登记表"),
    ("社会服务", "老年人出行接送预约", "志愿者服务队", "elderly_care", "community", "promise", 2, True,
     "行动不便的老年人或残疾人就医出行", "出行时间、地点"),
    ("社会服务", "公交线路与站点诉求", "区交通运输局", "public_facilities", "district", "answer", 15, True,
     "线路调整、站点增设、班次等出行诉求", "诉求说明"),
    ("社会服务", "留守儿童关爱帮扶", "志愿者服务队", "culture_education", "community", "promise", 5, False,
     "父母外出务工的未成年人", "监护人身份证、情况说明"),
)

_OFFICE = {"community": ("社区党群服务中心便民服务站", "所在社区党群服务中心一楼"),
           "street": ("街道便民服务中心", "所在街道便民服务中心综合窗口"),
           "district": ("城南区市民之家", "城南区市民之家二楼综合受理区")}


def catalogue_rows() -> list[dict[str, object]]:
    """The catalogue as column values, each item with a stable code (S001…)."""
    rows: list[dict[str, object]] = []
    for i, (group, name, dept, category, level, kind, days, online, conditions, materials) in enumerate(ITEMS, 1):
        office, address = _OFFICE[level]
        rows.append({
            "code": f"S{i:03d}", "name": name, "group_name": group, "department": dept, "category_code": category,
            "level": level, "item_type": kind, "conditions": conditions, "materials": materials.split("、"),
            "office": office, "address": address, "hours": "周一至周五 8:30–12:00，14:00–17:30",
            "time_limit_days": days, "phone": f"025-8468{i:04d}", "online": online, "offline": True})
    return rows


async def upsert_catalogue(session: AsyncSession) -> int:
    """Insert or refresh every demo item by its code (an admin's edits to other items are kept)."""
    existing = {s.code: s for s in (await session.scalars(select(ServiceItem))).all()}
    rows = catalogue_rows()
    for row in rows:
        item = existing.get(str(row["code"]))
        if item is None:
            session.add(ServiceItem(**row))
        else:
            for key, value in row.items():
                setattr(item, key, value)
    await session.flush()
    return len(rows)
