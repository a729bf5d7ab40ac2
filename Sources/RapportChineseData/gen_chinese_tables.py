#!/usr/bin/env python3
"""Generate Sources/RapportChineseData/ChineseTables.swift from pypinyin and OpenCC data.

Built with:
    pypinyin                     0.55.0   (pip install pypinyin==0.55.0)
    opencc-python-reimplemented  0.1.7    (pip install opencc-python-reimplemented==0.1.7)
The versions that actually ran are also written into the header of the generated file.

Usage (from the repository root):
    python3 Sources/RapportChineseData/gen_chinese_tables.py                 # writes Sources/RapportChineseData/ChineseTables.swift
    python3 Sources/RapportChineseData/gen_chinese_tables.py --out FILE      # writes somewhere else
    python3 Sources/RapportChineseData/gen_chinese_tables.py --check         # exit 1 if the checked-in file is stale

What goes in (three tables, each ONE multi-line string literal that ChineseText.swift parses lazily,
because a Swift dictionary literal with thousands of entries takes the type checker minutes):

1. traditionalToSimplified: one line per character, "<traditional><simplified>" (two scalars, no separator).
   Source: OpenCC's t2s character dictionary (TSCharacters.txt); phrase entries (TSPhrases.txt) are not used.
   Where a character has several simplified candidates the first is taken (so 乾 → 干, as OpenCC's
   character dictionary does); identity entries are dropped. In addition, the Taiwan and Hong Kong variant
   forms that OpenCC's tw2s/hk2s chains first normalise (TWVariantsRev.txt, HKVariantsRev.txt: 衞 → 衛 → 卫)
   are added when TSCharacters has no entry for them, mapped through TSCharacters.
2. pinyin: one line per character, "<char><reading>[,<reading>...]": toneless lowercase pinyin with ü
   written as "v" (lv, nv) and ê as "e"; the most common reading first (pypinyin's order) and at most 3
   alternatives. Covered: every character in CJK Unified Ideographs U+4E00–U+9FFF and Extension A
   U+3400–U+4DBF that pypinyin has a reading for, plus the characters outside those blocks that appear
   on either side of the t2s table (OpenCC's simplified forms in Extensions B–H, e.g. 𫖯 for 頫) when
   pypinyin knows them. pypinyin 0.55 has no frequency or 通用规范汉字表 list, so the whole blocks are
   taken rather than the 8105 common characters.
3. surnames: one line per surname, "<surname>\\t<syllable> <syllable>": the reading of a surname where it
   differs from the character's common reading (单 shan, 曾 zeng, 解 xie, ...) and the two-character
   compound surnames (欧阳 ouyang, 尉迟 yuchi, 万俟 moqi, ...). pypinyin 0.55 has no surname mode and no
   SURNAMES dict, so the list is curated below; every syllable is checked against pypinyin's readings
   for that character (and against pypinyin's phrase dictionary where it has the compound) and the
   script fails if one is not among them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys

import opencc  # noqa: F401  (imported to locate its dictionary files)
from pypinyin import phrases_dict, pinyin_dict
from pypinyin.contrib.tone_convert import to_normal

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "Sources", "RapportChineseData", "ChineseTables.swift")
OPENCC_DICT = os.path.join(os.path.dirname(opencc.__file__), "dictionary")

# Blocks whose every character pypinyin knows is stored (ChineseText.swift keeps these in a flat array).
DENSE_BLOCKS = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF)]
MAX_READINGS = 4  # the common reading plus up to 3 alternatives

# Surname readings that differ from the character's common (first) pypinyin reading.
# Sources: 《百家姓》 and the usual lists of 多音字姓氏 (e.g. the 现代汉语词典 entries marked 姓).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
    "乐": "yue", "盖": "ge", "繁": "po", "覃": "qin", "翟": "zhai", "种": "chong", "秘": "bi",
    "召": "shao", "缪": "miao", "能": "nai", "阚": "kan", "祭": "zhai", "粘": "nian", "便": "pian",
    "薄": "bo", "重": "chong", "长": "chang", "都": "du", "句": "gou", "员": "yun", "郇": "xun",
    "隗": "wei", "洗": "xian", "蔚": "yu", "折": "she", "角": "jue", "乜": "nie", "佴": "nai",
    "藏": "zang", "蕃": "pi",
}

# Two-character compound surnames, kept together as the surname of a name ("欧阳娜娜" → ouyang + nana).
# Only unambiguous ones: pairs whose second character commonly starts a given name (宗政, 段干, 谷梁, 子车)
# are left out so that 宗 + 政明 is not misread.
COMPOUND_SURNAMES = {
    "欧阳": "ou yang", "司马": "si ma", "诸葛": "zhu ge", "上官": "shang guan", "尉迟": "yu chi",
    "东方": "dong fang", "慕容": "mu rong", "夏侯": "xia hou", "皇甫": "huang fu", "令狐": "ling hu",
    "公孙": "gong sun", "长孙": "zhang sun", "宇文": "yu wen", "司徒": "si tu", "司空": "si kong",
    "端木": "duan mu", "轩辕": "xuan yuan", "澹台": "tan tai", "万俟": "mo qi", "单于": "chan yu",
    "南宫": "nan gong", "西门": "xi men", "呼延": "hu yan", "闻人": "wen ren", "赫连": "he lian",
    "申屠": "shen tu", "公羊": "gong yang", "太叔": "tai shu", "钟离": "zhong li", "濮阳": "pu yang",
    "淳于": "chun yu", "仲孙": "zhong sun", "羊舌": "yang she", "微生": "wei sheng", "梁丘": "liang qiu",
    "左丘": "zuo qiu", "东郭": "dong guo", "拓跋": "tuo ba", "公冶": "gong ye", "乐正": "yue zheng",
    "第五": "di wu", "亓官": "qi guan", "巫马": "wu ma", "漆雕": "qi diao", "公西": "gong xi",
    "颛孙": "zhuan sun", "司寇": "si kou", "鲜于": "xian yu", "闾丘": "lv qiu", "独孤": "du gu",
    "完颜": "wan yan", "百里": "bai li", "东门": "dong men", "公良": "gong liang", "归海": "gui hai",
}


def toneless(reading: str) -> str:
    """pypinyin reading with tone marks → toneless lowercase ASCII, ü as v, ê as e."""
    plain = to_normal(reading, v_to_u=False).replace("ê", "e").lower()
    if not (plain.isascii() and plain.isalpha()):
        raise ValueError(f"cannot make ASCII pinyin from {reading!r} → {plain!r}")
    return plain


def readings_of(code: int) -> list[str]:
    raw = pinyin_dict.pinyin_dict.get(code)
    if not raw:
        return []
    out: list[str] = []
    for r in raw.split(","):
        p = toneless(r)
        if p not in out:
            out.append(p)
    return out[:MAX_READINGS]


def read_opencc(name: str) -> list[tuple[str, list[str]]]:
    rows = []
    with open(os.path.join(OPENCC_DICT, name), encoding="utf-8") as fp:
        for line in fp:
            line = line.rstrip("\n")
            if not line:
                continue
            key, values = line.split("\t")
            rows.append((key, values.split(" ")))
    return rows


def build_t2s() -> dict[str, str]:
    t2s: dict[str, str] = {}
    for key, values in read_opencc("TSCharacters.txt"):
        if len(key) != 1 or len(values[0]) != 1:
            continue  # phrase entry: not a character mapping
        if values[0] != key:
            t2s[key] = values[0]
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        for key, values in read_opencc(name):
            if len(key) != 1 or len(values[0]) != 1 or key in t2s:
                continue
            target = t2s.get(values[0], values[0])
            if target != key:
                t2s[key] = target
    return t2s


def build_pinyin(t2s: dict[str, str]) -> dict[int, list[str]]:
    table: dict[int, list[str]] = {}
    for lo, hi in DENSE_BLOCKS:
        for code in range(lo, hi + 1):
            r = readings_of(code)
            if r:
                table[code] = r
    for ch in set(t2s) | set(t2s.values()):
        code = ord(ch)
        if code not in table:
            r = readings_of(code)
            if r:
                table[code] = r
    return table


def check_surnames() -> None:
    problems = []
    for ch, syl in SURNAME_READINGS.items():
        rs = readings_of(ord(ch))
        if syl not in rs:
            problems.append(f"{ch} {syl}: pypinyin has {rs}")
        elif rs[0] == syl:
            problems.append(f"{ch} {syl}: already the common reading, entry is redundant")
    for word, syls in COMPOUND_SURNAMES.items():
        parts = syls.split(" ")
        if len(word) != 2 or len(parts) != 2:
            problems.append(f"{word}: need two characters and two syllables")
            continue
        for ch, syl in zip(word, parts):
            if syl not in readings_of(ord(ch)):
                problems.append(f"{word} {syls}: {ch} has no reading {syl} ({readings_of(ord(ch))})")
        phrase = phrases_dict.phrases_dict.get(word)
        if phrase:
            expected = [toneless(p[0]) for p in phrase]
            if expected != parts:
                problems.append(f"{word} {syls}: pypinyin's phrase dictionary says {expected}")
    if problems:
        raise SystemExit("surname table does not agree with pypinyin:\n  " + "\n  ".join(problems))


def swift_literal_lines(lines: list[str]) -> str:
    for line in lines:
        if "\\" in line or '"' in line or "\n" in line:
            raise ValueError(f"line would need escaping: {line!r}")
    return "\n".join(lines)


def render() -> tuple[str, dict[str, int]]:
    check_surnames()
    t2s = build_t2s()
    pinyin = build_pinyin(t2s)

    t2s_lines = [k + v for k, v in sorted(t2s.items(), key=lambda kv: ord(kv[0]))]
    pinyin_lines = [chr(c) + ",".join(r) for c, r in sorted(pinyin.items())]
    surname_lines = [f"{k}\t{v}" for k, v in sorted(SURNAME_READINGS.items(), key=lambda kv: ord(kv[0]))]
    surname_lines += [f"{k}\t{v}" for k, v in sorted(COMPOUND_SURNAMES.items())]

    Q = '"""'
    t2s_text = swift_literal_lines(t2s_lines)
    pinyin_text = swift_literal_lines(pinyin_lines)
    surname_text = swift_literal_lines(surname_lines)
    versions = {name: importlib.metadata.version(name) for name in ("pypinyin", "opencc-python-reimplemented")}
    v_pinyin = versions["pypinyin"]
    v_opencc = versions["opencc-python-reimplemented"]
    polyphones = sum(1 for r in pinyin.values() if len(r) > 1)
    syllables = sorted({s for r in pinyin.values() for s in r})
    stats = {
        "t2s": len(t2s), "pinyin": len(pinyin), "polyphones": polyphones, "syllables": len(syllables),
        "surnames": len(SURNAME_READINGS), "compounds": len(COMPOUND_SURNAMES),
    }
    header = f"""\
// GENERATED FILE: do not edit. Regenerate with `python3 Sources/RapportChineseData/gen_chinese_tables.py`.
// Sources: pypinyin {v_pinyin} (pinyin_dict), opencc-python-reimplemented {v_opencc}
// (TSCharacters, TWVariantsRev, HKVariantsRev).
// {len(t2s)} traditional→simplified characters, {len(pinyin)} characters with pinyin ({polyphones} with
// several readings, {len(syllables)} distinct toneless syllables), {len(SURNAME_READINGS)} surname readings,
// {len(COMPOUND_SURNAMES)} compound surnames. Each table is one string literal that ``ChineseText`` parses
// once, lazily: a dictionary literal this size would take the type checker minutes.

/// Raw data behind ``ChineseText``, generated from pypinyin and OpenCC.
public enum ChineseTables {{
    /// Version of the generator's sources, for diagnostics.
    public static let sources = "pypinyin {v_pinyin}, opencc-python-reimplemented {v_opencc}"

    /// Traditional → simplified: one line per character, the traditional scalar then the simplified one.
    public static let traditionalToSimplified = {Q}
{t2s_text}
{Q}

    /// Toneless pinyin: one line per character, the character then its readings separated by ",",
    /// the most common first (at most {MAX_READINGS}); "ü" is written "v".
    public static let pinyin = {Q}
{pinyin_text}
{Q}

    /// Surname readings that differ from the common reading, and compound surnames: one line each,
    /// the surname, a tab, then one syllable per character separated by spaces.
    public static let surnames = {Q}
{surname_text}
{Q}
}}
"""
    return header, stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args()
    text, stats = render()
    data = text.encode("utf-8")
    if args.check:
        try:
            with open(args.out, "rb") as fp:
                same = fp.read() == data
        except FileNotFoundError:
            same = False
        print(("up to date: " if same else "STALE: ") + args.out)
        return 0 if same else 1
    with open(args.out, "wb") as fp:
        fp.write(data)
    print(f"wrote {args.out}: {len(data)} bytes; " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
