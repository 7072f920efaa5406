//! Line breaking and fitting of text into a box: Chinese may break between any two characters
//! (but never before closing punctuation or after opening punctuation), Latin words break at
//! spaces, hyphens and slashes, and only when a word alone is too long, inside it. Widths are in
//! ems, given per character by the font, so one measurement serves every font size tried.

use std::ops::Range;

/// The line height as a multiple of the font size.
pub(crate) const LINE_HEIGHT: f32 = 1.2;

/// Text fitted into a box: the font size and the lines, each no wider than the box.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    pub(crate) size: f32,
    pub(crate) lines: Vec<String>,
}

/// Characters that must not start a line.
fn is_closing(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '》'
            | '」'
            | '』'
            | '】'
            | '〕'
            | '”'
            | '’'
            | '…'
            | '·'
            | '%'
            | ','
            | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | ')'
            | ']'
            | '}'
    )
}

/// Characters that must not end a line.
fn is_opening(c: char) -> bool {
    matches!(
        c,
        '（' | '《' | '「' | '『' | '【' | '〔' | '“' | '‘' | '(' | '[' | '{'
    )
}

/// Characters set one per em box, between any two of which a line may break: CJK ideographs and
/// punctuation, kana, Hangul, full-width forms.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Whether a line may break between `a` and `b`.
fn can_break(a: char, b: char) -> bool {
    if is_closing(b) || is_opening(a) {
        return false;
    }
    if a == ' ' || b == ' ' {
        return a == ' ' && b != ' ';
    }
    // After the hyphen of "Jean-Baptiste" or a slash, but not inside "1971-01-11".
    if matches!(a, '-' | '–' | '—' | '/') && b.is_alphabetic() {
        return true;
    }
    // Inside a Latin word or a number (with or without diacritics) there is no break.
    is_wide(a) || is_wide(b)
}

/// Makes one-line text of `raw`: control characters become spaces, runs of spaces one space.
pub(crate) fn clean(raw: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        let c = match c {
            '\n' if keep_newlines => '\n',
            '\r' => continue,
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' && (out.ends_with(' ') || out.ends_with('\n')) {
            continue;
        }
        if c == '\n' && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out
}

/// Breaks `chars` (character, advance in ems) into lines of at most `max` ems. Returns ranges of
/// character indices, without the spaces at line ends, and whether a word had to be split.
pub(crate) fn wrap(chars: &[(char, f32)], max: f32) -> (Vec<Range<usize>>, bool) {
    let n = chars.len();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut width = 0.0f32;
    let mut last_break: Option<usize> = None;
    let mut forced = false;
    let mut i = 0;
    while i < n {
        let (c, w) = chars[i];
        if c == '\n' {
            lines.push(trim(chars, start..i));
            start = i + 1;
            width = 0.0;
            last_break = None;
            i += 1;
            continue;
        }
        if c != ' ' && i > start && width + w > max {
            let brk = match last_break {
                Some(b) if b > start && b <= i => b,
                _ => {
                    forced = true;
                    i
                }
            };
            lines.push(trim(chars, start..brk));
            start = brk;
            while start < n && chars[start].0 == ' ' {
                start += 1;
            }
            i = i.max(start);
            width = chars[start..i].iter().map(|&(_, w)| w).sum();
            last_break = (start + 1..i)
                .rev()
                .find(|&k| can_break(chars[k - 1].0, chars[k].0));
            continue;
        }
        width += w;
        if i + 1 < n && can_break(c, chars[i + 1].0) {
            last_break = Some(i + 1);
        }
        i += 1;
    }
    if start < n || lines.is_empty() {
        lines.push(trim(chars, start..n));
    }
    (lines, forced)
}

fn trim(chars: &[(char, f32)], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && chars[r.start].0 == ' ' {
        r.start += 1;
    }
    while r.end > r.start && chars[r.end - 1].0 == ' ' {
        r.end -= 1;
    }
    r
}

fn width_of(chars: &[(char, f32)], r: &Range<usize>) -> f32 {
    chars[r.clone()].iter().map(|&(_, w)| w).sum()
}

fn text_of(chars: &[(char, f32)], r: &Range<usize>) -> String {
    chars[r.clone()].iter().map(|&(c, _)| c).collect()
}

/// The height `lines` lines of text of `size` take (the last line counts one em).
pub(crate) fn block_height(lines: usize, size: f32) -> f32 {
    if lines == 0 {
        0.0
    } else {
        size + (lines - 1) as f32 * size * LINE_HEIGHT
    }
}

/// Fits text into a `w` × `h` box: the largest size from `max_size` down to `min_size` (in steps
/// of a quarter point) at which the wrapped lines fit both ways, preferring any size at which no
/// word (or number, or date) is split over one at which one is. When even `min_size` is too big,
/// keeps the lines that fit and ends the last with "…". `advance` gives a character's width in
/// ems.
pub(crate) fn fit(
    text: &str,
    w: f32,
    h: f32,
    max_size: f32,
    min_size: f32,
    advance: &dyn Fn(char) -> f32,
) -> Fitted {
    let chars: Vec<(char, f32)> = text.chars().map(|c| (c, advance(c))).collect();
    if chars.is_empty() || w <= 0.0 || h <= 0.0 {
        return Fitted {
            size: max_size,
            lines: Vec::new(),
        };
    }
    let min_size = min_size.min(max_size);
    let steps = ((max_size - min_size) / 0.25 + 1e-3).floor() as usize;
    let fits = |lines: &[Range<usize>], size: f32| {
        let max_em = w / size;
        block_height(lines.len(), size) <= h + 0.01
            && lines.iter().all(|r| width_of(&chars, r) <= max_em + 1e-4)
    };
    for allow_split in [false, true] {
        for step in 0..=steps {
            let size = max_size - step as f32 * 0.25;
            let (lines, forced) = wrap(&chars, w / size);
            if (allow_split || !forced) && fits(&lines, size) {
                return Fitted {
                    size,
                    lines: lines.iter().map(|r| text_of(&chars, r)).collect(),
                };
            }
        }
    }
    let size = max_size - steps as f32 * 0.25;
    let (lines, _) = wrap(&chars, w / size);
    truncate(&chars, lines, size, w, h, advance)
}

/// The last resort at the smallest size: as many lines as fit, the last ending with "…", each
/// cut to the width.
fn truncate(
    chars: &[(char, f32)],
    lines: Vec<Range<usize>>,
    size: f32,
    w: f32,
    h: f32,
    advance: &dyn Fn(char) -> f32,
) -> Fitted {
    let max_em = w / size;
    let mut keep = 1;
    while keep < lines.len() && block_height(keep + 1, size) <= h + 0.01 {
        keep += 1;
    }
    let cut = keep < lines.len();
    let ellipsis = advance('…');
    let mut out = Vec::with_capacity(keep);
    for (k, r) in lines.into_iter().take(keep).enumerate() {
        let last = k + 1 == keep;
        let budget = if last && cut {
            max_em - ellipsis
        } else {
            max_em
        };
        let mut end = r.start;
        let mut acc = 0.0;
        while end < r.end && acc + chars[end].1 <= budget + 1e-4 {
            acc += chars[end].1;
            end += 1;
        }
        let mut line = text_of(chars, &(r.start..end));
        if end < r.end || (last && cut) {
            if end < r.end && !(last && cut) {
                // The line itself was too wide: cut it to leave room for the ellipsis.
                while end > r.start && acc + ellipsis > max_em + 1e-4 {
                    end -= 1;
                    acc -= chars[end].1;
                }
                line = text_of(chars, &(r.start..end));
            }
            line = line.trim_end().to_string();
            line.push('…');
        }
        out.push(line);
    }
    Fitted { size, lines: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CJK one em, ASCII half an em.
    fn adv(c: char) -> f32 {
        if c.is_ascii() {
            0.5
        } else {
            1.0
        }
    }

    fn lines(text: &str, max: f32) -> Vec<String> {
        let chars: Vec<(char, f32)> = text.chars().map(|c| (c, adv(c))).collect();
        wrap(&chars, max)
            .0
            .iter()
            .map(|r| text_of(&chars, r))
            .collect()
    }

    #[test]
    fn chinese_breaks_anywhere_but_not_before_punctuation() {
        assert_eq!(lines("一二三四五六", 4.0), vec!["一二三四", "五六"]);
        assert_eq!(lines("一二三，四五六", 3.0), vec!["一二", "三，四", "五六"]);
        assert_eq!(lines("一二《三四》", 3.0), vec!["一二", "《三", "四》"]);
    }

    #[test]
    fn latin_breaks_at_spaces_and_splits_only_overlong_words() {
        assert_eq!(
            lines("Jean-Baptiste de la Fontaine", 5.0),
            vec!["Jean-", "Baptiste", "de la", "Fontaine"]
        );
        assert_eq!(lines("ABCDEFGHIJ", 2.0), vec!["ABCD", "EFGH", "IJ"]);
        assert_eq!(
            lines("María de los Ángeles", 4.0),
            vec!["María", "de los", "Ángeles"]
        );
        assert_eq!(lines("1971-01-11 x", 3.0), vec!["1971-0", "1-11 x"]);
        assert_eq!(lines("a\nb", 8.0), vec!["a", "b"]);
        assert_eq!(lines("", 8.0), vec![""]);
    }

    #[test]
    fn fit_shrinks_then_wraps_then_truncates_never_overflowing() {
        let f = fit("一二三四五", 50.0, 12.0, 10.0, 6.0, &adv);
        assert_eq!(f.lines, vec!["一二三四五"]);
        assert_eq!(f.size, 10.0);
        let f = fit("一二三四五六", 50.0, 12.0, 10.0, 6.0, &adv);
        assert_eq!(f.lines.len(), 1);
        assert!(f.size <= 50.0 / 6.0);
        let f = fit("一二三四五六七八九十一二", 50.0, 20.0, 10.0, 6.0, &adv);
        assert_eq!(f.lines.len(), 2);
        // A date shrinks rather than breaks.
        let f = fit("1971-01-11", 20.0, 20.0, 10.0, 3.0, &adv);
        assert_eq!(f.lines, vec!["1971-01-11"]);
        assert_eq!(f.size, 4.0);
        let long = "很长的文字".repeat(40);
        let f = fit(&long, 50.0, 20.0, 10.0, 6.0, &adv);
        assert_eq!(f.size, 6.0);
        assert!(block_height(f.lines.len(), f.size) <= 20.0);
        assert!(f.lines.last().unwrap_or(&String::new()).ends_with('…'));
        for l in &f.lines {
            let w: f32 = l.chars().map(adv).sum::<f32>() * f.size;
            assert!(w <= 50.0 + 0.01, "{l} {w}");
        }
    }

    #[test]
    fn clean_flattens_control_characters() {
        assert_eq!(clean("  a\t\tb\r\nc  ", false), "a b c");
        assert_eq!(clean("a \n b", true), "a\nb");
    }
}
