//! Pinyin order (汉语拼音排序) and type-to-find keys of Chinese names: the countries,
//! missions and ports are offered in the order of the pinyin of their names, and each option
//! carries its pinyin initials and full pinyin so that `static/find.js` can find "美国" by
//! "mg", "meiguo", "美国" or "USA".
//!
//! Computed from the name (the `pinyin` crate's table of readings), not stored: an entry an
//! administrator adds or renames sorts right at once, and databases seeded before keep their
//! ids and rows. Characters whose first dictionary reading is not the one used in place names
//! are corrected by [`READINGS`].

use std::cmp::Ordering;

use pinyin::ToPinyin;

/// Readings (plain pinyin, tone) used in the names of the reference lists where the
/// dictionary's first reading is another: 长沙 cháng, 重庆 chóng, 厦门 xià, 喀什 shí, 成都 dū,
/// 柏林 bó, 西藏 zàng.
const READINGS: &[(char, &str, u8)] = &[
    ('长', "chang", 2),
    ('重', "chong", 2),
    ('厦', "xia", 4),
    ('什', "shi", 2),
    ('都', "du", 1),
    ('柏', "bo", 2),
    ('藏', "zang", 4),
];

/// One character of a name as it sorts: its plain pinyin (the lowercased character itself
/// when it is not a Chinese character), its tone (0 for none), and the character.
struct Syllable {
    plain: String,
    tone: u8,
    ch: char,
}

fn syllables(name: &str) -> Vec<Syllable> {
    name.chars()
        .zip(name.to_pinyin())
        .map(|(ch, p)| {
            if let Some((_, plain, tone)) = READINGS.iter().find(|(c, _, _)| *c == ch) {
                return Syllable {
                    plain: (*plain).to_string(),
                    tone: *tone,
                    ch,
                };
            }
            match p {
                Some(p) => {
                    let numbered = p.with_tone_num_end();
                    let tone = numbered
                        .chars()
                        .last()
                        .and_then(|c| c.to_digit(10))
                        .and_then(|d| u8::try_from(d).ok())
                        .unwrap_or(0);
                    Syllable {
                        plain: p.plain().to_string(),
                        tone,
                        ch,
                    }
                }
                None => Syllable {
                    plain: ch.to_lowercase().collect(),
                    tone: 0,
                    ch,
                },
            }
        })
        .collect()
}

/// The sort key of a name: compare two with `Ord` — the syllables (each with its tone) of the
/// whole name first, then the characters (密克罗尼西亚 mì kè… before 秘鲁 mì lǔ).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(Vec<(String, u8)>, Vec<char>);

pub fn key(name: &str) -> Key {
    let s = syllables(name);
    Key(
        s.iter().map(|x| (x.plain.clone(), x.tone)).collect(),
        s.iter().map(|x| x.ch).collect(),
    )
}

/// Compares two names in pinyin order.
pub fn cmp(a: &str, b: &str) -> Ordering {
    key(a).cmp(&key(b))
}

/// Sorts items in pinyin order of the name `name` gives (each key computed once).
pub fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> &str) {
    items.sort_by_cached_key(|t| key(name(t)));
}

/// The pinyin initials of a name, lowercase (`美国` → `mg`); letters and digits that are not
/// Chinese characters are kept, other signs left out.
pub fn initials(name: &str) -> String {
    syllables(name)
        .iter()
        .filter_map(|s| s.plain.chars().next())
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The full pinyin of a name without tones or spaces (`美国` → `meiguo`), signs left out.
pub fn full(name: &str) -> String {
    syllables(name)
        .iter()
        .flat_map(|s| s.plain.chars())
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// What type-to-find matches an option by, besides its label: the initials and the full
/// pinyin of each name given, and the codes (lowercased), separated by spaces.
pub fn find_keys(names: &[&str], codes: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        for k in [initials(n), full(n)] {
            if !k.is_empty() && !out.contains(&k) {
                out.push(k);
            }
        }
    }
    for c in codes {
        let c = c.to_lowercase();
        if !c.is_empty() && !out.contains(&c) {
            out.push(c);
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_full_pinyin() {
        assert_eq!(initials("美国"), "mg");
        assert_eq!(full("美国"), "meiguo");
        assert_eq!(initials("刚果（金）"), "ggj");
        assert_eq!(full("重庆江北国际机场"), "chongqingjiangbeiguojijichang");
        assert_eq!(initials("长沙黄花国际机场"), "cshhgjjc");
        assert_eq!(full("厦门港"), "xiamengang");
        assert_eq!(full("喀什徕宁国际机场"), "kashilainingguojijichang");
        assert_eq!(find_keys(&["美国"], &["USA", "US"]), "mg meiguo usa us");
    }

    #[test]
    fn dictionary_order() {
        let mut names = vec![
            "中国",
            "阿富汗",
            "美国",
            "巴西",
            "澳大利亚",
            "阿联酋",
            "埃及",
        ];
        sort_by_name(&mut names, |n| n);
        assert_eq!(
            names,
            [
                "阿富汗",
                "阿联酋",
                "埃及",
                "澳大利亚",
                "巴西",
                "美国",
                "中国"
            ]
        );
        // Syllable by syllable: 西安 (xi an) before 仙 (xian).
        assert_eq!(cmp("西安", "仙"), Ordering::Less);
        // Tones: 马 (ma3) before 骂 (ma4).
        assert_eq!(cmp("马", "骂"), Ordering::Less);
        // The pinyin of the whole name before the characters.
        assert_eq!(cmp("密克罗尼西亚", "秘鲁"), Ordering::Less);
        assert_eq!(cmp("秘鲁", "密西西比"), Ordering::Less);
    }
}
