"""What residents, sensors and grid workers say when they report something: believable Chinese text
per category, filled with the place it happens. Used by the simulator."""

from __future__ import annotations

import numpy as np

ROADS = ("中山路", "北京东路", "龙蟠路", "珠江路", "太平北路", "汉中路", "建康路", "长白街", "洪武路", "御道街",
         "龙江路", "虎踞路", "江东中路", "集庆路", "应天大街", "光华路", "中华路", "升州路", "瑞金路", "秦淮路")

TEXTS: dict[str, tuple[str, ...]] = {
    "fire": ("{c}{b}栋{u}单元{f}楼窗口冒出浓烟，疑似厨房起火，楼内有老人",
             "{r}{n}号门面房着火，火势较大，群众正在用灭火器扑救",
             "{c}地下车库一辆电动自行车充电时起火，烟很大",
             "{c}{b}栋楼道堆放的纸箱着火，已有居民往外疏散"),
    "cable_down": ("{r}与{r2}交叉口一根电线被大风刮断垂落在人行道上，有火花",
                   "{c}{b}栋旁电线杆倾斜，电线拖地，小孩在附近玩耍",
                   "{r}{n}号门前树枝压断低压线，附近几家商户停电"),
    "flooding": ("{r}下穿通道积水约40厘米，有车辆熄火",
                 "{c}小区门口积水没过脚踝，雨水井堵塞",
                 "{c}{b}栋地下室进水，配电间有被淹风险"),
    "gas_leak": ("{c}{b}栋{u}单元楼道内燃气味很重，住户不在家",
                 "{r}{n}号餐馆后厨燃气管道漏气，已关闭总阀，仍有气味",
                 "{c}燃气管道施工被挖破，现场有嘶嘶声"),
    "water_main_burst": ("{r}{n}号门前自来水管爆裂，水柱一米多高，路面积水",
                         "{c}{b}栋地下供水管破裂，整栋楼停水",
                         "{r}人行道下水管漏水，地砖拱起"),
    "road_collapse": ("{r}非机动车道出现约2平方米塌陷坑，已有电动车摔倒",
                      "{r}{n}号附近路面下沉开裂，裂缝还在扩大",
                      "{c}小区主干道井盖周边塌陷，车辆无法通行"),
    "person_injured": ("{c}{b}栋楼下一名老人摔倒，头部出血，意识清醒",
                       "{r}公交站台有人晕倒，路人正在看护",
                       "{r}{n}号附近一名骑车人摔倒，腿部受伤无法站立"),
    "telecom_outage": ("{c}一带宽带和固话全部中断，疑似施工挖断光缆",
                       "{r}{n}号附近通信线缆垂落，影响车辆通行"),
    "law_publicity": ("居民咨询{c}何时开展《民法典》普法讲座",
                      "{c}居民希望社区开展防范电信诈骗宣传"),
    "family_planning": ("居民咨询办理生育登记需要带哪些材料",
                        "{c}新婚夫妇咨询生育服务登记和育儿补贴"),
    "civilized_city": ("{r}{n}号附近垃圾桶满溢无人清运，异味大",
                       "{c}{b}栋楼道堆放杂物，影响通行",
                       "{r}沿街店铺占道经营，行人只能走机动车道",
                       "{c}绿地里有人种菜、乱搭乱建"),
    "public_security": ("{c}{b}栋有人私拉电线给电动车充电",
                        "{r}夜间有人聚集酗酒喧哗，影响居民休息",
                        "{c}{b}栋出租屋人员频繁进出，邻居担心有安全隐患"),
    "social_security": ("居民咨询灵活就业人员养老保险如何续缴",
                        "{c}居民咨询医保异地就医备案"),
    "culture_education": ("居民反映{c}文化活动室长期关闭",
                          "家长咨询{c}周边小学入学划片"),
    "health": ("{c}{b}栋居民家中有人发热，咨询就近发热门诊",
               "居民反映{r}{n}号药店出售过期药品"),
    "subsistence_allowance": ("{c}一户居民因病致贫，申请城市低保",
                              "低保户咨询年审需要准备的材料"),
    "disability_aid": ("{c}{b}栋肢体残疾居民申请轮椅",
                       "残疾人家属咨询护理补贴如何申领"),
    "low_rent_housing": ("{c}居民咨询廉租房申请条件",
                         "廉租房申请人询问审核进度"),
    "elderly_care": ("{c}{b}栋独居老人两天未出门，邻居联系不上",
                     "{c}高龄老人需要助餐服务，子女在外地",
                     "{c}{b}栋空巢老人家中水管坏了，行动不便"),
    "dispute_mediation": ("{c}{b}栋楼上楼下因漏水发生纠纷",
                          "{r}{n}号商户与顾客发生争执，情绪激动",
                          "{c}邻里因停车位发生争吵"),
    "community_correction": ("社区矫正对象本周未按时到{c}报到",
                             "{c}社区矫正对象申请外出请假"),
    "public_facilities": ("{r}{n}号附近路灯不亮",
                          "{c}健身器材损坏，有安全隐患",
                          "{r}窨井盖缺失，夜间很危险",
                          "{c}{b}栋电梯经常停运"),
}

# How often each category is reported (relative): disputes, facilities and city upkeep are daily fare,
# fires and gas leaks rare.
WEIGHTS: dict[str, float] = {
    "fire": 2, "cable_down": 2, "flooding": 3, "gas_leak": 1.5, "water_main_burst": 2, "road_collapse": 1,
    "person_injured": 3, "telecom_outage": 1, "law_publicity": 1, "family_planning": 1, "civilized_city": 8,
    "public_security": 4, "social_security": 2, "culture_education": 1, "health": 2, "subsistence_allowance": 1.5,
    "disability_aid": 1, "low_rent_housing": 1, "elderly_care": 5, "dispute_mediation": 6,
    "community_correction": 0.5, "public_facilities": 8,
}


def describe(category: str, community: str, rng: np.random.Generator) -> str:
    template = str(rng.choice(TEXTS[category]))
    roads = rng.choice(ROADS, size=2, replace=False)
    return template.format(c=community, r=roads[0], r2=roads[1], n=int(rng.integers(1, 300)),
                           b=int(rng.integers(1, 40)), u=int(rng.integers(1, 5)), f=int(rng.integers(1, 19)))


def pick_category(rng: np.random.Generator) -> str:
    codes = list(WEIGHTS)
    w = np.array([WEIGHTS[c] for c in codes])
    return codes[int(rng.choice(len(codes), p=w / w.sum()))]
