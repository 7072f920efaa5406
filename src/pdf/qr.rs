//! The QR code of a printed form: what it carries and its module grid, drawn into the PDF by the
//! form and into inline SVG for the HTML print page.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use super::form::PdfError;

/// How many light modules surround the code (the quiet zone the QR standard asks for).
pub(crate) const QUIET_ZONE: usize = 4;

/// What the QR code carries: identifies the group and this exact version of the data:
/// `LAIHUA|<group_number>|<first 16 hex digits of the hash>`.
pub fn qr_payload(group_number: &str, data_hash: &str) -> String {
    let short: String = data_hash.trim().chars().take(16).collect();
    format!(
        "LAIHUA|{}|{}",
        group_number.trim(),
        short.to_ascii_lowercase()
    )
}

/// The module grid of a QR code: `width` × `width` modules, `true` = dark, row by row; without
/// the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    /// Modules per side.
    pub width: usize,
    /// Row-major, `true` = dark.
    pub dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `payload` with error-correction level M.
    pub fn encode(payload: &str) -> Result<QrMatrix, PdfError> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|e| PdfError::Qr(e.to_string()))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(QrMatrix { width, dark })
    }

    /// Whether the module at column `x`, row `y` is dark (false outside the grid).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark.get(y * self.width + x) == Some(&true)
    }

    /// Horizontal runs of dark modules: `(row, first column, length)`. Drawing runs instead of
    /// single modules keeps the PDF and the SVG small and leaves no hairline seams.
    pub(crate) fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    out.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        out
    }
}

/// The QR code of `payload` as an inline SVG string (25 mm square including the quiet zone,
/// black on white), for the HTML print page. Empty when the payload cannot be encoded (far too
/// long): the caller then shows the payload as text.
pub fn qr_svg(payload: &str) -> String {
    svg(payload, |_| "25mm".to_string(), payload)
}

/// The QR code of `payload` as an inline SVG string for a screen: `module_px` whole pixels per
/// module (sharp edges, easy to scan from the screen), named `label` for screen readers. Empty
/// when the payload cannot be encoded.
pub fn qr_svg_px(payload: &str, module_px: usize, label: &str) -> String {
    svg(payload, |side| format!("{}", side * module_px), label)
}

/// The SVG of `payload`'s code, its width and height given by `size` from the modules per side
/// (quiet zone included).
fn svg(payload: &str, size: impl Fn(usize) -> String, label: &str) -> String {
    let matrix = match QrMatrix::encode(payload) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("QR code not made: {e}");
            return String::new();
        }
    };
    let side = matrix.width + 2 * QUIET_ZONE;
    let mut d = String::with_capacity(matrix.width * matrix.width * 3);
    for (y, x, len) in matrix.runs() {
        let _ = write!(
            d,
            "M{} {}h{}v1h-{}z",
            x + QUIET_ZONE,
            y + QUIET_ZONE,
            len,
            len
        );
    }
    let size = size(side);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{size}\" \
         height=\"{size}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"{label}\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{d}\"/></svg>",
        label = xml_escape(label),
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn payload_shape() {
        let hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            qr_payload("20260007", hash),
            "LAIHUA|20260007|0123456789abcdef"
        );
        assert_eq!(qr_payload("1", "ABC"), "LAIHUA|1|abc");
        // Never panics on odd input.
        assert_eq!(qr_payload("", "中文字符"), "LAIHUA||中文字符");
    }

    #[test]
    fn svg_is_well_formed_and_escapes() {
        let svg = qr_svg("LAIHUA|<x>&\"|0123");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;x&gt;&amp;&quot;"));
        assert!(!svg.contains("<x>"));
        assert_eq!(qr_svg(&"x".repeat(5000)), "");
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let m = QrMatrix::encode("LAIHUA|20260007|0123456789abcdef").unwrap();
        let mut seen = vec![false; m.width * m.width];
        for (y, x, len) in m.runs() {
            for i in x..x + len {
                seen[y * m.width + i] = true;
            }
        }
        assert_eq!(seen, m.dark);
    }
}
