#!/usr/bin/env python3
"""Regenerate refdata/missions.tsv (PRC missions abroad that take visa applications).

The lists below were compiled by hand; see ../README.md for the sources and for
the entries that are uncertain. Mission names follow the MFA short form
中国驻<国名>大使馆 / 中国驻<城市>总领事馆, with the country short name taken from
countries.tsv (except where MFA usage differs, see MISSION_COUNTRY).

Usage:  python3 gen_missions.py   (run from this directory; rewrites ../missions.tsv)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# host alpha-3 and the city (Chinese) where the embassy sits.
EMBASSIES = """
JPN 东京;KOR 首尔;PRK 平壤;MNG 乌兰巴托;VNM 河内;LAO 万象;KHM 金边;THA 曼谷;MMR 仰光;
MYS 吉隆坡;SGP 新加坡;IDN 雅加达;PHL 马尼拉;BRN 斯里巴加湾市;TLS 帝力;
IND 新德里;PAK 伊斯兰堡;BGD 达卡;LKA 科伦坡;MDV 马累;NPL 加德满都;AFG 喀布尔;
IRN 德黑兰;IRQ 巴格达;SYR 大马士革;LBN 贝鲁特;JOR 安曼;ISR 特拉维夫;SAU 利雅得;YEM 萨那;
OMN 马斯喀特;ARE 阿布扎比;QAT 多哈;BHR 麦纳麦;KWT 科威特城;TUR 安卡拉;
KAZ 阿斯塔纳;KGZ 比什凯克;TJK 杜尚别;TKM 阿什哈巴德;UZB 塔什干;GEO 第比利斯;ARM 埃里温;
AZE 巴库;CYP 尼科西亚;
RUS 莫斯科;UKR 基辅;BLR 明斯克;MDA 基希讷乌;POL 华沙;CZE 布拉格;SVK 布拉迪斯拉发;
HUN 布达佩斯;ROU 布加勒斯特;BGR 索非亚;SRB 贝尔格莱德;MNE 波德戈里察;BIH 萨拉热窝;
HRV 萨格勒布;SVN 卢布尔雅那;MKD 斯科普里;ALB 地拉那;GRC 雅典;MLT 瓦莱塔;ITA 罗马;
ESP 马德里;PRT 里斯本;FRA 巴黎;BEL 布鲁塞尔;NLD 海牙;LUX 卢森堡;DEU 柏林;AUT 维也纳;
CHE 伯尔尼;GBR 伦敦;IRL 都柏林;ISL 雷克雅未克;NOR 奥斯陆;SWE 斯德哥尔摩;FIN 赫尔辛基;
DNK 哥本哈根;EST 塔林;LVA 里加;
EGY 开罗;LBY 的黎波里;TUN 突尼斯;DZA 阿尔及尔;MAR 拉巴特;MRT 努瓦克肖特;SDN 喀土穆;
SSD 朱巴;ETH 亚的斯亚贝巴;ERI 阿斯马拉;DJI 吉布提;SOM 摩加迪沙;KEN 内罗毕;UGA 坎帕拉;
RWA 基加利;BDI 布琼布拉;TZA 达累斯萨拉姆;SYC 维多利亚;MUS 路易港;MDG 塔那那利佛;
COM 莫罗尼;MOZ 马普托;MWI 利隆圭;ZMB 卢萨卡;ZWE 哈拉雷;BWA 哈博罗内;NAM 温得和克;
ZAF 比勒陀利亚;LSO 马塞卢;AGO 罗安达;COD 金沙萨;COG 布拉柴维尔;GAB 利伯维尔;
GNQ 马拉博;CMR 雅温得;CAF 班吉;TCD 恩贾梅纳;NER 尼亚美;NGA 阿布贾;BEN 科托努;TGO 洛美;
GHA 阿克拉;CIV 阿比让;BFA 瓦加杜古;MLI 巴马科;SEN 达喀尔;GMB 班珠尔;GNB 比绍;
GIN 科纳克里;SLE 弗里敦;LBR 蒙罗维亚;CPV 普拉亚;STP 圣多美;
USA 华盛顿;CAN 渥太华;MEX 墨西哥城;CUB 哈瓦那;CRI 圣何塞;PAN 巴拿马城;SLV 圣萨尔瓦多;
HND 特古西加尔巴;NIC 马那瓜;DOM 圣多明各;JAM 金斯敦;BHS 拿骚;BRB 布里奇顿;ATG 圣约翰;
DMA 罗索;GRD 圣乔治;TTO 西班牙港;GUY 乔治敦;SUR 帕拉马里博;VEN 加拉加斯;COL 波哥大;
ECU 基多;PER 利马;BOL 拉巴斯;CHL 圣地亚哥;ARG 布宜诺斯艾利斯;URY 蒙得维的亚;BRA 巴西利亚;
AUS 堪培拉;NZL 惠灵顿;FJI 苏瓦;PNG 莫尔兹比港;WSM 阿皮亚;TON 努库阿洛法;VUT 维拉港;
FSM 波纳佩;SLB 霍尼亚拉;KIR 塔拉瓦;NRU 亚伦
"""

# host alpha-3 followed by the cities (Chinese) of its consulates-general.
CONSULATES_GENERAL = """
USA 纽约 旧金山 洛杉矶 芝加哥;CAN 多伦多 温哥华 卡尔加里 蒙特利尔;MEX 蒂华纳;
BRA 圣保罗 里约热内卢 累西腓;CHL 伊基克;ECU 瓜亚基尔;BOL 圣克鲁斯;
AUS 悉尼 墨尔本 珀斯 布里斯班 阿德莱德;NZL 奥克兰 克赖斯特彻奇;
JPN 大阪 福冈 札幌 长崎 名古屋 新潟;KOR 釜山 光州 济州;PRK 清津;MNG 扎门乌德;
RUS 圣彼得堡 哈巴罗夫斯克 符拉迪沃斯托克 叶卡捷琳堡 伊尔库茨克 喀山;KAZ 阿拉木图 阿克托别;
KGZ 奥什;
VNM 胡志明市 岘港;LAO 琅勃拉邦;THA 清迈 宋卡 孔敬;MMR 曼德勒;MYS 古晋 哥打基纳巴卢 槟城;
IDN 泗水 棉兰 登巴萨;PHL 宿务 达沃;
IND 孟买 加尔各答;PAK 卡拉奇 拉合尔;IRN 阿巴斯港;IRQ 埃尔比勒 巴士拉;SAU 吉达;ARE 迪拜;
TUR 伊斯坦布尔;EGY 亚历山大;
UKR 敖德萨;POL 格但斯克;DEU 法兰克福 汉堡 慕尼黑 杜塞尔多夫;FRA 马赛 里昂 斯特拉斯堡;
REU 圣但尼;GBR 曼彻斯特 爱丁堡 贝尔法斯特;ITA 米兰 佛罗伦萨;ESP 巴塞罗那;CUW 威廉斯塔德;
CHE 苏黎世;SWE 哥德堡;
ZAF 约翰内斯堡 开普敦 德班;NGA 拉各斯;TZA 桑给巴尔;GNQ 巴塔
"""

# (host, city) of consulates (领事馆, below consulate-general rank).
CONSULATES = [("PHL", "拉瓦格"), ("PYF", "帕皮提")]

# Offices: commissioner's offices in the SARs, the office to Palestine, the
# chargé d'affaires office in Lithuania, consular offices, the trade office in Haiti.
OFFICES = [
    ("HKG", "外交部驻香港特别行政区特派员公署", "香港"),
    ("MAC", "外交部驻澳门特别行政区特派员公署", "澳门"),
    ("PSE", "中国驻巴勒斯坦国办事处", "拉姆安拉"),
    ("LTU", "中国驻立陶宛代办处", "维尔纽斯"),
    ("THA", "中国驻宋卡总领事馆驻普吉领事办公室", "普吉"),
    ("KHM", "中国驻柬埔寨大使馆驻暹粒领事办公室", "暹粒"),
    ("KHM", "中国驻柬埔寨大使馆驻西哈努克省领事办公室", "西哈努克"),
    ("HTI", "中国驻海地贸易发展办事处", "太子港"),
]

# Where the MFA mission name uses another form than the GB/T 2659 short name.
MISSION_COUNTRY = {"MNG": "蒙古国"}

KIND_ORDER = {"embassy": 0, "consulate_general": 1, "consulate": 2, "office": 3}


def items(block):
    return [x.split() for x in block.replace("\n", "").split(";") if x.strip()]


def main() -> int:
    names = {}
    with open(os.path.join(ROOT, "countries.tsv"), encoding="utf-8") as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split("\t")
            names[cols[1]] = cols[3]
    rows = []
    for host, city in items(EMBASSIES):
        country = MISSION_COUNTRY.get(host, names[host])
        rows.append((host, "embassy", f"中国驻{country}大使馆", city))
    for host, *cities in items(CONSULATES_GENERAL):
        for city in cities:
            rows.append((host, "consulate_general", f"中国驻{city}总领事馆", city))
    for host, city in CONSULATES:
        rows.append((host, "consulate", f"中国驻{city}领事馆", city))
    for host, name, city in OFFICES:
        rows.append((host, "office", name, city))
    missing = sorted({r[0] for r in rows} - set(names))
    if missing:
        print(f"hosts not in countries.tsv: {missing}", file=sys.stderr)
        return 1
    if len({r[2] for r in rows}) != len(rows):
        print("duplicate mission names", file=sys.stderr)
        return 1
    rows.sort(key=lambda r: (r[0], KIND_ORDER[r[1]]))  # stable: keeps city order
    with open(os.path.join(ROOT, "missions.tsv"), "w", encoding="utf-8") as f:
        f.write("host_alpha3\tkind\tname_zh\tcity_zh\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    counts = {k: sum(1 for r in rows if r[1] == k) for k in KIND_ORDER}
    print(f"{len(rows)} missions: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
