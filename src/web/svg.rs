//! Small server-rendered SVG bar charts for the statistics page. No script, no library and no
//! `style` attributes (the page's CSP forbids inline styles): only SVG presentation attributes
//! such as `fill`. Every text that comes from data is escaped, so the output may be embedded in
//! a page as it is.

use std::fmt::Write;

pub use crate::workflow::oversight::{BarChart, Orientation};

/// The chart as an inline `<svg>` element.
pub fn render(chart: &BarChart) -> String {
    Drawing(chart).render()
}

/// A chart being drawn.
struct Drawing<'a>(&'a BarChart);

impl std::ops::Deref for Drawing<'_> {
    type Target = BarChart;
    fn deref(&self) -> &BarChart {
        self.0
    }
}

/// Fill colours of the series, in order (blue, orange, green, grey).
const PALETTE: [&str; 4] = ["#0b4f9c", "#e08a00", "#2e7d32", "#6b7785"];
const FONT: &str = "font-family=\"sans-serif\"";
const TEXT_FILL: &str = "#333";
const AXIS: &str = "#9aa7b8";
const GRID: &str = "#e3e8ef";

/// Escapes text for SVG/XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML text.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Rough width of a text in pixels: CJK and other wide characters take a full em, ASCII about
/// six tenths of one. Good enough to size the label column.
fn text_width(s: &str, font_size: f64) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f64>()
        * font_size
}

/// Shortens a label to at most `max_px` pixels, ending it with "…" when cut.
fn fit(s: &str, max_px: f64, font_size: f64) -> String {
    if text_width(s, font_size) <= max_px {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = font_size; // room for the ellipsis
    for c in s.chars() {
        w += if c.is_ascii() { 0.6 } else { 1.0 } * font_size;
        if w > max_px {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A round axis maximum at or above `max` and the step of its grid lines (1, 2 or 5 times a
/// power of ten; at least 1, as the values are counts).
pub fn scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (1, 1);
    }
    let raw = (max as f64 / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0) as i64;
    let top = max.div_euclid(step) * step;
    let top = if top < max { top + step } else { top };
    (top, step)
}

impl Drawing<'_> {
    fn max_value(&self) -> i64 {
        self.items
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(0)
    }

    fn n_series(&self) -> usize {
        self.series.len().max(1)
    }

    fn render(&self) -> String {
        if self.items.is_empty() {
            return self.empty();
        }
        match self.orientation {
            Orientation::Vertical => self.vertical(),
            Orientation::Horizontal => self.horizontal(),
        }
    }

    fn open(&self, w: f64, h: f64) -> String {
        let t = escape(&self.title);
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{t}\" \
             viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\"><title>{t}</title>"
        )
    }

    /// The chart frame with a note instead of bars.
    fn empty(&self) -> String {
        let mut s = self.open(320.0, 60.0);
        let _ = write!(
            s,
            "<text x=\"160\" y=\"34\" text-anchor=\"middle\" font-size=\"13\" {FONT} fill=\"#5b6675\">暂无数据</text></svg>"
        );
        s
    }

    /// Width of the legend (0 with a single series).
    fn legend_width(&self) -> f64 {
        if self.series.len() < 2 {
            return 0.0;
        }
        self.series
            .iter()
            .map(|name| 14.0 + text_width(name, 11.0) + 16.0)
            .sum()
    }

    /// Colour squares and series names across the top (only with several series).
    fn legend(&self, s: &mut String, x0: f64) -> f64 {
        if self.series.len() < 2 {
            return 0.0;
        }
        let mut x = x0;
        for (i, name) in self.series.iter().enumerate() {
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"15\" font-size=\"11\" {FONT} fill=\"{TEXT_FILL}\">{}</text>",
                PALETTE[i % PALETTE.len()],
                x + 14.0,
                escape(name)
            );
            x += 14.0 + text_width(name, 11.0) + 16.0;
        }
        22.0
    }

    fn bar_title(&self, label: &str, series: usize, value: i64) -> String {
        match self.series.get(series) {
            Some(name) if self.series.len() > 1 => {
                format!(
                    "<title>{}　{}：{value}</title>",
                    escape(label),
                    escape(name)
                )
            }
            _ => format!("<title>{}：{value}</title>", escape(label)),
        }
    }

    fn vertical(&self) -> String {
        let n = self.items.len();
        let ns = self.n_series();
        let font = 10.0;
        // Columns shrink when there are many months; labels then show every k-th month.
        let cat_w: f64 = if n <= 24 {
            (ns as f64 * 16.0 + 14.0).max(48.0)
        } else {
            (1100.0 / n as f64).max(ns as f64 * 6.0 + 4.0)
        };
        let label_every = if n <= 24 { 1 } else { n.div_ceil(24) };
        let bar_w = ((cat_w - 8.0) / ns as f64).min(18.0);
        let (top, step) = scale(self.max_value());
        let left = 8.0 + text_width(&top.to_string(), font) + 6.0;
        let plot_h = 180.0;
        // Never narrower than the legend, nor than a readable minimum.
        let width = (left + n as f64 * cat_w + 10.0)
            .max(left + self.legend_width())
            .max(240.0);
        let mut body = String::new();
        let legend_h = self.legend(&mut body, left);
        let y0 = legend_h + 12.0; // top of the plot
        let base = y0 + plot_h; // the zero line
        let height = base + 22.0;
        let y_of = |v: i64| base - v as f64 / top as f64 * plot_h;
        // Grid lines with their values.
        let mut v = 0;
        while v <= top {
            let y = y_of(v);
            let _ = write!(
                body,
                "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{}\" stroke-width=\"1\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"{font}\" {FONT} fill=\"{TEXT_FILL}\">{v}</text>",
                width - 10.0,
                if v == 0 { AXIS } else { GRID },
                left - 4.0,
                y + 3.5
            );
            v += step;
        }
        for (i, (label, values)) in self.items.iter().enumerate() {
            let x_cat = left + i as f64 * cat_w;
            let group_w = bar_w * ns as f64;
            let x_start = x_cat + (cat_w - group_w) / 2.0;
            for (j, value) in values.iter().take(ns).enumerate() {
                let value = (*value).max(0);
                let x = x_start + j as f64 * bar_w;
                let y = y_of(value);
                let _ = write!(
                    body,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\">{}</rect>",
                    (bar_w - 1.0).max(1.0),
                    base - y,
                    PALETTE[j % PALETTE.len()],
                    self.bar_title(label, j, value)
                );
                if n <= 24 && value > 0 {
                    let _ = write!(
                        body,
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" {FONT} fill=\"{TEXT_FILL}\">{value}</text>",
                        x + bar_w / 2.0,
                        y - 2.0
                    );
                }
            }
            if i % label_every == 0 {
                let _ = write!(
                    body,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{font}\" {FONT} fill=\"{TEXT_FILL}\">{}</text>",
                    x_cat + cat_w / 2.0,
                    base + 14.0,
                    escape(&fit(label, cat_w * label_every as f64 - 2.0, font))
                );
            }
        }
        let mut s = self.open(width, height);
        s.push_str(&body);
        s.push_str("</svg>");
        s
    }

    fn horizontal(&self) -> String {
        let ns = self.n_series();
        let font = 12.0;
        let row_h = ns as f64 * 14.0 + 8.0;
        let label_w = self
            .items
            .iter()
            .map(|(l, _)| text_width(l, font))
            .fold(0.0, f64::max)
            .min(220.0);
        let left = label_w + 12.0;
        let plot_w = 380.0;
        let (top, _) = scale(self.max_value());
        let digits = text_width(&top.to_string(), 10.0);
        let width = (left + plot_w + digits + 12.0).max(left + self.legend_width());
        let mut body = String::new();
        let legend_h = self.legend(&mut body, left);
        let y0 = legend_h + 6.0;
        let height = y0 + self.items.len() as f64 * row_h + 6.0;
        let _ = write!(
            body,
            "<line x1=\"{left:.1}\" y1=\"{y0:.1}\" x2=\"{left:.1}\" y2=\"{:.1}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>",
            height - 6.0
        );
        for (i, (label, values)) in self.items.iter().enumerate() {
            let y_row = y0 + i as f64 * row_h;
            let _ = write!(
                body,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"{font}\" {FONT} fill=\"{TEXT_FILL}\">{}</text>",
                left - 6.0,
                y_row + row_h / 2.0 + 4.0,
                escape(&fit(label, 220.0, font))
            );
            for (j, value) in values.iter().take(ns).enumerate() {
                let value = (*value).max(0);
                let y = y_row + 4.0 + j as f64 * 14.0;
                let w = value as f64 / top as f64 * plot_w;
                let _ = write!(
                    body,
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"12\" fill=\"{}\">{}</rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" {FONT} fill=\"{TEXT_FILL}\">{value}</text>",
                    left + 1.0,
                    PALETTE[j % PALETTE.len()],
                    self.bar_title(label, j, value),
                    left + w + 4.0,
                    y + 10.0
                );
            }
        }
        let mut s = self.open(width, height);
        s.push_str(&body);
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    trait Render {
        fn render(&self) -> String;
    }

    impl Render for BarChart {
        fn render(&self) -> String {
            super::render(self)
        }
    }

    fn chart(orientation: Orientation, items: Vec<(&str, Vec<i64>)>) -> BarChart {
        BarChart {
            title: "按月份统计".into(),
            orientation,
            series: vec!["团组".into(), "人员".into()],
            items: items.into_iter().map(|(l, v)| (l.to_string(), v)).collect(),
        }
    }

    /// The widths (horizontal) or heights (vertical) of the bars, in drawing order.
    fn bar_sizes(svg: &str, attr: &str) -> Vec<f64> {
        svg.split("<rect ")
            .skip(1)
            .filter(|r| !r.contains("width=\"10\" height=\"10\"")) // legend squares
            .map(|r| {
                let start = r.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
                let end = r[start..].find('"').unwrap() + start;
                r[start..end].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let mut c = chart(
            Orientation::Horizontal,
            vec![("<script>alert(\"x\")</script> & 'co'", vec![1, 2])],
        );
        c.title = "A <b>&</b> \"title\"".into();
        let svg = c.render();
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("&amp;"));
        assert!(svg.contains("&quot;"));
        assert!(svg.contains("aria-label=\"A &lt;b&gt;&amp;&lt;/b&gt; &quot;title&quot;\""));
        assert!(svg.contains("<title>A &lt;b&gt;&amp;&lt;/b&gt; &quot;title&quot;</title>"));
        assert_eq!(escape("a\u{0}b"), "a b");
    }

    #[test]
    fn svg_is_accessible_and_has_no_inline_style_or_script() {
        for o in [Orientation::Vertical, Orientation::Horizontal] {
            let svg = chart(o, vec![("2026-01", vec![3, 7]), ("2026-02", vec![0, 0])]).render();
            assert!(svg.starts_with("<svg "));
            assert!(svg.ends_with("</svg>"));
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("<title>按月份统计</title>"));
            assert!(!svg.contains("style="));
            assert!(!svg.contains("<script"));
            assert!(!svg.contains(" on"), "no event handler attributes");
            // Legend for two series.
            assert!(svg.contains(">团组</text>") && svg.contains(">人员</text>"));
        }
    }

    #[test]
    fn empty_data_draws_a_note() {
        for o in [Orientation::Vertical, Orientation::Horizontal] {
            let svg = chart(o, vec![]).render();
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("暂无数据"));
            assert!(!svg.contains("<rect"));
        }
        // All zero: bars of no size, no division by zero.
        let svg = chart(Orientation::Horizontal, vec![("A", vec![0, 0])]).render();
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_eq!(bar_sizes(&svg, "width"), vec![0.0, 0.0]);
    }

    #[test]
    fn bars_are_proportional_to_the_values() {
        let svg = chart(
            Orientation::Horizontal,
            vec![("甲", vec![10, 5]), ("乙", vec![20, 0])],
        )
        .render();
        // Axis maximum 20: the plot is 380 px wide.
        assert_eq!(bar_sizes(&svg, "width"), vec![190.0, 95.0, 380.0, 0.0]);
        let svg = chart(
            Orientation::Vertical,
            vec![("2026-01", vec![4, 8]), ("2026-02", vec![2, 1])],
        )
        .render();
        // Axis maximum 8 over 180 px.
        assert_eq!(bar_sizes(&svg, "height"), vec![90.0, 180.0, 45.0, 22.5]);
    }

    #[test]
    fn a_single_month_is_as_wide_as_its_legend() {
        let svg = chart(Orientation::Vertical, vec![("2026-01", vec![3, 6])]).render();
        let w: f64 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        let legend_end = 20.0 + 14.0 + 3.0 * 11.0 + 16.0 + 14.0 + 2.0 * 11.0;
        assert!(w >= legend_end, "{w} < {legend_end}");
    }

    #[test]
    fn scale_rounds_up_to_nice_steps() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(1), (1, 1));
        assert_eq!(scale(3), (3, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(10), (10, 5));
        assert_eq!(scale(23), (30, 10));
        assert_eq!(scale(95), (100, 50));
        assert_eq!(scale(1234), (1500, 500));
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "中华人民共和国常州市某某某某某某某某某某某某某某某某某某某某某某某某某单位";
        assert!(fit(long, 100.0, 10.0).ends_with('…'));
        assert!(text_width(&fit(long, 100.0, 10.0), 10.0) <= 100.0);
        assert_eq!(fit("USA", 100.0, 10.0), "USA");
        // Many months: labels thinned out, still one column per month.
        let items: Vec<(String, Vec<i64>)> = (0..60).map(|i| (format!("m{i}"), vec![i])).collect();
        let c = BarChart {
            title: "t".into(),
            orientation: Orientation::Vertical,
            series: vec!["团组".into()],
            items,
        };
        let svg = c.render();
        assert_eq!(bar_sizes(&svg, "height").len(), 60);
        assert!(svg.contains(">m0<") && !svg.contains(">m1<"));
    }
}
