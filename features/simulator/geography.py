"""Provinces → counties → townships → villages, each village with its own economy.

Sizes follow a survey sample's scale: ~60 sampled households a village, 5 villages a township, 6 townships a
county (~1,800 households a county). Names are synthetic (no real place is implied).
"""

from __future__ import annotations

import numpy as np

PROVINCES = ("甘肃", "贵州", "云南", "四川", "宁夏", "青海")
_A = "安宝昌长大德东丰福富广和河红华吉嘉江金景康乐利临龙隆明南宁平青庆仁瑞山胜石顺泰天武西祥新兴阳永玉泽"
_B = "坝北川岭峰沟谷关河湖花江口林岭龙坪桥泉山石水松台潭塘田湾溪峡乡岩阳源寨洲坡岗岔垭营屯铺堡庄"

HOUSEHOLDS_PER_VILLAGE = 60
VILLAGES_PER_TOWNSHIP = 5
TOWNSHIPS_PER_COUNTY = 6

# Village industries: value of a mu's gross output (2021 yuan), kitchen garden and forest products included.
# Grain ~1,200 yuan/mu (NBS cost-benefit survey of the three grains, 2021); cash crops (tea, fruit,
# vegetables) 3,000-4,000.
INDUSTRY_VALUE_PER_MU = np.array([2800.0, 6000.0, 3000.0, 2700.0])  # grain, cash crop, livestock hub, labour export


def _name(i: np.ndarray, suffix: str) -> np.ndarray:
    """Unique synthetic names from an index (two or three characters plus a suffix)."""
    a, b = np.array(list(_A)), np.array(list(_B))
    n = len(a) * len(b)
    first = a[i % len(a)]
    second = b[(i // len(a)) % len(b)]
    third = np.where(i >= n, a[(i // n) % len(a)], "")
    return np.char.add(np.char.add(np.char.add(first, second), third), suffix).astype(object)


def build(n_households: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Village arrays: county/township/province ids and names, wage level, remoteness, disaster proneness,
    industry, collective dividend, eco-compensation and the survey schedule offset."""
    nv = max(2, -(-n_households // HOUSEHOLDS_PER_VILLAGE))
    v = np.arange(nv)
    township = v // VILLAGES_PER_TOWNSHIP
    county = township // TOWNSHIPS_PER_COUNTY
    nc = int(county.max()) + 1
    province = county * min(len(PROVINCES), max(1, -(-nc // 20))) // nc
    county_wage = rng.lognormal(0.0, 0.12, nc)
    remote = rng.lognormal(1.0, 0.8, nv)  # km to a main road
    return {
        "county": county, "township": township, "province": province,
        "province_name": np.array(PROVINCES, dtype=object)[province],
        "county_name": _name(county * 7 + 3, "县"),
        "township_name": _name(township * 3 + 1, np.where(township % 3 == 0, "乡", "镇")),
        "village_name": _name(v, "村"),
        "wage_level": county_wage[county] * rng.lognormal(0.0, 0.06, nv) * np.exp(-0.04 * np.log1p(remote)),
        "remote_km": remote,
        # Share of years with a damaging flood, drought, hail or landslide: ~5-20%, more in remote hills.
        "disaster_p": np.clip(rng.beta(2.0, 22.0, nv) * (1 + 0.25 * np.log1p(remote)), 0.01, 0.35),
        "industry": rng.choice(4, nv, p=[0.45, 0.25, 0.15, 0.15]),
        # 资产收益扶贫: collective PV/industry projects pay escaped households a dividend (300-1,200 yuan).
        "dividend": np.where(rng.random(nv) < 0.6, rng.uniform(300, 1200, nv), 0.0),
        # 生态补偿: forest and grassland compensation per household (0-1,500 yuan).
        "eco": rng.uniform(0, 1, nv) ** 2 * 1500,
        "land_factor": rng.lognormal(0.0, 0.35, nv),
        "survey_offset": rng.integers(0, 36, nv),  # days after the round's start: villages surveyed in turn
    }
