"""What the demo region is made of: industry chains, enterprises, product families with
real-looking characteristics, instruments, labs and the metrology institutes.

All names are fictional ("示例" = example); tolerances follow ISO 286-1 IT grades for sizes and
typical drawing values for form, position, roughness, hardness, mass and torque.
"""

from __future__ import annotations

from dataclasses import dataclass


def it_tolerance_um(d_mm: float, grade: int) -> float:
    """ISO 286-1 standard tolerance IT5..IT11 in µm for a nominal size, from the tolerance factor
    i = 0.45 D^(1/3) + 0.001 D (D in mm, µm) and the grade multipliers 7, 10, 16, 25, 40, 64, 100."""
    i = 0.45 * d_mm ** (1 / 3) + 0.001 * d_mm
    return {5: 7, 6: 10, 7: 16, 8: 25, 9: 40, 10: 64, 11: 100}[grade] * i


@dataclass(frozen=True)
class Feature:
    """A characteristic template: ``count`` characteristics are made from it (key_1, key_2 ...).

    ``spec`` is one of: ``shaft`` (h: upper 0, lower -IT), ``hole`` (H: lower 0, upper +IT),
    ``sym`` (±IT/2 or ±tol), ``upper`` (one-sided: 0..tol, form and position), ``range`` (lo..hi).
    """

    key: str
    zh: str
    en: str
    kind: str
    nominal: tuple[float, float]  # drawn uniformly in this range (ignored for 'upper')
    spec: str
    grade_or_tol: float  # IT grade for shaft/hole/sym-IT, or the tolerance width / upper limit
    unit: str = "mm"
    count: int = 1
    criticality: str = "major"
    instrument: str = "cmm"


@dataclass(frozen=True)
class Family:
    code: str
    zh: str
    en: str
    features: tuple[Feature, ...]


F = Feature
FAMILIES: dict[str, Family] = {f.code: f for f in (
    Family("BLADE", "压气机叶片", "compressor blade", (
        F("CHORD", "弦长", "chord length", "length", (30, 60), "sym", 0.08, count=3, criticality="critical"),
        F("THK", "最大厚度", "max thickness", "size", (1.5, 4.0), "sym", 0.04, count=4, criticality="critical"),
        F("PROF", "型面轮廓度", "airfoil profile", "profile", (0, 0), "upper", 0.05, count=3),
        F("ROOT_W", "榫头宽度", "root width", "size", (12, 20), "shaft", 6, count=2),
        F("TWIST", "扭转角", "stagger angle", "angle", (30, 45), "sym", 0.25, unit="degree", count=2),
        F("RA", "叶身粗糙度", "airfoil roughness Ra", "roughness", (0, 0), "upper", 0.4, unit="µm", instrument="rough"),
    )),
    Family("DISK", "涡轮盘", "turbine disk", (
        F("BORE", "中心孔直径", "bore diameter", "diameter", (80, 160), "hole", 6, criticality="critical"),
        F("OD", "外径", "outer diameter", "diameter", (380, 520), "shaft", 7),
        F("SLOT_POS", "榫槽位置度", "slot position", "position", (0, 0), "upper", 0.03, count=6),
        F("FACE_FLAT", "端面平面度", "face flatness", "flatness", (0, 0), "upper", 0.02, count=2),
        F("THK", "轮缘厚度", "rim thickness", "size", (25, 40), "sym", 8),
        F("HB", "硬度", "hardness", "hardness", (36, 44), "range", 0, unit="HRC", instrument="hard"),
    )),
    Family("SHAFT", "发动机主轴", "engine main shaft", (
        F("JRNL", "轴颈直径", "journal diameter", "diameter", (40, 90), "shaft", 5, count=3, criticality="critical"),
        F("RUNOUT", "径向跳动", "radial runout", "runout", (0, 0), "upper", 0.01, count=3, criticality="critical"),
        F("LEN", "总长", "overall length", "length", (600, 900), "sym", 9),
        F("SPLINE", "花键跨棒距", "spline over pins", "size", (50, 70), "sym", 6, count=2),
        F("CYL", "圆柱度", "cylindricity", "cylindricity", (0, 0), "upper", 0.005, count=2),
        F("RA", "轴颈粗糙度", "journal roughness Ra", "roughness", (0, 0), "upper", 0.4, unit="µm", instrument="rough"),
    )),
    Family("CASING", "机匣", "casing", (
        F("ID", "内径", "inner diameter", "diameter", (500, 700), "hole", 7, count=3),
        F("FLG_FLAT", "法兰平面度", "flange flatness", "flatness", (0, 0), "upper", 0.04, count=2),
        F("HOLE_POS", "螺栓孔位置度", "bolt-hole position", "position", (0, 0), "upper", 0.1, count=8),
        F("WALL", "壁厚", "wall thickness", "size", (3, 6), "sym", 0.3, count=4),
    )),
    Family("ROTOR", "高压转子组件", "HP rotor module", (
        F("RUNOUT", "转子跳动", "rotor runout", "runout", (0, 0), "upper", 0.03, count=2, criticality="critical"),
        F("AXIAL", "轴向位置", "axial position", "distance", (120, 180), "sym", 0.1, count=2),
        F("TIPCLR", "叶尖间隙", "blade tip clearance", "distance", (0.3, 0.5), "sym", 0.15, count=4,
          criticality="critical"),
        F("UNBAL", "残余不平衡量", "residual unbalance", "other", (0, 0), "upper", 2.0, unit="g*mm", instrument="bal"),
    )),
    Family("FORGING", "锻件毛坯", "forged blank", (
        F("OD", "外径", "outer diameter", "diameter", (150, 550), "sym", 11, count=2),
        F("H", "高度", "height", "length", (40, 120), "sym", 11, count=2),
        F("HB", "硬度", "hardness", "hardness", (30, 38), "range", 0, unit="HRC", instrument="hard"),
    )),
    Family("COATING", "热障涂层", "thermal barrier coating", (
        F("TBC", "涂层厚度", "coating thickness", "size", (0.20, 0.30), "sym", 0.06, count=4, instrument="thick"),
        F("RA", "涂层粗糙度", "coating roughness Ra", "roughness", (0, 0), "upper", 6.3, unit="µm", instrument="rough"),
    )),
    Family("CRANK", "曲轴", "crankshaft", (
        F("MAIN", "主轴颈直径", "main journal diameter", "diameter", (55, 70), "shaft", 6, count=5, criticality="critical"),
        F("PIN", "连杆颈直径", "crank pin diameter", "diameter", (45, 55), "shaft", 6, count=4, criticality="critical"),
        F("STROKE", "冲程", "stroke", "distance", (85, 95), "sym", 0.1, count=4),
        F("RUNOUT", "主轴颈跳动", "main journal runout", "runout", (0, 0), "upper", 0.02, count=5),
        F("RA", "轴颈粗糙度", "journal roughness Ra", "roughness", (0, 0), "upper", 0.2, unit="µm", instrument="rough"),
    )),
    Family("CAM", "凸轮轴", "camshaft", (
        F("JRNL", "轴颈直径", "journal diameter", "diameter", (24, 30), "shaft", 6, count=5),
        F("LIFT", "凸轮升程", "cam lift", "distance", (8, 11), "sym", 0.05, count=8, criticality="critical"),
        F("PHASE", "凸轮相位角", "cam phase angle", "angle", (0, 90), "sym", 0.5, unit="degree", count=4),
    )),
    Family("PISTON", "活塞", "piston", (
        F("SKIRT", "裙部直径", "skirt diameter", "diameter", (80, 92), "shaft", 6, criticality="critical"),
        F("PINBORE", "销孔直径", "pin bore diameter", "diameter", (20, 24), "hole", 5),
        F("GROOVE", "环槽宽度", "ring groove width", "size", (1.2, 3.0), "hole", 8, count=3),
        F("MASS", "质量", "mass", "mass", (350, 450), "sym", 4.0, unit="g", instrument="scale"),
    )),
    Family("CONROD", "连杆", "connecting rod", (
        F("BIG", "大头孔径", "big-end bore", "diameter", (48, 56), "hole", 6, criticality="critical"),
        F("SMALL", "小头孔径", "small-end bore", "diameter", (20, 24), "hole", 6),
        F("CTR", "中心距", "centre distance", "distance", (140, 160), "sym", 0.05),
        F("PARA", "两孔平行度", "bore parallelism", "parallelism", (0, 0), "upper", 0.03),
        F("MASS", "质量", "mass", "mass", (500, 650), "sym", 6.0, unit="g", instrument="scale"),
    )),
    Family("HEAD", "缸盖", "cylinder head", (
        F("SEAT", "气门座圈孔", "valve seat bore", "diameter", (28, 34), "hole", 7, count=8),
        F("GUIDE", "导管孔位置度", "valve guide position", "position", (0, 0), "upper", 0.05, count=8),
        F("DECK", "底面平面度", "deck flatness", "flatness", (0, 0), "upper", 0.05),
        F("CAMBORE", "凸轮轴孔", "camshaft bore", "diameter", (24, 30), "hole", 6, count=5),
    )),
    Family("GEAR", "变速箱齿轮", "gearbox gear", (
        F("OBD", "跨棒距", "dimension over balls", "size", (60, 140), "sym", 0.04, count=2, criticality="critical"),
        F("BORE", "内孔直径", "bore diameter", "diameter", (30, 50), "hole", 6),
        F("FHA", "齿形斜率偏差", "profile slope deviation", "profile", (0, 0), "upper", 0.012, count=2,
          instrument="gear"),
        F("FHB", "螺旋线斜率偏差", "helix slope deviation", "profile", (0, 0), "upper", 0.014, count=2,
          instrument="gear"),
        F("FR", "齿圈径向跳动", "runout", "runout", (0, 0), "upper", 0.03, instrument="gear"),
        F("HRC", "表面硬度", "surface hardness", "hardness", (58, 64), "range", 0, unit="HRC", instrument="hard"),
    )),
    Family("GEARBOX", "变速箱总成", "gearbox assembly", (
        F("BACKLASH", "齿侧间隙", "backlash", "distance", (0.08, 0.12), "sym", 0.08, count=4, criticality="critical"),
        F("TORQ", "紧固扭矩", "bolt torque", "torque", (45, 55), "sym", 6.0, unit="N*m", count=6, instrument="torque"),
        F("PRELOAD", "轴承预紧力", "bearing preload", "force", (1800, 2400), "sym", 400, unit="N", count=2,
          instrument="force"),
    )),
    Family("ENGINE", "发动机总成", "engine assembly", (
        F("CRANK_EP", "曲轴轴向间隙", "crankshaft end play", "distance", (0.15, 0.20), "sym", 0.16,
          criticality="critical"),
        F("TORQ", "主轴承盖扭矩", "main cap torque", "torque", (90, 110), "sym", 10.0, unit="N*m", count=10,
          instrument="torque"),
        F("PROTR", "活塞凸出量", "piston protrusion", "distance", (0.3, 0.6), "sym", 0.1, count=4),
    )),
    Family("VALVE", "气门", "engine valve", (
        F("STEM", "杆部直径", "stem diameter", "diameter", (5.5, 7.0), "shaft", 6, criticality="critical"),
        F("LEN", "总长", "overall length", "length", (95, 110), "sym", 0.2),
        F("HEADD", "盘部直径", "head diameter", "diameter", (28, 36), "sym", 8),
        F("SEATRO", "密封锥面跳动", "seat runout", "runout", (0, 0), "upper", 0.02),
    )),
    Family("INRING", "轴承内圈", "bearing inner ring", (
        F("BORE", "内径", "bore diameter", "diameter", (25, 120), "shaft", 5, criticality="critical"),
        F("RACE", "沟道直径", "raceway diameter", "diameter", (35, 140), "sym", 6, count=2),
        F("WIDTH", "宽度", "width", "size", (15, 30), "shaft", 8),
        F("RUNOUT", "内圈径向跳动", "radial runout", "runout", (0, 0), "upper", 0.005, criticality="critical"),
        F("RND", "沟道圆度", "raceway roundness", "roundness", (0, 0), "upper", 0.003, count=2, instrument="form"),
        F("RA", "沟道粗糙度", "raceway roughness Ra", "roughness", (0, 0), "upper", 0.16, unit="µm", instrument="rough"),
        F("HRC", "硬度", "hardness", "hardness", (60, 64), "range", 0, unit="HRC", instrument="hard"),
    )),
    Family("OUTRING", "轴承外圈", "bearing outer ring", (
        F("OD", "外径", "outer diameter", "diameter", (52, 200), "shaft", 5, criticality="critical"),
        F("RACE", "沟道直径", "raceway diameter", "diameter", (40, 180), "sym", 6, count=2),
        F("WIDTH", "宽度", "width", "size", (15, 30), "shaft", 8),
        F("RND", "沟道圆度", "raceway roundness", "roundness", (0, 0), "upper", 0.003, count=2, instrument="form"),
        F("RA", "沟道粗糙度", "raceway roughness Ra", "roughness", (0, 0), "upper", 0.16, unit="µm", instrument="rough"),
    )),
    Family("BALL", "钢球", "steel ball", (
        F("DW", "球径", "ball diameter", "diameter", (6, 20), "sym", 0.002, criticality="critical", instrument="ball"),
        F("SPH", "球形误差", "deviation from spherical form", "roundness", (0, 0), "upper", 0.0008, instrument="form"),
        F("RA", "表面粗糙度", "surface roughness Ra", "roughness", (0, 0), "upper", 0.032, unit="µm", instrument="rough"),
    )),
    Family("CAGE", "保持架", "cage", (
        F("POCKET", "兜孔尺寸", "pocket size", "size", (6, 20), "hole", 9, count=3),
        F("OD", "外径", "outer diameter", "diameter", (40, 180), "shaft", 9),
    )),
    Family("BEARING", "成品轴承", "finished bearing", (
        F("KIA", "内圈径向跳动", "inner ring radial runout Kia", "runout", (0, 0), "upper", 0.005,
          criticality="critical"),
        F("KEA", "外圈径向跳动", "outer ring radial runout Kea", "runout", (0, 0), "upper", 0.007),
        F("CLR", "径向游隙", "radial internal clearance", "distance", (0.010, 0.020), "sym", 0.012,
          criticality="critical"),
        F("WIDTH", "总宽度", "assembled width", "size", (15, 30), "shaft", 8),
        F("VIB", "振动加速度", "vibration level", "other", (0, 0), "upper", 1.2, unit="m/s^2", instrument="vib"),
    )),
    Family("STEEL", "轴承钢棒材", "bearing steel bar", (
        F("OD", "直径", "bar diameter", "diameter", (30, 120), "sym", 11),
        F("HRC", "退火硬度", "annealed hardness", "hardness", (18, 24), "range", 0, unit="HRC", instrument="hard"),
    )),
)}


@dataclass(frozen=True)
class Role:
    """A kind of enterprise in a chain: how many, what they make, whom they supply."""

    code: str
    zh: str
    en: str
    count: int
    families: tuple[str, ...]
    supplies: tuple[str, ...] = ()  # role codes of customers (the BOM points from them to us)


CHAINS: dict[str, tuple[str, str, tuple[Role, ...]]] = {
    "aero_engine": ("航空发动机零部件", "aero-engine parts", (
        Role("AE-OEM", "航发总装厂", "aero-engine assembler", 2, ("ROTOR",)),
        Role("AE-BLD", "叶片厂", "blade maker", 5, ("BLADE",), ("AE-OEM",)),
        Role("AE-DSK", "轮盘厂", "disk maker", 3, ("DISK",), ("AE-OEM",)),
        Role("AE-SHF", "主轴厂", "shaft maker", 2, ("SHAFT",), ("AE-OEM",)),
        Role("AE-CAS", "机匣厂", "casing maker", 2, ("CASING",), ("AE-OEM",)),
        Role("AE-FRG", "锻造厂", "forge", 2, ("FORGING",), ("AE-DSK", "AE-SHF")),
        Role("AE-CTG", "涂层厂", "coating shop", 2, ("COATING",), ("AE-BLD",)),
    )),
    "powertrain": ("汽车动力总成", "automotive powertrain", (
        Role("PT-OEM", "发动机总装厂", "engine assembler", 2, ("ENGINE",)),
        Role("PT-GBX", "变速箱厂", "gearbox assembler", 2, ("GEARBOX",), ("PT-OEM",)),
        Role("PT-CRK", "曲轴厂", "crankshaft maker", 2, ("CRANK",), ("PT-OEM",)),
        Role("PT-CAM", "凸轮轴厂", "camshaft maker", 2, ("CAM",), ("PT-OEM",)),
        Role("PT-PST", "活塞连杆厂", "piston and rod maker", 3, ("PISTON", "CONROD"), ("PT-OEM",)),
        Role("PT-HD", "缸盖厂", "cylinder-head maker", 2, ("HEAD",), ("PT-OEM",)),
        Role("PT-VLV", "气门厂", "valve maker", 2, ("VALVE",), ("PT-HD",)),
        Role("PT-GR", "齿轮厂", "gear maker", 5, ("GEAR",), ("PT-GBX",)),
    )),
    "bearings": ("精密轴承", "precision bearings", (
        Role("BR-ASM", "轴承厂", "bearing maker", 3, ("BEARING",), ("AE-OEM", "PT-GBX")),
        Role("BR-RNG", "套圈厂", "ring maker", 5, ("INRING", "OUTRING"), ("BR-ASM",)),
        Role("BR-BAL", "钢球厂", "ball maker", 2, ("BALL",), ("BR-ASM",)),
        Role("BR-CAG", "保持架厂", "cage maker", 2, ("CAGE",), ("BR-ASM",)),
        Role("BR-STL", "特钢厂", "bearing-steel mill", 2, ("STEEL",), ("BR-RNG",)),
    )),
}

# Town names for fictional enterprise names (Harbin districts and Heilongjiang towns).
PLACES = ("松北", "平房", "香坊", "道里", "南岗", "呼兰", "阿城", "双城", "宾县", "五常", "尚志", "道外",
          "齐齐哈尔", "牡丹江", "佳木斯", "大庆", "鸡西", "鹤岗", "双鸭山", "伊春", "七台河", "黑河", "绥化",
          "北安", "海林", "宁安", "穆棱", "绥芬河", "虎林", "密山", "同江", "富锦", "抚远", "铁力", "讷河",
          "肇东", "安达", "海伦", "五大连池", "嫩江", "漠河", "加格达奇", "依兰", "方正", "木兰", "通河",
          "延寿", "巴彦", "兰西", "青冈", "庆安", "明水")

# Working instruments: code suffix -> (name zh, name en, quantity, unit, resolution, U (k=2) in unit).
INSTRUMENTS = {
    "cmm": ("三坐标测量机", "coordinate measuring machine", "length", "mm", 0.0001, 0.0025),
    "form": ("圆度仪", "roundness tester", "length", "mm", 0.00001, 0.0003),
    "ball": ("钢球比较仪", "ball comparator", "length", "mm", 0.00001, 0.0002),
    "rough": ("粗糙度仪", "roughness tester", "roughness", "µm", 0.001, 0.02),
    "hard": ("洛氏硬度计", "Rockwell hardness tester", "hardness", "HRC", 0.1, 0.6),
    "scale": ("电子天平", "electronic balance", "mass", "g", 0.01, 0.05),
    "torque": ("扭矩扳手检测仪", "torque analyser", "torque", "N*m", 0.01, 0.4),
    "force": ("力传感器", "load cell", "force", "N", 0.1, 8.0),
    "gear": ("齿轮测量中心", "gear measuring centre", "length", "mm", 0.0001, 0.0015),
    "thick": ("涂层测厚仪", "coating thickness gauge", "length", "mm", 0.001, 0.004),
    "bal": ("动平衡机", "balancing machine", "unbalance", "g*mm", 0.01, 0.2),
    "vib": ("轴承振动测量仪", "bearing vibration tester", "acceleration", "m/s^2", 0.001, 0.05),
}

# Quantity -> (lab standard zh, en, unit, U (k=2)); provincial and national standards by quantity.
STANDARDS = {
    "length": ("量块组", "gauge block set", "mm", 0.00006),
    "roughness": ("粗糙度样板", "roughness specimen set", "µm", 0.008),
    "hardness": ("标准硬度块", "hardness reference blocks", "HRC", 0.3),
    "mass": ("E2 级砝码组", "class E2 weight set", "g", 0.0003),
    "torque": ("标准扭矩仪", "reference torque transducer", "N*m", 0.05),
    "force": ("标准测力仪", "reference force proving instrument", "N", 1.0),
    "unbalance": ("校验转子", "proving rotor", "g*mm", 0.05),
    "acceleration": ("标准加速度计", "reference accelerometer", "m/s^2", 0.01),
}
NATIONAL = {
    "length": ("碘稳频激光波长基准", "iodine-stabilised laser wavelength standard"),
    "roughness": ("表面粗糙度基准", "surface texture standard"),
    "hardness": ("洛氏硬度基准机", "Rockwell hardness primary machine"),
    "mass": ("千克基准（基布尔秤）", "kilogram realisation (Kibble balance)"),
    "torque": ("扭矩基准机", "torque standard machine"),
    "force": ("力基准机", "force standard machine"),
    "unbalance": ("质量与长度基准组合", "mass and length standards"),
    "acceleration": ("振动加速度基准", "primary vibration standard"),
}
