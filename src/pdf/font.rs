//! A small, read-only OpenType reader: just enough to pick the Simplified Chinese face of a font
//! collection, map characters to glyphs and measure advances, so that the form can be laid out
//! (wrapped, shrunk) before krilla draws it. Every read is bounds-checked: a malformed file gives
//! `None`, never a panic.

use std::sync::Arc;

fn u16_at(d: &[u8], o: usize) -> Option<u16> {
    let b = d.get(o..o.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], o: usize) -> Option<u32> {
    let b = d.get(o..o.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Offsets of the table directories of the faces in a font file (one for a plain .ttf/.otf).
pub(crate) fn face_offsets(data: &[u8]) -> Vec<usize> {
    if data.get(0..4) == Some(b"ttcf") {
        let n = u32_at(data, 8).unwrap_or(0).min(256) as usize;
        (0..n)
            .filter_map(|i| u32_at(data, 12 + 4 * i).map(|o| o as usize))
            .collect()
    } else {
        match u32_at(data, 0) {
            Some(0x0001_0000) | Some(0x4F54_544F) | Some(0x7472_7565) => vec![0],
            _ => Vec::new(),
        }
    }
}

/// Where a table starts and how long it is.
fn find_table(data: &[u8], face: usize, tag: &[u8; 4]) -> Option<(usize, usize)> {
    let n = u16_at(data, face + 4)? as usize;
    for i in 0..n {
        let rec = face + 12 + 16 * i;
        if data.get(rec..rec + 4)? == tag {
            let off = u32_at(data, rec + 8)? as usize;
            let len = u32_at(data, rec + 12)? as usize;
            data.get(off..off.checked_add(len)?)?;
            return Some((off, len));
        }
    }
    None
}

#[derive(Debug, Clone, Copy)]
enum CmapKind {
    /// Segmented 16-bit mapping: offset of the subtable.
    Format4(usize),
    /// Segmented coverage (full Unicode): offset of the subtable.
    Format12(usize),
}

/// The metrics of one face of a font file, reading straight from the shared bytes.
#[derive(Clone)]
pub(crate) struct FaceMetrics {
    data: Arc<Vec<u8>>,
    cmap: CmapKind,
    hmtx: usize,
    num_hmetrics: usize,
    units_per_em: f32,
    /// Family names (all languages) and the full name, for choosing and reporting.
    pub(crate) names: Vec<String>,
}

impl std::fmt::Debug for FaceMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceMetrics")
            .field("names", &self.names)
            .field("units_per_em", &self.units_per_em)
            .finish()
    }
}

impl FaceMetrics {
    /// Reads the face at `index` of the file; `None` when the tables needed are missing or broken.
    pub(crate) fn parse(data: Arc<Vec<u8>>, index: usize) -> Option<FaceMetrics> {
        let face = *face_offsets(&data).get(index)?;
        let d: &[u8] = &data;
        let (head, _) = find_table(d, face, b"head")?;
        let units_per_em = u16_at(d, head + 18)?;
        if units_per_em == 0 {
            return None;
        }
        let (hhea, _) = find_table(d, face, b"hhea")?;
        let num_hmetrics = u16_at(d, hhea + 34)? as usize;
        let (hmtx, hmtx_len) = find_table(d, face, b"hmtx")?;
        if num_hmetrics == 0 || hmtx_len < num_hmetrics * 4 {
            return None;
        }
        let cmap = pick_cmap(d, face)?;
        let names = read_names(d, face);
        Some(FaceMetrics {
            cmap,
            hmtx,
            num_hmetrics,
            units_per_em: f32::from(units_per_em),
            names,
            data,
        })
    }

    /// The glyph for a character (0 = .notdef, i.e. missing).
    pub(crate) fn glyph(&self, c: char) -> u16 {
        let d: &[u8] = &self.data;
        let cp = c as u32;
        match self.cmap {
            CmapKind::Format12(t) => cmap12(d, t, cp),
            CmapKind::Format4(t) => cmap4(d, t, cp),
        }
        .unwrap_or(0)
    }

    /// The advance of a glyph in ems.
    pub(crate) fn advance(&self, glyph: u16) -> f32 {
        let i = (glyph as usize).min(self.num_hmetrics - 1);
        let units = u16_at(&self.data, self.hmtx + 4 * i).unwrap_or(0);
        f32::from(units) / self.units_per_em
    }

    /// True when the face has glyphs for common Chinese characters.
    pub(crate) fn has_chinese(&self) -> bool {
        ['中', '国', '请', '邀'].iter().all(|&c| self.glyph(c) != 0)
    }

    /// How well the face suits Simplified Chinese; `None` when it has no Chinese at all.
    pub(crate) fn simplified_chinese_score(&self) -> Option<i32> {
        if !self.has_chinese() {
            return None;
        }
        let mut score = 0;
        let tokens: Vec<&str> = self
            .names
            .iter()
            .flat_map(|n| n.split(|c: char| !c.is_ascii_alphanumeric()))
            .collect();
        if tokens
            .iter()
            .any(|t| matches!(*t, "SC" | "GB" | "CN" | "Simplified" | "SChinese"))
            || self.names.iter().any(|n| n.contains("简"))
        {
            score += 10;
        }
        if tokens.iter().any(|t| t.eq_ignore_ascii_case("mono")) {
            score -= 3;
        }
        Some(score)
    }
}

fn pick_cmap(d: &[u8], face: usize) -> Option<CmapKind> {
    let (cmap, _) = find_table(d, face, b"cmap")?;
    let n = u16_at(d, cmap + 2)? as usize;
    let mut f4 = None;
    let mut f12 = None;
    for i in 0..n {
        let rec = cmap + 4 + 8 * i;
        let platform = u16_at(d, rec)?;
        let encoding = u16_at(d, rec + 2)?;
        let sub = cmap + u32_at(d, rec + 4)? as usize;
        let unicode = matches!((platform, encoding), (0, _) | (3, 1) | (3, 10));
        if !unicode {
            continue;
        }
        match u16_at(d, sub) {
            Some(12) if f12.is_none() => f12 = Some(CmapKind::Format12(sub)),
            Some(4) if f4.is_none() => f4 = Some(CmapKind::Format4(sub)),
            _ => {}
        }
    }
    f12.or(f4)
}

fn cmap12(d: &[u8], t: usize, cp: u32) -> Option<u16> {
    let n = u32_at(d, t + 12)? as usize;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let g = t + 16 + 12 * mid;
        let start = u32_at(d, g)?;
        let end = u32_at(d, g + 4)?;
        if cp < start {
            hi = mid;
        } else if cp > end {
            lo = mid + 1;
        } else {
            let gid = u32_at(d, g + 8)?.checked_add(cp - start)?;
            return u16::try_from(gid).ok();
        }
    }
    None
}

fn cmap4(d: &[u8], t: usize, cp: u32) -> Option<u16> {
    let cp = u16::try_from(cp).ok()?;
    let seg_x2 = u16_at(d, t + 6)? as usize;
    let ends = t + 14;
    let starts = ends + seg_x2 + 2;
    let deltas = starts + seg_x2;
    let ranges = deltas + seg_x2;
    let (mut lo, mut hi) = (0usize, seg_x2 / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let end = u16_at(d, ends + 2 * mid)?;
        let start = u16_at(d, starts + 2 * mid)?;
        if cp > end {
            lo = mid + 1;
        } else if cp < start {
            hi = mid;
        } else {
            let delta = u16_at(d, deltas + 2 * mid)?;
            let range_at = ranges + 2 * mid;
            let range = u16_at(d, range_at)? as usize;
            if range == 0 {
                return Some(cp.wrapping_add(delta));
            }
            let at = range_at + range + 2 * (cp - start) as usize;
            let g = u16_at(d, at)?;
            return if g == 0 {
                None
            } else {
                Some(g.wrapping_add(delta))
            };
        }
    }
    None
}

fn read_names(d: &[u8], face: usize) -> Vec<String> {
    let mut out = Vec::new();
    let Some((name, len)) = find_table(d, face, b"name") else {
        return out;
    };
    let (Some(count), Some(storage)) = (u16_at(d, name + 2), u16_at(d, name + 4)) else {
        return out;
    };
    let storage = name + storage as usize;
    for i in 0..count as usize {
        let rec = name + 6 + 12 * i;
        if rec + 12 > name + len {
            break;
        }
        let (Some(platform), Some(name_id), Some(l), Some(o)) = (
            u16_at(d, rec),
            u16_at(d, rec + 6),
            u16_at(d, rec + 8),
            u16_at(d, rec + 10),
        ) else {
            break;
        };
        if !matches!(name_id, 1 | 4 | 16) {
            continue;
        }
        let start = storage + o as usize;
        let Some(bytes) = d.get(start..start + l as usize) else {
            continue;
        };
        let s = match platform {
            0 | 3 => {
                let units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            }
            1 => bytes
                .iter()
                .filter(|b| b.is_ascii())
                .map(|&b| b as char)
                .collect(),
            _ => continue,
        };
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Picks the face of a font file best suited to Simplified Chinese: its index and metrics.
pub(crate) fn best_face(data: &Arc<Vec<u8>>) -> Option<(usize, FaceMetrics)> {
    let mut best: Option<(i32, usize, FaceMetrics)> = None;
    for index in 0..face_offsets(data).len() {
        let Some(m) = FaceMetrics::parse(Arc::clone(data), index) else {
            continue;
        };
        let Some(score) = m.simplified_chinese_score() else {
            continue;
        };
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, index, m));
        }
    }
    best.map(|(_, i, m)| (i, m))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOTO: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

    #[test]
    fn noto_collection_picks_simplified_chinese() {
        let Ok(bytes) = std::fs::read(NOTO) else {
            eprintln!("SKIP: {NOTO} not installed");
            return;
        };
        let data = Arc::new(bytes);
        assert!(face_offsets(&data).len() >= 5);
        let (index, m) = best_face(&data).unwrap();
        assert!(
            m.names.iter().any(|n| n == "Noto Sans CJK SC"),
            "{:?}",
            m.names
        );
        assert_eq!(index, 2);
        // Ideographs are one em wide, Latin letters proportional.
        let g = m.glyph('中');
        assert_ne!(g, 0);
        assert!((m.advance(g) - 1.0).abs() < 0.01);
        let (i, w) = (m.advance(m.glyph('i')), m.advance(m.glyph('W')));
        assert!(i > 0.1 && i < w && w < 1.0, "i={i} W={w}");
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        for bytes in [
            vec![],
            b"ttcf\0\0\0\0\0\0\0\x09".to_vec(),
            vec![0, 1, 0, 0, 0, 9],
        ] {
            assert!(best_face(&Arc::new(bytes)).is_none());
        }
    }
}
