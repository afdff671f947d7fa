"""Benchmark ``certreg validate`` on a large, realistic, generated registry.

Run from the project folder:

    .venv/bin/python bench/bench.py [--certificates N] [--repeat R] [--out DIR]
                                    [--seed S] [--force] [--generate-only] [--profile]

The script

1. generates a registry of N certificates (default 10000) into ``bench/out/registry-N``
   (git-ignored): a copy of ``registry/registry.yml``, ``registry/schemes/`` and
   ``registry/schemas/``, plus ``certificates/NUMBER/certificate.yml`` and
   ``decisions/DATE-ACTION.yml`` for each certificate, about half per scheme, with
   realistic histories (ZWL: yearly surveillances, nonconformities closed by a pass,
   failed surveillances, suspensions and restorations, revocations after an overdue
   suspension, cancellations, changes, expiries and renewals; ZCF: one certificate
   per reporting year linked with ``follows:``, plus a few suspensions, changes,
   revocations and cancellations). Certificates are issued from 2021 to mid-2026, more
   each year, across 18 provinces and municipalities; a scheme's serials run 0001 to
   9999 in a year, then 10000 and on (REG-ID), which N from about 60000 needs. Company names are made of place × brand
   × industry, then branches of a company already named (分公司), so they never run out
   and the identities that may not be certified twice at once stay apart (ZWL-4,
   ZCF-11.2). The random seed is fixed, so the same N and seed
   give byte-identical files. A folder generated before with the same N, seed,
   generator version and copied scheme files is reused unless ``--force`` is given.
2. expects the generated registry to validate with no error and no warning as of
   ``AS_OF`` (2026-06-30; the working-day calendar knows years up to 2026 only, so
   every decision date is on or before that day), so that the normal path is timed;
   the first problems are printed and the exit code is 1 if it does not;
3. times ``certreg validate --registry DIR --as-of 2026-06-30`` as a subprocess (the real
   CLI, a cold process each time, wall clock) ``--repeat`` times and prints the best and
   median times and the throughput.

``--profile`` also runs the validation in this process, single-process (``jobs=1``),
under cProfile and prints the most expensive functions.

Only the standard library and the project's own package (``generator/certreg``) are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from certreg.records.model import texts  # noqa: E402
from certreg.records.specs import uscc_check_char  # noqa: E402
from certreg.rules.dates import add_months, add_working_days, anniversary, is_working_day  # noqa: E402

GENERATOR_VERSION = 5  # bump whenever the generated records change: forces regeneration
DEFAULT_SEED = 20260630
AS_OF = dt.date(2026, 6, 30)
META = ".bench-meta.json"  # dot files in the registry root are ignored by the loader
DAY = dt.timedelta(days=1)

ZCF_KEY = "zero-carbon-factory"
ZWL_KEY = "zero-waste-low-carbon-water"
# Certificates are spread over the years the working-day calendar knows up to AS_OF, 2021 to mid-2026, more each
# year: ZWL applications from ZWL_FIRST on (renewals follow three years later, ZWL-7.2); a ZCF factory's first
# reporting year, weighted (certified the year after, ZCF-11.2; the next reporting years follow).
ZWL_FIRST = dt.date(2021, 3, 15)
ZCF_FIRST_YEARS = {2020: 1, 2021: 2, 2022: 3, 2023: 5, 2024: 6, 2025: 5}
MAX_SERIAL = 999_999  # REG-ID: a scheme's serials of one year, 0001 to 9999 in four digits, then up to 999999


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


# --- name and place pools -------------------------------------------------------------------

# province, its short name, cities: (city, region code for the USCC, telephone area code, districts)
PLACES = [
    ("江苏省", "苏", [("南京市", "320100", "025", ["江北新区", "江宁区", "栖霞区", "六合区"]),
                   ("苏州市", "320500", "0512", ["工业园区", "吴江区", "相城区", "高新区"]),
                   ("常州市", "320400", "0519", ["武进区", "新北区", "金坛区"]),
                   ("南通市", "320600", "0513", ["通州区", "海门区", "如东县"])]),
    ("浙江省", "浙", [("杭州市", "330100", "0571", ["钱塘区", "萧山区", "余杭区", "临平区"]),
                   ("宁波市", "330200", "0574", ["北仑区", "镇海区", "慈溪市"]),
                   ("绍兴市", "330600", "0575", ["柯桥区", "上虞区", "诸暨市"]),
                   ("嘉兴市", "330400", "0573", ["平湖市", "海宁市", "嘉善县"])]),
    ("山东省", "鲁", [("济南市", "370100", "0531", ["历城区", "章丘区", "莱芜区"]),
                   ("青岛市", "370200", "0532", ["黄岛区", "即墨区", "胶州市"]),
                   ("淄博市", "370300", "0533", ["张店区", "临淄区", "桓台县"]),
                   ("潍坊市", "370700", "0536", ["寿光市", "滨海区", "昌邑市"])]),
    ("广东省", "粤", [("广州市", "440100", "020", ["黄埔区", "南沙区", "增城区", "花都区"]),
                   ("佛山市", "440600", "0757", ["南海区", "顺德区", "三水区"]),
                   ("惠州市", "441300", "0752", ["大亚湾区", "惠阳区", "博罗县"]),
                   ("东莞市", "441900", "0769", ["松山湖", "麻涌镇", "沙田镇"])]),
    ("河北省", "冀", [("石家庄市", "130100", "0311", ["藁城区", "栾城区", "鹿泉区"]),
                   ("唐山市", "130200", "0315", ["曹妃甸区", "丰南区", "迁安市"]),
                   ("沧州市", "130900", "0317", ["渤海新区", "任丘市", "黄骅市"])]),
    ("河南省", "豫", [("郑州市", "410100", "0371", ["中牟县", "荥阳市", "新郑市"]),
                   ("洛阳市", "410300", "0379", ["伊滨区", "孟津区", "偃师区"]),
                   ("新乡市", "410700", "0373", ["红旗区", "获嘉县", "长垣市"])]),
    ("湖北省", "鄂", [("武汉市", "420100", "027", ["东西湖区", "青山区", "新洲区", "汉南区"]),
                   ("宜昌市", "420500", "0717", ["猇亭区", "枝江市", "宜都市"]),
                   ("襄阳市", "420600", "0710", ["樊城区", "襄州区", "谷城县"])]),
    ("四川省", "川", [("成都市", "510100", "028", ["新都区", "青白江区", "彭州市", "双流区"]),
                   ("德阳市", "510600", "0838", ["旌阳区", "什邡市", "广汉市"]),
                   ("宜宾市", "511500", "0831", ["翠屏区", "南溪区", "江安县"])]),
    ("安徽省", "皖", [("合肥市", "340100", "0551", ["肥东县", "长丰县", "包河区"]),
                   ("芜湖市", "340200", "0553", ["鸠江区", "繁昌区", "无为市"]),
                   ("安庆市", "340800", "0556", ["大观区", "宜秀区", "怀宁县"])]),
    ("福建省", "闽", [("福州市", "350100", "0591", ["长乐区", "福清市", "连江县"]),
                   ("泉州市", "350500", "0595", ["泉港区", "晋江市", "惠安县"]),
                   ("漳州市", "350600", "0596", ["龙海区", "漳浦县", "长泰区"])]),
    ("天津市", "津", [("天津市", "120100", "022", ["滨海新区", "西青区", "静海区", "宝坻区"])]),
    ("上海市", "沪", [("上海市", "310100", "021", ["金山区", "奉贤区", "嘉定区", "宝山区"])]),
    ("重庆市", "渝", [("重庆市", "500100", "023", ["长寿区", "涪陵区", "江津区", "两江新区"])]),
    ("辽宁省", "辽", [("大连市", "210200", "0411", ["金州区", "旅顺口区", "长兴岛"]),
                   ("鞍山市", "210300", "0412", ["铁东区", "立山区", "海城市"])]),
    ("陕西省", "陕", [("西安市", "610100", "029", ["高陵区", "鄠邑区", "临潼区"]),
                   ("榆林市", "610800", "0912", ["榆阳区", "神木市", "府谷县"])]),
    ("江西省", "赣", [("南昌市", "360100", "0791", ["新建区", "进贤县", "南昌县"]),
                   ("九江市", "360400", "0792", ["湖口县", "彭泽县", "瑞昌市"])]),
    ("湖南省", "湘", [("长沙市", "430100", "0731", ["望城区", "宁乡市", "浏阳市"]),
                   ("岳阳市", "430600", "0730", ["云溪区", "临湘市", "汨罗市"])]),
    ("广西壮族自治区", "桂", [("南宁市", "450100", "0771", ["江南区", "武鸣区", "横州市"]),
                        ("北海市", "450500", "0779", ["铁山港区", "合浦县"])]),
]

ROADS = ["长丰河路", "经二路", "纬三路", "滨江大道", "科技大道", "工业大道", "创业路", "兴业路", "港城路",
         "化工园一路", "新材料大道", "临港大道", "环湖西路", "振兴路", "银河路", "金山大道", "海滨路",
         "东方大道", "开发大道", "园区北路", "光明路", "建设路", "青年路", "通江路", "北环路", "南湖路",
         "石化大道", "能源路", "循环经济大道", "绿源路", "蓝湾路", "沿江路", "长江东路", "黄河路",
         "泰山路", "富民路", "腾飞路", "纺织大道", "热电路", "宏图路"]

# brand words of fictional companies, with a romanisation for e-mail domains
BRANDS = [("澄江", "chengjiang"), ("恒泰", "hengtai"), ("瑞丰", "ruifeng"), ("宏达", "hongda"),
          ("鑫源", "xinyuan"), ("永盛", "yongsheng"), ("天合", "tianhe"), ("金桥", "jinqiao"),
          ("海川", "haichuan"), ("嘉禾", "jiahe"), ("远航", "yuanhang"), ("信诚", "xincheng"),
          ("长青", "changqing"), ("绿源", "lvyuan"), ("蓝天", "lantian"), ("清源", "qingyuan"),
          ("中联", "zhonglian"), ("新泰", "xintai"), ("润通", "runtong"), ("华晟", "huasheng"),
          ("东升", "dongsheng"), ("北辰", "beichen"), ("南方", "nanfang"), ("西岭", "xiling"),
          ("振华", "zhenhua"), ("凯瑞", "kairui"), ("安泰", "antai"), ("盛达", "shengda"),
          ("恒力", "hengli"), ("荣盛", "rongsheng"), ("卓越", "zhuoyue"), ("晶泰", "jingtai"),
          ("博源", "boyuan"), ("三环", "sanhuan"), ("九龙", "jiulong"), ("银泰", "yintai"),
          ("同创", "tongchuang"), ("联合", "lianhe"), ("鼎盛", "dingsheng"), ("泰和", "taihe"),
          ("国能", "guoneng"), ("华源", "huayuan"), ("峰岭", "fengling"), ("汇丰源", "huifengyuan"),
          ("方圆", "fangyuan"), ("德润", "derun"), ("金禾", "jinhe"), ("正泰", "zhengtai"),
          ("鸿运", "hongyun"), ("丰源", "fengyuan"), ("和利", "heli"), ("通达", "tongda"),
          ("利华", "lihua"), ("宝丰", "baofeng"), ("万通", "wantong"), ("江海", "jianghai"),
          ("沃土", "wotu"), ("星河", "xinghe"), ("汉江", "hanjiang"), ("齐鲁", "qilu"),
          ("临港", "lingang"), ("华昌", "huachang"), ("新和", "xinhe"), ("昊华", "haohua"),
          ("宁远", "ningyuan"), ("天成", "tiancheng"), ("云帆", "yunfan"), ("怡达", "yida"),
          ("诚信", "chengxin"), ("普惠", "puhui"), ("锦江", "jinjiang"), ("中泰", "zhongtai"),
          ("泰山", "taishan"), ("长城", "changcheng"), ("黄海", "huanghai"), ("东海", "donghai"),
          ("惠通", "huitong"), ("坤元", "kunyuan"), ("乾元", "qianyuan"), ("旭日", "xuri")]

# ZWL producers (companies that reuse hot condensate or process water): industry word, e-mail tld
ZWL_INDUSTRIES = ["化工", "石化", "热电", "纺织印染", "造纸", "食品", "制药", "啤酒", "乳业", "精细化工",
                  "新材料", "生物科技", "氯碱化工", "钢铁", "焦化"]
ZWL_PRODUCTS = [
    # product name, raw-material source, (min, max) initial temperature, equipment
    ("高温冷凝回用水", "蒸汽冷凝水", (60, 95), "冷凝水回收及回用装置"),
    ("蒸汽冷凝回用水", "蒸汽冷凝水", (55, 90), "闭式冷凝水回收系统"),
    ("工艺余热回用水", "工艺冷却水", (40, 70), "余热回收换热站"),
    ("高温工艺回用水", "反应釜夹套冷却水", (45, 80), "夹套冷却水回用系统"),
    ("锅炉排污余热回用水", "锅炉连续排污水", (50, 85), "排污水闪蒸及回用装置"),
    ("印染余热回用水", "染色高温排水（经处理）", (40, 65), "高温废水热能回收及中水回用装置"),
    ("汽轮机凝结回用水", "汽轮机凝结水", (45, 75), "凝结水精处理回用装置"),
    ("蒸发冷凝回用水", "MVR 蒸发冷凝水", (50, 85), "MVR 蒸发冷凝水回用装置"),
]
PHASES = ["一期", "二期", "三期", "1 号线", "2 号线", "东区", "西区"]
FUNCTIONAL_UNITS = ["1 m³ 回用水", "1 t 回用水"]

# ZCF factories: industry (national classification), main products, capacity words
ZCF_INDUSTRIES = [
    ("C3011 水泥制造", "水泥", ["水泥熟料", "P·O 42.5 普通硅酸盐水泥", "P·C 32.5 复合硅酸盐水泥"], "万吨水泥"),
    ("C2614 有机化学原料制造", "化工", ["乙二醇", "环氧乙烷", "醋酸乙烯"], "万吨有机化学原料"),
    ("C3982 电子电路制造", "电子", ["多层印制电路板", "高密度互连板", "柔性电路板"], "万平方米电路板"),
    ("C3670 汽车零部件及配件制造", "汽车零部件", ["变速箱壳体", "铝合金轮毂", "制动盘"], "万套零部件"),
    ("C1713 棉印染精加工", "印染", ["棉布印染", "色织面料", "功能性面料"], "万米面料"),
    ("C2221 机制纸及纸板制造", "纸业", ["瓦楞原纸", "白卡纸", "生活用纸原纸"], "万吨纸及纸板"),
    ("C1512 白酒制造", "酒业", ["浓香型白酒", "基酒"], "千升白酒"),
    ("C1441 液体乳制造", "乳业", ["巴氏杀菌乳", "发酵乳", "灭菌乳"], "万吨液体乳"),
    ("C3841 锂离子电池制造", "新能源", ["磷酸铁锂电芯", "储能电池模组"], "GWh 电池"),
    ("C2710 化学药品原料药制造", "药业", ["头孢类原料药", "维生素原料药"], "吨原料药"),
    ("C3041 平板玻璃制造", "玻璃", ["浮法玻璃", "光伏压延玻璃"], "万吨玻璃"),
    ("C3825 光伏设备及元器件制造", "光伏", ["单晶硅光伏组件", "光伏电池片"], "GW 组件"),
    ("C1391 淀粉及淀粉制品制造", "生物", ["玉米淀粉", "变性淀粉", "麦芽糊精"], "万吨淀粉"),
    ("C3311 金属结构制造", "重工", ["钢结构构件", "桥梁钢构"], "万吨钢结构"),
]
OFFSET_KINDS = ["购买绿色电力证书", "国家核证自愿减排量（CCER）", "厂区分布式光伏自发自用", "绿电交易",
                "林业碳汇"]

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
                "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武"
                "乔贺赖龚文")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉鑫宇浩凯鹏晨倩颖琳婷雪慧佳欣楠博昊然帆"
             "悦晓")
SURNAME_PINYIN = ("wang li zhang liu chen yang zhao huang zhou wu xu sun hu zhu gao lin he guo ma luo liang song "
                  "zheng xie han tang feng yu dong xiao cheng cao yuan deng xu fu shen zeng peng lv su lu jiang cai "
                  "jia ding wei xue ye yan yu pan du dai xia zhong wang tian ren jiang fan fang shi yao tan liao zou "
                  "xiong jin lu hao kong bai cui kang mao qiu qin jiang shi gu hou shao meng long wan duan lei qian "
                  "tang yin li yi chang wu qiao he lai gong wen").split()
GIVEN_PINYIN = ["wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "juan",
                "tao", "ming", "chao", "xiu", "xia", "ping", "gang", "gui", "ying", "hua", "yu", "ping", "hong",
                "jian", "wen", "hui", "xin", "yu", "hao", "kai", "peng", "chen", "qian", "ying", "lin", "ting",
                "xue", "hui", "jia", "xin", "nan", "bo", "hao", "ran", "fan", "yue", "xiao"]

# public reasons (公告), in the style of the sample registry: what happened, and the rule applied
SURVEILLANCE_PASS = [
    ("年度监督检查通过：回用水量化结果较上一年度下降，上一年度减排目标已完成（ZWL-6.2），工厂保证能力持续满足要求。",
     "Annual surveillance passed: the quantified value fell compared with the previous year and last year's "
     "reduction target was met (ZWL-6.2); the factory assurance capability still conforms."),
    ("年度监督检查通过。现场核查蒸汽流量计、回用水流量计台账及电能表记录，数据收集表与原始记录一致，量化结果较上一年度"
     "下降（ZWL-6.2）。",
     "Annual surveillance passed. The steam and reused-water flow meter logs and the electricity meter records were "
     "checked on site; the data collection table agrees with them and the quantified value fell (ZWL-6.2)."),
    ("年度监督检查通过：认证标志按规定标注在产品随附文件中（ZWL-8.2），回用水初始温度和减排量持续符合认证要求。",
     "Annual surveillance passed: the mark is placed in the accompanying documents as required (ZWL-8.2), and the "
     "initial temperature and the reduction of the reused water still conform."),
]
NONCONFORMITIES = [
    ("回用水流量计检定证书过期", "the calibration certificate of the reused-water flow meter had expired"),
    ("数据收集表中蒸汽数据来源记录不完整", "the data sources of the steam figures in the data collection table "
                                            "were incomplete"),
    ("回用水初始温度记录存在缺失", "the records of the initial temperature of the reused water had gaps"),
    ("认证标志未按规定标注在随附文件中", "the mark was not placed in the accompanying documents as required"),
    ("内部审核未覆盖回用水装置", "the internal audit did not cover the reuse plant"),
    ("电能表月度抄表记录未经复核", "the monthly electricity meter readings had not been reviewed"),
    ("软化水用量统计口径与上一年度不一致", "the softened-water figures were not counted as in the previous year"),
    ("蒸汽冷凝水回收率计算未扣除排污损失", "the condensate recovery rate did not deduct the blow-down losses"),
]
ZWL_SUSPEND = {
    "violation": [("证书持有人在宣传资料中将认证标志用于未获证的软化水产品，违反认证有关规定。依据 ZWL-7.4 暂停证书，"
                   "暂停期间不得使用证书和认证标志。",
                   "The holder used the certification mark for an uncertified softened-water product in its "
                   "brochures. The certificate is suspended under ZWL-7.4; neither certificate nor mark may be "
                   "used while suspended.")],
    "nonconforming": [("不通知检查发现回用水初始温度持续低于认证规格要求，认证产品暂时达不到认证要求。依据 ZWL-7.4 "
                       "暂停证书，暂停期间不得使用证书和认证标志。",
                       "An unannounced inspection found the initial temperature of the reused water persistently "
                       "below the certified specification. The certificate is suspended under ZWL-7.4; neither "
                       "certificate nor mark may be used while suspended.")],
    "surveillance-failed": [("监督检查发现的不符合项未在 2 个月内完成整改（ZWL-6.3）。依据 ZWL-7.4 暂停证书，暂停期间"
                             "不得使用证书和认证标志。",
                             "The nonconformities found in surveillance were not closed within 2 months (ZWL-6.3). "
                             "The certificate is suspended under ZWL-7.4; neither certificate nor mark may be used "
                             "while suspended.")],
    "holder-request": [("冷凝水回收装置停产检修，证书持有人申请暂停证书（ZWL-7.4）。暂停期间不得使用证书和认证标志。",
                        "The condensate recovery plant is shut down for overhaul and the holder asked for a "
                        "suspension (ZWL-7.4). Neither certificate nor mark may be used while suspended."),
                       ("生产线技术改造期间回用水暂停供应，证书持有人申请暂停证书（ZWL-7.4）。",
                        "The reused water is not supplied while the production line is rebuilt; the holder asked "
                        "for a suspension (ZWL-7.4).")],
}
ZCF_SUSPEND = {
    "a": [("生态环境主管部门因污水处理设施超标排放，责令该厂停产整治。依据 ZCF-12.1.1 a) 暂停证书，"
           "暂停期间证书不得使用。",
           "The environmental authority ordered the factory to stop production because its wastewater treatment "
           "discharged above limits. The certificate is suspended under ZCF-12.1.1 a) and may not be used while "
           "suspended.")],
    "b": [("排污许可证有效期届满，重新申请已受理但尚未换证。依据 ZCF-12.1.1 b) 暂停证书，暂停期间证书不得使用。",
           "The discharge permit lapsed; its renewal is accepted but not yet issued. The certificate is suspended "
           "under ZCF-12.1.1 b) and may not be used while suspended.")],
    "c": [("获证组织因主要生产线停产技术改造，主动申请暂停证书。依据 ZCF-12.1.1 c) 暂停证书，暂停期间证书不得使用。",
           "The holder asked for a suspension while its main production line is stopped for rebuilding. The "
           "certificate is suspended under ZCF-12.1.1 c) and may not be used while suspended.")],
}
RECTIFICATIONS = [
    ("更换并重新检定回用水流量计，补齐停用期间的计量记录", "replaced and recalibrated the reused-water flow meter and "
                                                          "completed the metering records"),
    ("完成装置检修并恢复连续运行，提交运行记录", "finished the overhaul, resumed continuous operation and sent the "
                                                  "operating records"),
    ("收回违规使用认证标志的宣传资料并完成内部整改", "withdrew the brochures that misused the mark and completed "
                                                      "internal corrective action"),
    ("完善数据收集表并重新核算量化结果", "completed the data collection table and recalculated the quantified "
                                          "result"),
]

ENDINGS = {  # (scheme code, action, ground): (zh, en); {limit} is the end of an overdue suspension
    ("ZWL", "cancel", "holder-request"): (
        "证书持有人因调整生产工艺、不再对外宣传回用水减排量，申请注销证书（ZWL-7.4）。证书自本公告之日起注销，"
        "不得再使用证书和认证标志。",
        "The holder changed its process, no longer claims the reduction and asked for cancellation (ZWL-7.4). The "
        "certificate is cancelled from the date of this announcement; certificate and mark may no longer be used."),
    ("ZWL", "cancel", "ceased"): (
        "生产厂冷凝水回收装置已拆除，认证产品停止生产。依据 ZWL-7.4 注销证书，不得再使用证书和认证标志。",
        "The condensate recovery plant of the factory was dismantled and the product is no longer produced. The "
        "certificate is cancelled under ZWL-7.4; certificate and mark may no longer be used."),
    ("ZWL", "cancel", "superseded"): (
        "证书持有人在有效期届满前申请换证，换发的新证书 {successor} 已颁发，原证书同日注销（ZWL-7.2、ZWL-4）。",
        "The holder renewed before expiry; the renewed certificate {successor} was issued and this certificate is "
        "cancelled the same day (ZWL-7.2, ZWL-4)."),
    ("ZWL", "revoke", "violation"): (
        "证书持有人在未获证产品及其包装上使用认证标志（ZWL-A2.11），经责令改正后仍未纠正，严重违反认证有关规定。依据 "
        "ZWL-7.4 撤销证书。",
        "The holder put the mark on uncertified products and their packages (ZWL-A2.11) and did not correct it when "
        "ordered to. The certificate is revoked under ZWL-7.4."),
    ("ZWL", "revoke", "nonconforming"): (
        "经核查，回用水初始温度与减排量均无法达到认证要求且无法纠正。依据 ZWL-7.4 撤销证书。",
        "The initial temperature and the reduction of the reused water fail the requirements and cannot be "
        "corrected. The certificate is revoked under ZWL-7.4."),
    ("ZWL", "revoke", "suspension-expired"): (
        "暂停期限已于 {limit} 届满，证书持有人在暂停期限内未获恢复。依据 ZWL-7.4 撤销证书。",
        "The suspension period ended on {limit} and the holder did not obtain restoration within it. The "
        "certificate is revoked under ZWL-7.4."),
    ("ZCF", "cancel", "holder-request"): (
        "获证组织因集团产能调整，申请注销零碳工厂证书。证书自本公告之日起注销，不得再使用。",
        "The holder asked to cancel its zero-carbon factory certificate after a group restructuring. The "
        "certificate is cancelled from the date of this announcement and may no longer be used."),
    ("ZCF", "cancel", "ceased"): (
        "工厂已整体搬迁停产，原厂址不再生产。证书注销，不得再使用。",
        "The factory moved away and stopped production at this site. The certificate is cancelled and may no "
        "longer be used."),
    ("ZCF", "revoke", "a"): (
        "获证组织因严重环境违法行为被生态环境主管部门依法处罚。依据 ZCF-12.2 a) 撤销证书。",
        "The holder was penalised by the environmental authority for a serious environmental violation. The "
        "certificate is revoked under ZCF-12.2 a)."),
    ("ZCF", "revoke", "b"): (
        "监督中发现获证组织提供的外购电力及绿证数据与发票不符，属提供虚假材料。依据 ZCF-12.2 b) 撤销证书。",
        "Surveillance found that the purchased-electricity and green-certificate figures did not match the "
        "invoices: false materials. The certificate is revoked under ZCF-12.2 b)."),
    ("ZCF", "revoke", "c"): (
        "暂停期限已于 {limit} 届满，导致暂停的问题仍未得到解决。依据 ZCF-12.2 c) 撤销证书。",
        "The suspension period ended on {limit} and the problem that caused it was not solved. The certificate is "
        "revoked under ZCF-12.2 c)."),
}

ZWL_QUALS = ["product-inspector", "green-product-inspector"]
ZCF_QUALS = ["management-system-auditor", "ghg-verifier"]


class Num(str):
    """A number already formatted, written as is."""


class Flow(dict):
    """A mapping written in flow style on one line: {a: 1, b: 2}."""


# --- YAML writing ---------------------------------------------------------------------------

_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def _plain_ok(s: str, flow: bool) -> bool:
    if not s or s != s.strip() or "\n" in s or s[0] in _INDICATORS or s[0].isdigit() or s[0] in "+.":
        return False
    if ": " in s or " #" in s or s.endswith(":"):
        return False
    if flow and any(c in s for c in ",[]{}"):
        return False
    if s.lower() in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return False
    return True


def scalar(v, flow=False) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, Num)):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v)
    return s if _plain_ok(s, flow) else json.dumps(s, ensure_ascii=False)


def _flow(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return scalar(v, flow=True)


def emit(obj: dict, indent: int = 0, out: list | None = None) -> list:
    out = [] if out is None else out
    pad = "  " * indent
    for k, v in obj.items():
        if v is None:
            continue
        if isinstance(v, Flow):
            out.append(f"{pad}{k}: {_flow(v)}")
        elif isinstance(v, dict):
            out.append(f"{pad}{k}:")
            emit(v, indent + 1, out)
        elif isinstance(v, list):
            out.append(f"{pad}{k}:")
            for item in v:
                out.append(f"{pad}  - {_flow(item)}")
        elif isinstance(v, str) and not isinstance(v, Num) and "\n" in v:
            out.append(f"{pad}{k}: |")
            out.extend(f"{pad}  {line}" if line else "" for line in v.split("\n"))
        else:
            out.append(f"{pad}{k}: {scalar(v)}")
    return out


# --- the generator ----------------------------------------------------------------------------


class Cert:
    """One planned certificate: its record, its decisions, its place in a chain."""

    def __init__(self, scheme: str, valid_from: dt.date, valid_until: dt.date, content: dict, issue: dict):
        self.scheme = scheme
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.content = content
        self.decisions = [issue]
        self.follows: Cert | None = None
        self.unit: dict = {}
        self.versions = 1
        self.successor: Cert | None = None
        self.number = ""


def fmt2(x: float) -> Num:
    return Num(f"{x:.2f}")


def fmt1(x: float) -> Num:
    return Num(f"{x:.1f}")


def numeral(n: int) -> str:
    """``n`` in Chinese numerals, as in 第二分公司, 第十二分公司, 第一百零五分公司 (from 10000 on, in digits)."""
    digits = "零一二三四五六七八九"
    if n > 9999:
        return str(n)
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            out += ("零" if zero else "") + digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out


def district_short(district: str) -> str:
    """A district's name as a branch is named after it: 江宁区 -> 江宁, 江北新区 -> 江北, 高新区 -> 高新, 松山湖."""
    for suffix in ("新区", "区", "县", "市", "镇"):
        if district.endswith(suffix) and len(district) - len(suffix) >= 2:
            return district[:-len(suffix)]
    return district


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used_names: set[str] = set()
        self.branches: dict[str, int] = {}  # company name -> the last number of its numbered branches
        self.busiest: dict[str, tuple[int, int]] = {}  # scheme code -> (year, certificates issued that year)
        self.used_addresses: set[str] = set()
        self.used_uscc: set[str] = set()
        self.inspectors = self._people(70)
        self.reviewers = self._people(20)

    # --- small helpers ---------------------------------------------------------------------

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def person(self) -> tuple[str, str]:
        """A Chinese name and its romanisation for an e-mail address."""
        r = self.rng
        k = r.randrange(len(SURNAMES))
        n = 1 if r.random() < 0.3 else 2
        idx = [r.randrange(len(GIVEN)) for _ in range(n)]
        name = SURNAMES[k] + "".join(GIVEN[i] for i in idx)
        given = "".join(GIVEN_PINYIN[i] for i in idx)
        roman = self.pick([f"{SURNAME_PINYIN[k]}.{given}", f"{given}.{SURNAME_PINYIN[k]}",
                           SURNAME_PINYIN[k] + "".join(GIVEN_PINYIN[i][0] for i in idx)])
        return name, roman

    def _people(self, n):
        out, seen = [], set()
        while len(out) < n:
            name, _ = self.person()
            if name not in seen:
                seen.add(name)
                out.append(name)
        return out

    def working_day_on_or_after(self, d: dt.date) -> dt.date:
        while not is_working_day(d):
            d += DAY
        return d

    def wd(self, d: dt.date) -> dt.date:
        """Decisions are taken on working days: the first one on or after ``d``."""
        return d if d > AS_OF else self.working_day_on_or_after(d)

    def wdb(self, d: dt.date) -> dt.date:
        """The last working day on or before ``d``."""
        while not is_working_day(d):
            d -= DAY
        return d

    def place(self):
        prov, short, cities = self.pick(PLACES)
        city, region, area, districts = self.pick(cities)
        return prov, short, city, region, area, self.pick(districts), districts

    def address(self, prov, city, district) -> str:
        """An address used nowhere else: a road and a number in the district, and once the district is crowded, a
        building at that number (号厂房)."""
        town = city if prov != city else ""
        tries = 0
        while True:
            addr = f"{prov}{town}{district}{self.pick(ROADS)} {self.rng.randint(1, 999)} 号"
            if tries >= 50:
                addr += f" {self.rng.randint(1, 99)} 号厂房"
            if addr not in self.used_addresses:
                self.used_addresses.add(addr)
                return addr
            tries += 1

    def company(self, short, city, district, words) -> tuple[str, str]:
        """A company name used nowhere else, and the brand's romanisation: place × brand × industry word; when that
        company exists already, a branch of it (分公司, registered on its own) in ``district``, then numbered ones
        (第二分公司, 第三分公司, ...). Names never run out."""
        brand, roman = self.pick(BRANDS)
        word = self.pick(words)
        place = city.removesuffix("市")
        prefix = self.pick([short, place, place, ""])
        form = ("集团有限公司" if self.chance(0.15) else "有限公司") if prefix else "股份有限公司"
        base = f"{prefix}{brand}{word}{form}"
        name = base
        if name in self.used_names:
            name = f"{base}{district_short(district)}分公司"
            k = self.branches.get(base, 1)
            while name in self.used_names:
                k += 1
                name = f"{base}第{numeral(k)}分公司"
            self.branches[base] = k
        self.used_names.add(name)
        return name, roman

    def uscc(self, region: str) -> str:
        chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            body = "91" + region + "".join(self.pick(chars) for _ in range(9))
            code = body + uscc_check_char(body)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def contact(self, area: str, roman_company: str, public_texts) -> dict:
        """A contact person whose name appears in no public text of the certificate (REG-PUBLIC)."""
        while True:
            name, roman = self.person()
            if not any(name in t for t in public_texts):
                break
        if self.chance(0.5):
            phone = f"{area}-{self.rng.randint(2, 8)}{self.rng.randint(0, 9999999):07d}"
            if len(area) == 4:
                phone = phone[:-1]  # 7-digit numbers behind 4-digit area codes
        else:
            phone = f"1{self.pick('3578')}{self.rng.randint(0, 999999999):09d}"
        domain = f"{roman_company}.com.cn" if self.chance(0.7) else f"{roman_company}-group.com"
        return {"name": name, "phone": phone, "email": f"{roman}@{domain}"}

    def team(self, quals: list[str], size: int, *, scheme: str) -> list[dict]:
        names = self.rng.sample(self.inspectors, size)
        team = []
        for i, name in enumerate(names):
            role = "leader" if i == 0 else ("expert" if i == size - 1 and size > 2 and self.chance(0.4) else "member")
            m = {"name": name, "role": role}
            if role != "expert":
                m["qualifications"] = [self.pick(quals)] if self.chance(0.8) else list(quals)
            elif self.chance(0.3):
                m["qualifications"] = [self.pick(quals)]
            if scheme == ZCF_KEY and self.chance(0.3):
                m["consulted_applicant"] = False
            team.append(m)
        return team

    def application(self, received: dt.date, max_wd: int) -> tuple[dt.date, dt.date]:
        received = self.working_day_on_or_after(received)
        accepted = add_working_days(received, self.rng.randint(1, max_wd))
        return received, accepted

    # --- ZWL: reused-water product certificates ----------------------------------------------

    def zwl_unit(self, company=None):
        """A certification unit: one producer, one product, one site, one source (ZWL-4)."""
        r = self.rng
        if company is None:
            prov, short, city, region, area, district, districts = self.place()
            name, roman = self.company(short, city, district, ZWL_INDUSTRIES)
            hq = self.address(prov, city, district)
            client = {"name": name, "address": hq}
            if self.chance(0.2):
                where = self.pick(districts)
                group, _ = self.company(short, city, where, ["控股", "实业", "投资"])
                client = {"name": group, "address": self.address(prov, city, where)}
            company = dict(name=name, roman=roman, hq=hq, client=client, prov=prov, short=short, city=city,
                           area=area, district=district, districts=districts, sites=0)
        company["sites"] += 1
        product, source, (tmin, tmax), equipment = self.pick(ZWL_PRODUCTS)
        if company["sites"] == 1 and self.chance(0.6):
            factory_addr = company["hq"]
            factory_name = f"{company['name']} {company['city'].removesuffix('市')}工厂"
        else:
            factory_addr = self.address(company["prov"], company["city"], self.pick(company["districts"]))
            factory_name = f"{company['name']} {self.pick(['一', '二', '三', '东', '西', '南', '北'])}分厂"
        temp = r.randrange(tmin, tmax, 5)
        unit = {
            "company": company,
            "product_name": product,
            "specification": f"初始温度 ≥ {temp} ℃，电导率 ≤ {self.pick([5, 10, 20, 30, 50])} μS/cm",
            "certification_unit": f"{equipment}（{self.pick(PHASES)}）",
            "functional_unit": self.pick(FUNCTIONAL_UNITS),
            "client": dict(company["client"]),
            "manufacturer": {"name": company["name"], "address": company["hq"]},
            "factory": {"name": factory_name, "address": factory_addr},
            "raw_material_source": source,
            "volume": r.uniform(20000, 600000),  # m³ a year
        }
        unit["contact"] = self.contact(company["area"], company["roman"],
                                       [unit[k] for k in ("product_name", "specification", "certification_unit")]
                                       + [v for k in ("client", "manufacturer", "factory") for v in unit[k].values()])
        return unit

    def zwl_content(self, unit, period_year: int) -> dict:
        r = self.rng
        vol = unit["volume"] * r.uniform(0.85, 1.15)
        heating = vol * r.uniform(0.06, 0.11)  # t of steam the baseline would need
        content = {
            "product_name": unit["product_name"],
            "specification": unit["specification"],
            "certification_unit": unit["certification_unit"],
            "functional_unit": unit["functional_unit"],
            "client": dict(unit["client"]),
            "manufacturer": dict(unit["manufacturer"]),
            "factory": dict(unit["factory"]),
            "raw_material_source": unit["raw_material_source"],
            "waste_reduction_m3": fmt1(vol),
            "ghg_reduction_tco2e": fmt2(vol * r.uniform(0.04, 0.09)),
            "reporting_period": {"start": dt.date(period_year, 1, 1), "end": dt.date(period_year, 12, 31)},
            "data_collection": {
                "steam_for_heating": Flow(quantity=fmt1(heating), unit="t", source="蒸汽流量计台账",
                                          method=self.pick(["涡街流量计连续计量", "孔板流量计连续计量"])),
                "electricity": Flow(quantity=int(round(vol * r.uniform(3, 9), -2)), unit="kWh",
                                    source=self.pick(["电费发票", "电能表抄表记录", "能源管理系统月报"]),
                                    method=self.pick(["电能表", "智能电表在线计量"])),
                "steam": Flow(quantity=fmt1(heating * r.uniform(0.15, 0.3)), unit="t", source="蒸汽流量计台账",
                              method="涡街流量计连续计量"),
                "replaced_tap_water": Flow(quantity=fmt1(vol), unit="m³", source="回用水流量计台账",
                                           method=self.pick(["电磁流量计", "超声波流量计"])),
            },
            "contact": dict(unit["contact"]),
        }
        return content

    def zwl_issue(self, target: dt.date, *, received: dt.date | None = None) -> dict:
        """The issue decision of an application made around ``target``."""
        r = self.rng
        if received is None:
            received = target - days(r.randint(60, 100))
        received, accepted = self.application(received, 3)
        delay = None
        if self.chance(0.1):
            date = self.wd(accepted + days(r.randint(95, 140)))
            delay = (date - accepted).days - 90 + r.randint(0, 10)
        else:
            date = self.wd(accepted + days(r.randint(35, 80)))
        closed = self.wdb(date - days(r.randint(3, 28)))
        if (date - closed).days > 30:  # ZWL-5.5.2: issued within 30 days after the closure
            closed = self.wd(date - days(30))
        size = r.choice([2, 2, 2, 3, 3, 4])
        person_days = r.choice([2, 2, 2.5, 3, 4]) if size < 4 else r.choice([3, 4, 5])
        d = {
            "certificate": None,
            "action": "issue",
            "date": date,
            "application": {"received": received, "accepted": accepted},
            "person_days": Num(str(person_days)),
            "team": self.team(ZWL_QUALS, size, scheme=ZWL_KEY),
            "technical_reviewer": self.pick(self.reviewers),
            "nonconformities_closed": closed,
            "client_delay_days": delay,
            "note": (f"初次检查发现 {r.randint(1, 4)} 项一般不符合，已于 {closed} 验证关闭。"
                     if self.chance(0.6) else None),
        }
        if delay:
            d["note"] = (d["note"] or "") + f"委托方补充数据延误 {delay} 日，不计入认证周期（ZWL-5.2.3）。"
        return d

    def zwl_chain(self, n_left: int) -> list[Cert]:
        r = self.rng
        unit = self.zwl_unit()
        units = [unit]
        if self.chance(0.12):  # the same producer at another site or from another source (ZWL-4)
            units.append(self.zwl_unit(unit["company"]))
        certs = []
        for u in units:
            if len(certs) >= n_left:
                break
            span = (AS_OF - ZWL_FIRST).days - 45
            target = ZWL_FIRST + days(int(r.triangular(0, span, span)))  # a scheme that grows
            certs.extend(self.zwl_lives(u, target, n_left - len(certs)))
        return certs

    def zwl_lives(self, unit, target, n_left) -> list[Cert]:
        """A certificate of ``unit``, and its renewal when the time has come."""
        issue = self.zwl_issue(target)
        while issue["date"] > AS_OF - days(5):
            target -= days(self.rng.randint(30, 120))
            issue = self.zwl_issue(target)
        first = self.zwl_cert(issue, self.zwl_content(unit, issue["application"]["received"].year - 1), unit)
        certs = [first]
        issue2 = None
        until = first.valid_until
        opens = add_months(until, -6)
        if n_left > 1 and opens + days(130) <= AS_OF and self.chance(0.6):
            received = max(until - days(self.rng.randint(25, 170)), opens + DAY)
            issue2 = self.zwl_issue(received, received=received)
            if issue2["date"] > AS_OF or not opens <= issue2["application"]["received"] <= until:
                issue2 = None
        if issue2 is not None and issue2["date"] <= until:
            self.zwl_history(first, supersede=issue2["date"])
        else:
            fate = self.rng.random()
            end = None if issue2 else ("cancel" if fate < 0.07 else "revoke-overdue" if fate < 0.10
                                       else "revoke" if fate < 0.12 else None)
            self.zwl_history(first, end=end)
        if issue2 is not None:
            # the renewal certifies the unit as it is after the changes of the first certificate
            renew = self.zwl_cert(issue2, self.zwl_content(unit, issue2["application"]["received"].year - 1), unit)
            renew.follows, first.successor = first, renew
            certs.append(renew)
            fate = self.rng.random()
            end = "cancel" if fate < 0.04 else "revoke-overdue" if fate < 0.06 else None
            self.zwl_history(renew, end=end)
        return certs

    def zwl_cert(self, issue, content, unit) -> Cert:
        valid_from = issue["date"]
        cert = Cert(ZWL_KEY, valid_from, anniversary(valid_from, 3) - DAY, content, issue)
        cert.unit = unit
        return cert

    def surveillance(self, date, outcome, *, n=0, closes=None) -> dict:
        r = self.rng
        d = {"certificate": None, "action": "surveillance", "date": date, "outcome": outcome,
             "person_days": Num(str(r.choice([0.5, 1, 1, 1.5, 2]) if closes else r.choice([1, 1, 1.5, 2]))),
             "nonconformities": n if outcome != "pass" or self.chance(0.5) else None,
             "quantified_value_decreased": outcome == "pass" or self.chance(0.5),
             "target_met": outcome == "pass" or self.chance(0.4),
             "unannounced": True if self.chance(0.04) else None}
        if closes is not None:
            nc_date, count = closes
            d["reason"] = {"zh": f"验证 {nc_date} 监督检查的 {count} 项不符合已整改关闭，监督检查通过（ZWL-6.3）。",
                           "en": f"The {count} nonconformities of the {nc_date} surveillance were verified closed; "
                                 "the surveillance is passed (ZWL-6.3)."}
        elif outcome == "pass":
            if self.chance(0.6):
                zh, en = self.pick(SURVEILLANCE_PASS)
                d["reason"] = {"zh": zh, "en": en}
        elif outcome == "nonconformities":
            found = self.rng.sample(NONCONFORMITIES, min(n, 3))
            zh = "；".join(f[0] for f in found) + ("等" if n > len(found) else "")
            en = "; ".join(f[1] for f in found) + (", among others" if n > len(found) else "")
            d["reason"] = {"zh": f"年度监督检查发现 {n} 项不符合：{zh}。须在 2 个月内完成整改（ZWL-6.3）。",
                           "en": f"Annual surveillance found {n} nonconformities: {en}. They must be closed "
                                 "within 2 months (ZWL-6.3)."}
        else:
            zh, en = self.pick(NONCONFORMITIES)
            d["reason"] = {"zh": f"监督检查不通过：{zh}，且回用水量化结果较上一年度未下降、上一年度减排目标未完成"
                                 "（ZWL-6.2）。依据 ZWL-6.3 暂停证书，暂停期间不得使用证书和认证标志（ZWL-7.4）。",
                           "en": f"Surveillance failed: {en}, and the quantified value did not fall compared with "
                                 "the previous year nor was last year's target met (ZWL-6.2). The certificate is "
                                 "suspended under ZWL-6.3; neither certificate nor mark may be used while "
                                 "suspended (ZWL-7.4)."}
        if self.chance(0.5):
            team = self.rng.sample(self.inspectors, 2)
            d["note"] = (f"监督检查组：{team[0]}（组长）、{team[1]}。现场核查回用水流量计、蒸汽流量计台账及电能表"
                         f"记录，抽查 {self.rng.randint(2, 6)} 个月原始数据。")
        return d

    def change_zwl(self, cert: Cert, current: dict, date) -> dict | None:
        r = self.rng
        field = self.pick(["specification", "specification", "certification_unit", "contact", "client"])
        if field == "specification":
            temp = r.randrange(40, 95, 5)
            new = f"初始温度 ≥ {temp} ℃，电导率 ≤ {self.pick([5, 10, 15, 20, 30])} μS/cm"
            why = ("回用水站换热及精处理单元改造，规格型号变更",
                   "the heat exchange and polishing stages of the reuse station were rebuilt, so the specification "
                   "changed")
        elif field == "certification_unit":
            new = f"{current['certification_unit'].split('（')[0]}（{self.pick(PHASES)}扩建）"
            why = ("回用水装置扩建并通过变更评审，认证单元名称变更",
                   "the reuse plant was extended and the change reviewed, so the certification unit was renamed")
        elif field == "contact":
            name, roman = self.person()
            if any(name in t for t in _public_texts(current)):
                return None
            new = {"name": name, "phone": current["contact"]["phone"],
                   "email": f"{roman}@{current['contact']['email'].split('@')[1]}"}
            why = ("证书持有人联系人变更", "the holder's contact person changed")
        else:
            c = cert.unit["company"]
            group, _ = self.company(c["short"], c["city"], c["district"], ["控股", "实业"])
            new = {"name": group, "address": current["client"]["address"]}
            why = ("委托方完成工商名称变更登记", "the client registered a change of its company name")
        if current.get(field) == new:
            return None
        current[field] = new
        cert.unit[field] = new  # a renewal certifies the unit as it is now
        cert.versions += 1
        return {"certificate": None, "action": "change", "date": date, "changes": {field: new},
                "reason": {"zh": f"{why[0]}；经文件审核确认变更不影响认证结论，换发证书第 {cert.versions} 版，证书编号"
                                 "和有效期不变（ZWL-7.3）。",
                           "en": f"Change: {why[1]}. A document review confirmed the certification still holds; "
                                 f"version {cert.versions} is issued with the same number and validity dates "
                                 "(ZWL-7.3)."}}

    def zwl_history(self, cert: Cert, *, end=None, supersede=None):
        """Surveillances, episodes and an optional end (cancel, revoke, revoke-overdue, superseded)."""
        r = self.rng
        issue = cert.valid_from
        horizon = min(cert.valid_until, AS_OF)
        if supersede is not None:
            horizon = supersede - DAY
        # blocks: the issue or a surveillance visit, with what belongs to it (a closing pass, a restore)
        blocks = [{"events": [], "last_visit": issue, "end": issue}]
        anchor = issue
        current = dict(cert.content)
        while True:
            nxt = self.wd(anchor + days(r.randint(300, 350)))
            if nxt > horizon:
                break
            x = r.random()
            if x < 0.12 and nxt + days(60) <= horizon:
                n = r.randint(1, 5)
                close = self.wd(nxt + days(r.randint(20, 50)))
                events = [self.surveillance(nxt, "nonconformities", n=n),
                          self.surveillance(close, "pass", closes=(nxt, n))]
                block = {"events": events, "last_visit": close, "end": close}
            elif x < 0.15:
                restore = self.wd(nxt + days(r.randint(30, 150)))
                events = [self.surveillance(nxt, "fail", n=r.randint(1, 4))]
                if restore <= horizon:
                    events.append(self.restore(restore, nxt, ZWL_KEY))
                    block = {"events": events, "last_visit": nxt, "end": restore}
                elif supersede is None and horizon == AS_OF and AS_OF <= add_months(nxt, 6):
                    block = {"events": events, "last_visit": nxt, "end": AS_OF, "open": True}
                else:
                    block = {"events": [self.surveillance(nxt, "pass")], "last_visit": nxt, "end": nxt}
            else:
                block = {"events": [self.surveillance(nxt, "pass")], "last_visit": nxt, "end": nxt}
            blocks.append(block)
            anchor = block["last_visit"]
            if block.get("open"):
                break
        terminal = []
        if end is not None:
            for _ in range(4):
                k = r.randrange(len(blocks))
                if blocks[k].get("open"):
                    continue
                terminal = self.zwl_end(end, blocks[k], horizon)
                if terminal:
                    blocks = blocks[:k + 1]
                    break
        # episodes between blocks: a suspension and restoration, or a change
        out = []
        for i, block in enumerate(blocks):
            out.extend(block["events"])
            if block.get("open") or (terminal and i == len(blocks) - 1):
                continue
            a = block["end"] + days(15)
            b = blocks[i + 1]["events"][0]["date"] - days(15) if i + 1 < len(blocks) else horizon
            if supersede is not None and i + 1 == len(blocks):
                b = horizon - days(10)
            if a > b:
                continue
            x = r.random()
            if x < 0.06:
                start = self.wd(a + days(r.randint(0, 60)))
                back = self.wd(start + days(r.randint(20, 150)))
                if start > b:
                    continue
                if back <= min(b, add_months(start, 6)):
                    out.extend(self.suspension(start, back, ZWL_KEY))
                elif i + 1 == len(blocks) and horizon == AS_OF and supersede is None \
                        and AS_OF <= add_months(start, 6):
                    out.extend(self.suspension(start, None, ZWL_KEY))  # still suspended on the as-of date
            elif x < 0.14:
                date = self.wd(a + days(r.randint(0, max(0, (b - a).days))))
                d = self.change_zwl(cert, current, date) if date <= b else None
                if d:
                    out.append(d)
        out.extend(terminal)
        if supersede is not None:
            out.append({"certificate": None, "action": "cancel", "date": supersede, "ground": "superseded",
                        "requested": self.wdb(supersede - days(r.randint(0, 20))),
                        "reason": self.ending("ZWL", "cancel", "superseded")})
        cert.decisions = [cert.decisions[0]] + out

    def zwl_end(self, end, block, horizon) -> list[dict]:
        r = self.rng
        a = block["end"] + days(15)
        b = min(horizon, add_months(block["last_visit"], 12) - DAY)
        if a > b:
            return []
        if end == "cancel":
            date = self.wd(a + days(r.randint(0, (b - a).days)))
            if date > b:
                return []
            ground = self.pick(["holder-request", "holder-request", "ceased"])
            return [{"certificate": None, "action": "cancel", "date": date, "ground": ground,
                     "requested": self.wdb(date - days(r.randint(1, 25))),
                     "reason": self.ending("ZWL", "cancel", ground)}]
        if end == "revoke":
            date = self.wd(a + days(r.randint(0, (b - a).days)))
            if date > b:
                return []
            ground = self.pick(["violation", "nonconforming"])
            return [{"certificate": None, "action": "revoke", "date": date, "ground": ground,
                     "facts_verified": self.wdb(date - days(r.randint(1, 10))),
                     "reason": self.ending("ZWL", "revoke", ground)}]
        # revoke-overdue: suspended, not restored within 6 months (ZWL-7.4), then revoked
        start = self.wd(a + days(r.randint(0, 20)))
        limit = add_months(start, 6)
        date = self.wd(limit + days(r.randint(1, 14)))
        if date > b:
            return []
        events = self.suspension(start, None, ZWL_KEY)
        events.append({"certificate": None, "action": "revoke", "date": date, "ground": "suspension-expired",
                       "facts_verified": self.wdb(date - days(r.randint(0, 3))),
                       "reason": self.ending("ZWL", "revoke", "suspension-expired", limit=limit)})
        return events

    def suspension(self, start, back, scheme) -> list[dict]:
        r = self.rng
        if scheme == ZWL_KEY:
            ground = self.pick(["violation", "nonconforming", "surveillance-failed", "holder-request",
                                "holder-request"])
            zh, en = self.pick(ZWL_SUSPEND[ground])
            facts = self.wdb(start - days(r.randint(1, 10)))
            months = 6
        else:
            ground = self.pick(["a", "b", "c", "c"])
            zh, en = self.pick(ZCF_SUSPEND[ground])
            facts = start
            for _ in range(r.randint(1, 5)):  # ZCF-12.1.1: within 5 working days of the facts
                facts -= DAY
                while not is_working_day(facts):
                    facts -= DAY
            months = 3
        until = add_months(start, months)
        d = {"certificate": None, "action": "suspend", "date": start, "ground": ground, "facts_verified": facts,
             "until": until if self.chance(0.5) else None, "reason": {"zh": zh, "en": en}}
        out = [d]
        if back is not None:
            out.append(self.restore(back, start, scheme))
        return out

    def ending(self, code, action, ground, **values) -> dict:
        zh, en = ENDINGS[(code, action, ground)]
        if values:
            zh, en = zh.format(**values), en.format(**values)
        return {"zh": zh, "en": en}

    def restore(self, date, since, scheme) -> dict:
        verified = max(since, self.wdb(date - days(self.rng.randint(1, 10))))
        zh, en = self.pick(RECTIFICATIONS)
        rule = "ZWL-7.4" if scheme == ZWL_KEY else "ZCF-12.1.3"
        return {"certificate": None, "action": "restore", "date": date, "rectification_verified": verified,
                "reason": {"zh": f"证书持有人已{zh}。CEC 于 {verified} 验证整改有效，自 {date} 起恢复证书（{rule}）。",
                           "en": f"The holder {en}. CEC verified the rectification on {verified}; the certificate "
                                 f"is restored from {date} ({rule})."}}

    # --- ZCF: zero-carbon factory certificates -------------------------------------------------

    def zcf_factory(self):
        prov, short, city, region, area, district, _ = self.place()
        industry, word, products, cap_word = self.pick(ZCF_INDUSTRIES)
        name, roman = self.company(short, city, district, [word, word + "科技", word + "制造"])
        addr = self.address(prov, city, district)
        main = "、".join(self.rng.sample(products, self.rng.randint(1, len(products))))
        factory = {
            "factory_name": name, "credit_code": self.uscc(region), "address": addr, "industry": industry,
            "main_products": main,
            "capacity": f"年产{main.split('、')[0]} {self.rng.randint(2, 300)} {cap_word}",
            "roman": roman, "area": area, "emissions": self.rng.uniform(800, 250000),
            "offset_kinds": self.rng.sample(OFFSET_KINDS, self.rng.randint(1, 3)),
        }
        factory["contact"] = self.contact(area, roman, [name, addr, industry, main])
        return factory

    def zcf_content(self, f, start: dt.date, end: dt.date) -> dict:
        r = self.rng
        e = f["emissions"] * r.uniform(0.85, 1.05)
        f["emissions"] = e
        e_c = int(round(e * 100))
        o_c = e_c + (0 if self.chance(0.5) else r.randint(0, e_c // 30))
        boundary = (f"{f['factory_name']}厂区红线范围内的主要生产系统、辅助生产系统和附属生产系统，"
                    "包括生产车间、公用工程（空压站、循环水站、变配电室）、仓储及办公设施。\n"
                    "核算范围一（化石燃料燃烧、工业过程）和范围二（外购电力、热力）排放；抵消方式："
                    + "、".join(f["offset_kinds"]) + "。")
        content = {
            "factory_name": f["factory_name"],
            "credit_code": f["credit_code"],
            "address": f["address"],
            "industry": f["industry"],
            "main_products": f["main_products"],
            "boundary": boundary,
            "reporting_period": {"start": start, "end": end},
            "emissions_tco2e": Num(f"{e_c // 100}.{e_c % 100:02d}"),
            "offsets_tco2e": Num(f"{o_c // 100}.{o_c % 100:02d}"),
            "capacity": f["capacity"] if self.chance(0.8) else None,
            "contact": dict(f["contact"]),
        }
        return content

    def zcf_chain(self, n_left: int) -> list[Cert]:
        r = self.rng
        f = self.zcf_factory()
        if self.chance(0.85):  # the factory's first certified reporting year: a calendar year...
            start = dt.date(r.choices(list(ZCF_FIRST_YEARS), list(ZCF_FIRST_YEARS.values()))[0], 1, 1)
        else:  # ...or from July to June (not the last year: July 2025 to June 2026 is not certified by AS_OF)
            start = dt.date(r.choices(list(ZCF_FIRST_YEARS)[:-1], list(ZCF_FIRST_YEARS.values())[:-1])[0], 7, 1)
        certs: list[Cert] = []
        while len(certs) < n_left:
            end = add_months(start, 12) - DAY
            if end + days(60) > AS_OF:
                break  # the reporting year has not been certified yet
            received, accepted = self.application(end + days(r.randint(15, 80)), 10)
            date = self.wd(accepted + days(r.randint(25, 100)))
            if date > AS_OF:
                break
            planned = r.choice([2, 2, 3, 3, 4, 5])
            person_days = planned if self.chance(0.85) else planned + r.choice([-1, 1, 2])
            person_days = max(person_days, 2)
            issue = {
                "certificate": None, "action": "issue", "date": date,
                "application": {"received": received, "accepted": accepted},
                "person_days": person_days,
                "planned_person_days": planned if person_days != planned else None,
                "adjustment_justification": ("现场审核发现厂区新增光伏及储能设施，增加审核人日。"
                                             if person_days > planned else
                                             "文件评审确认部分公用工程由园区统一提供，减少审核人日。"
                                             if person_days < planned else None),
                "team": self.team(ZCF_QUALS, r.choice([2, 3, 3, 4]), scheme=ZCF_KEY),
                "technical_reviewer": self.pick(self.reviewers),
                "prerequisites_checked": ["lawfully_established", "no_major_accident_3_years",
                                          "energy_better_than_limits", "commitment_and_ghg_system"],
                "note": ("审核报告已包含概述、审核过程和方法、认证内容及结论（ZCF-8.4）。"
                         if self.chance(0.5) else None),
            }
            cert = Cert(ZCF_KEY, date, add_months(end, 12), self.zcf_content(f, start, end), issue)
            if certs:
                cert.follows, certs[-1].successor = certs[-1], cert
            certs.append(cert)
            if not self.chance(0.7):
                break
            start = end + DAY
        for i, cert in enumerate(certs):
            self.zcf_history(cert, f, last=i == len(certs) - 1)
        return certs

    def zcf_history(self, cert: Cert, f, *, last: bool):
        r = self.rng
        horizon = min(cert.valid_until, AS_OF)
        if cert.successor is not None:
            horizon = min(horizon, cert.successor.valid_from + days(60))
        a = cert.valid_from + days(20)
        events = []
        x = r.random()
        if x < 0.06 and a + days(30) <= horizon:  # a change: new name, new contact or products
            date = self.wd(a + days(r.randint(0, min(120, (horizon - a).days))))
            d = self.zcf_change(cert, f, date) if date <= horizon else None
            if d:
                events.append(d)
                a = date + days(15)
        x = r.random()
        if last and x < 0.03:
            start = self.working_day_on_or_after(a + days(r.randint(0, 30)))
            limit = add_months(start, 3)
            facts = self.wd(limit + days(r.randint(1, 5)))
            date = add_working_days(facts, r.randint(1, 5))
            if date <= horizon:
                events.extend(self.suspension(start, None, ZCF_KEY))
                events.append({"certificate": None, "action": "revoke", "date": date, "ground": "c",
                               "facts_verified": facts,
                               "reason": self.ending("ZCF", "revoke", "c", limit=limit)})
                cert.decisions += events
                return
        if x < 0.07 and a + days(10) <= horizon:
            start = a + days(r.randint(0, min(90, (horizon - a).days)))
            start = self.working_day_on_or_after(start)
            back = self.wd(start + days(r.randint(15, 85)))
            if start <= horizon:
                if back <= min(horizon, add_months(start, 3)):
                    events.extend(self.suspension(start, back, ZCF_KEY))
                    a = back + days(15)
                elif horizon == AS_OF and cert.successor is None and AS_OF <= add_months(start, 3):
                    events.extend(self.suspension(start, None, ZCF_KEY))
                    cert.decisions += events
                    return
        x = r.random()
        if last and x < 0.08 and a + days(5) <= horizon:
            date = self.wd(a + days(r.randint(0, (horizon - a).days)))
            if date <= horizon and x < 0.06:
                ground = self.pick(["holder-request", "ceased"])
                events.append({"certificate": None, "action": "cancel", "date": date, "ground": ground,
                               "requested": self.wdb(date - days(r.randint(1, 20))),
                               "reason": self.ending("ZCF", "cancel", ground)})
            elif date <= horizon:  # ZCF-12.2: revoked within 5 working days of the facts
                facts = date
                date = add_working_days(facts, r.randint(1, 5))
                if date <= horizon:
                    ground = self.pick(["a", "b"])
                    events.append({"certificate": None, "action": "revoke", "date": date, "ground": ground,
                                   "facts_verified": facts, "reason": self.ending("ZCF", "revoke", ground)})
        cert.decisions += events

    def zcf_change(self, cert: Cert, f, date) -> dict | None:
        field = self.pick(["factory_name", "contact", "main_products"])
        content = cert.content
        if field == "factory_name":
            new = content["factory_name"].replace("有限公司", "股份有限公司") \
                if "股份" not in content["factory_name"] else None
            if new is None or new in self.used_names:
                return None
            self.used_names.add(new)
            f["factory_name"] = new
            why = ("完成工商登记变更（股份制改造），企业名称变更",
                   "the company was converted into a joint-stock company and renamed")
        elif field == "contact":
            name, roman = self.person()
            if any(name in t for t in _public_texts(content)):
                return None
            new = {"name": name, "phone": content["contact"]["phone"],
                   "email": f"{roman}@{content['contact']['email'].split('@')[1]}"}
            f["contact"] = new
            why = ("获证组织联系人变更", "the holder's contact person changed")
        else:
            _, _, products, _ = next(i for i in ZCF_INDUSTRIES if i[0] == content["industry"])
            new = "、".join(products)
            if new == content["main_products"]:
                return None
            f["main_products"] = new
            why = ("新增产品线投产，主要产品变更", "a new product line started, so the main products changed")
        return {"certificate": None, "action": "change", "date": date, "changes": {field: new},
                "reason": {"zh": f"{why[0]}；经文件审核确认不影响零碳工厂认证结论，换发证书第 2 版，证书编号和有效期"
                                 "不变。",
                           "en": f"Change: {why[1]}. A document review confirmed the zero-carbon factory "
                                 "certification still holds; version 2 is issued with the same number and validity "
                                 "dates."}}

    # --- the whole registry --------------------------------------------------------------------

    def certificates(self, n: int) -> list[Cert]:
        n_zcf = n // 2
        n_zwl = n - n_zcf
        zcf: list[Cert] = []
        zwl: list[Cert] = []
        while len(zcf) < n_zcf or len(zwl) < n_zwl:
            if len(zwl) < n_zwl:
                zwl.extend(self.zwl_chain(n_zwl - len(zwl)))
            if len(zcf) < n_zcf:
                zcf.extend(self.zcf_chain(n_zcf - len(zcf)))
        for code, certs in (("ZCF", zcf), ("ZWL", zwl)):
            order = sorted(range(len(certs)), key=lambda i: (certs[i].valid_from, i))
            per_year: dict[int, int] = {}
            for i in order:
                c = certs[i]
                k = per_year.get(c.valid_from.year, 0) + 1
                if k > MAX_SERIAL:
                    raise SystemExit(f"more than {MAX_SERIAL} {code} certificates issued in {c.valid_from.year}, "
                                     "more than the number pattern allows (REG-ID); use fewer certificates")
                per_year[c.valid_from.year] = k
                c.number = f"CEC-{code}-{c.valid_from.year}-{k:04d}"  # (10000 and on: five or six digits)
            self.busiest[code] = max(per_year.items(), key=lambda item: (item[1], item[0]))
        return zcf + zwl


def _public_texts(content):
    private = ("contact", "capacity", "data_collection")
    return [t for k, v in content.items() if k not in private and k != "credit_code" for t in texts(v)]


# --- writing the registry ---------------------------------------------------------------------

CERT_HEADER = ("# yaml-language-server: $schema=../../schemas/certificate.schema.json\n"
               "# SAMPLE DATA: a fictional certificate (generated by bench/bench.py).\n")
DECISION_HEADER = "# yaml-language-server: $schema=../../../schemas/decision.schema.json\n# SAMPLE DATA\n"


ANNOUNCED = ("suspend", "restore", "revoke", "cancel", "change")


def write_registry(certs: list[Cert], out: Path) -> tuple[int, int]:
    files = decisions = 0
    # REG-ANNOUNCE: each announced decision's number, YYYYMMDD-N, in the order the decisions are written
    taken: dict[dt.date, int] = {}
    (out / "certificates").mkdir(parents=True)
    for c in certs:
        folder = out / "certificates" / c.number
        (folder / "decisions").mkdir(parents=True)
        record = {"number": c.number, "scheme": c.scheme,
                  "follows": c.follows.number if c.follows else None,
                  "valid_from": c.valid_from, "valid_until": c.valid_until, "content": c.content}
        (folder / "certificate.yml").write_text(CERT_HEADER + "\n".join(emit(record)) + "\n", encoding="utf-8")
        files += 1
        names = set()
        for d in c.decisions:
            d = dict(d, certificate=c.number)
            if c.successor is not None and "reason" in d:
                d["reason"] = {k: v.replace("{successor}", c.successor.number) for k, v in d["reason"].items()}
            if d["action"] in ANNOUNCED or (d["action"] == "surveillance" and d.get("outcome") == "fail"):
                taken[d["date"]] = taken.get(d["date"], 0) + 1
                d["announcement"] = f"{d['date']:%Y%m%d}-{taken[d['date']]}"
            name = f"{d['date'].isoformat()}-{d['action']}"
            k = 1
            while f"{name}{'' if k == 1 else f'-{k}'}.yml" in names:
                k += 1
            name = f"{name}{'' if k == 1 else f'-{k}'}.yml"
            names.add(name)
            (folder / "decisions" / name).write_text(DECISION_HEADER + "\n".join(emit(d)) + "\n",
                                                     encoding="utf-8")
            decisions += 1
    return files, decisions


def generate(n: int, seed: int, out: Path) -> None:
    t0 = time.perf_counter()
    if out.exists():
        if not (out / META).is_file() and any(out.iterdir()):
            raise SystemExit(f"{out} exists and was not made by this script; refusing to overwrite it")
        shutil.rmtree(out)
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    src = ROOT / "registry"
    shutil.copy2(src / "registry.yml", tmp / "registry.yml")
    shutil.copytree(src / "schemes", tmp / "schemes")
    shutil.copytree(src / "schemas", tmp / "schemas")
    shutil.copytree(src / "marks", tmp / "marks")
    gen = Generator(seed)
    certs = gen.certificates(n)
    _, decisions = write_registry(certs, tmp)
    late = record_late(tmp)
    (tmp / META).write_text(json.dumps(_meta(n, seed), indent=2) + "\n", encoding="utf-8")
    tmp.rename(out)
    busiest = ", ".join(f"{code} {year}: {k}" for code, (year, k) in sorted(gen.busiest.items()))
    print(f"generated {len(certs)} certificates and {decisions} decisions ({late} recorded late) into {out} "
          f"in {time.perf_counter() - t0:.1f} s; the busiest years: {busiest}")


def record_late(root: Path) -> int:
    """Decisions the generator placed after a binding deadline are recorded as staff would (certreg decide asks):
    with late: (the deadlines missed) and late_reason:. Returns how many."""
    from certreg.rules.validate import check_registry

    checked = check_registry(root, dt.date(2099, 12, 31), keep=False)  # every decision, whatever its date
    for path, missed in sorted(checked.late.items()):
        lines = ["late:"] + [f"  {rule}: {day.isoformat()}" for rule, day in sorted(missed.items())]
        lines += ["late_reason:", "  zh: 因人员调整，决定晚于期限作出。",
                  "  en: Decided after the deadline while staff changed."]
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return len(checked.late)


def _copied_files() -> list[Path]:
    src = ROOT / "registry"
    return ([src / "registry.yml"] + sorted((src / "schemes").iterdir()) + sorted((src / "schemas").iterdir())
            + sorted((src / "marks").iterdir()))


def _meta(n: int, seed: int) -> dict:
    # the copied scheme data and schemas are part of the result: a change there regenerates
    digest = hashlib.sha256()
    for path in _copied_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return {"certificates": n, "seed": seed, "generator": GENERATOR_VERSION, "as_of": AS_OF.isoformat(),
            "sources": digest.hexdigest()}


def is_current(out: Path, n: int, seed: int) -> bool:
    try:
        return json.loads((out / META).read_text(encoding="utf-8")) == _meta(n, seed)
    except (OSError, ValueError):
        return False


def generated(n: int, seed: int) -> Path:
    """The registry of ``n`` certificates from ``seed`` in bench/out/registry-N, generated first unless current."""
    out = ROOT / "bench" / "out" / f"registry-{n}"
    if not is_current(out, n, seed):
        generate(n, seed, out)
    return out


# --- measuring ----------------------------------------------------------------------------------


def registry_figures(out: Path) -> dict:
    certs = decisions = size = 0
    for dirpath, _, filenames in os.walk(out):
        for name in filenames:
            if name.endswith(".yml"):
                size += os.path.getsize(os.path.join(dirpath, name))
                if name == "certificate.yml":
                    certs += 1
                elif os.path.basename(dirpath) == "decisions":
                    decisions += 1
    return {"certificates": certs, "decisions": decisions, "bytes": size}


def certreg_command() -> list[str]:
    exe = Path(sys.executable).parent / "certreg"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("certreg")
    if found:
        return [found]
    raise SystemExit("cannot find the certreg command; run this script with the project's .venv/bin/python")


_SUMMARY = re.compile(r"(\d+) certificates checked as of \S+: (\d+) error\(s\), (\d+) warning\(s\)")


def run_validate(out: Path) -> tuple[float, subprocess.CompletedProcess]:
    cmd = certreg_command() + ["validate", "--registry", str(out), "--as-of", AS_OF.isoformat()]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def profile(out: Path, top: int = 30) -> None:
    import cProfile
    import io
    import pstats

    from certreg.records.schemasync import stale_schemas
    from certreg.rules.validate import check_registry

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    checked = check_registry(out, AS_OF, jobs=1)
    stale_schemas(checked.registry.root, checked.registry.schemes)
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"\nprofile, one process (jobs=1), under cProfile: {wall:.2f} s, "
          f"{checked.report.count('error')} error(s)")
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        text = buf.getvalue()
        print(text[text.index("   ncalls"):] if "   ncalls" in text else text)


def calibrate() -> float:
    """Seconds for a fixed CPU-bound loop: the machines here are shared and their speed varies by half,
    so each timing is printed beside the speed of the machine at that moment."""
    start = time.perf_counter()
    x = 0
    for i in range(10_000_000):
        x += i
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, default=10000, help="certificates to generate (default 10000)")
    p.add_argument("--out", type=Path, help="registry folder (default bench/out/registry-N)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--repeat", type=int, default=3, help="timed validate runs (default 3)")
    p.add_argument("--force", action="store_true", help="regenerate even if the folder is current")
    p.add_argument("--generate-only", action="store_true", help="generate the registry, do not time it")
    p.add_argument("--profile", action="store_true", help="also profile one in-process, single-process run")
    args = p.parse_args(argv)
    if args.certificates < 2:
        p.error("--certificates must be at least 2")
    out = (args.out or ROOT / "bench" / "out" / f"registry-{args.certificates}").resolve()

    if args.force or not is_current(out, args.certificates, args.seed):
        generate(args.certificates, args.seed, out)
    else:
        print(f"reusing {out} (same N, seed and generator; --force regenerates)")
    fig = registry_figures(out)
    print(f"registry: {fig['certificates']} certificates, {fig['decisions']} decision files, "
          f"{fig['bytes']} bytes of YAML ({fig['bytes'] / 1e6:.1f} MB)")
    if args.generate_only:
        return 0

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {os.cpu_count()} cores ({usable} usable by this process), Python {sys.version.split()[0]}")
    times = []
    failed = False
    for i in range(max(1, args.repeat)):
        print(f"machine speed now: {calibrate():.2f} s for a fixed pure-Python loop (lower is faster)")
        wall, proc = run_validate(out)
        times.append(wall)
        m = _SUMMARY.search(proc.stderr)
        summary = f"{m.group(2)} error(s), {m.group(3)} warning(s)" if m else "no summary line"
        print(f"run {i + 1}: {wall:.2f} s, exit code {proc.returncode}, {summary}")
        failed = failed or proc.returncode != 0
        if i == 0 and proc.returncode != 0:
            lines = (proc.stdout + proc.stderr).strip().splitlines()
            print("validate did not pass on the generated registry; first problems:")
            print("\n".join("  " + line for line in lines[:20]))
    best, median = min(times), statistics.median(times)
    n = fig["certificates"]
    print(f"validate {n} certificates: best {best:.2f} s, median {median:.2f} s ({n / best:.0f} certificates/s)")
    if args.profile:
        profile(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
