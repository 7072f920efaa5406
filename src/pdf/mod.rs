//! The printed form 《邀请外国人来华申请表》: A4 pages (the unit and the visitors on the first,
//! their visas and employers, the itinerary and the declaration after) drawn with krilla in a Chinese font
//! found on the machine (read once), with a QR code that names the group and the exact version of
//! the data that was printed.
//!
//! Text is laid out here, not by krilla: `font` reads the character map and advances of the face,
//! `text` breaks and shrinks text so that it never leaves its cell, and the glyphs are handed to
//! krilla, which embeds only the glyphs used.

mod font;
mod form;
mod qr;
mod sample;
mod text;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;

use font::FaceMetrics;
pub use form::{
    FormData, GroupInfo, ItineraryInfo, PdfError, UnitInfo, VisitorInfo, DECLARATION, MAX_VISITORS,
};
pub use qr::{qr_payload, qr_svg, qr_svg_px, QrMatrix};
pub use sample::sample_form;
use text::Fitted;

/// Makes the PDF of the form. Cheap to clone (an `Arc` inside); the font file is read once, by
/// [`Printer::discover`].
#[derive(Clone)]
pub struct Printer {
    inner: Arc<Option<LoadedFont>>,
    /// One form per core at a time (see [`Printer::render_blocking`]).
    slots: Arc<tokio::sync::Semaphore>,
}

fn print_slots() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Arc::new(tokio::sync::Semaphore::new(cores))
}

struct LoadedFont {
    path: PathBuf,
    face_index: u32,
    face_name: String,
    font: Font,
    metrics: FaceMetrics,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.as_ref() {
            Some(l) => f
                .debug_struct("Printer")
                .field("font", &l.path)
                .field("face", &l.face_index)
                .field("name", &l.face_name)
                .finish(),
            None => f.debug_struct("Printer").field("font", &"none").finish(),
        }
    }
}

/// Where Chinese fonts usually are, in the order tried after the configured path and the data
/// directory.
const SYSTEM_FONTS: &[&str] = &[
    // Debian/Ubuntu fonts-noto-cjk, and where other distributions put Noto CJK / Source Han.
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-sans-cjk-ttc-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSans-Regular.ttc",
    // WenQuanYi.
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    // Droid Sans Fallback.
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
    "/usr/share/fonts/google-droid/DroidSansFallback.ttf",
    // AR PL (arphic).
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    // Windows.
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\msyh.ttf",
    "C:\\Windows\\Fonts\\simsun.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
    "C:\\Windows\\Fonts\\simkai.ttf",
    // macOS.
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
];

fn is_font_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "otf" | "ttf" | "ttc"))
}

/// Reads a font file and picks its Simplified Chinese face; the reason when it cannot serve.
fn load_font(path: &Path) -> Result<LoadedFont, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("不能读取：{e}"))?;
    let data = Arc::new(bytes);
    let (index, metrics) = font::best_face(&data).ok_or("不是字体文件，或没有中文字形")?;
    let face_index = u32::try_from(index).map_err(|e| e.to_string())?;
    let font = Font::new(krilla::Data::from(Arc::clone(&data)), face_index)
        .ok_or("krilla 不能读取该字体")?;
    let face_name = metrics.names.first().cloned().unwrap_or_default();
    Ok(LoadedFont {
        path: path.to_path_buf(),
        face_index,
        face_name,
        font,
        metrics,
    })
}

impl Printer {
    /// Finds a Chinese font and reads it once: the configured path, then
    /// `<data_dir>/fonts/*.{otf,ttf,ttc}` (by name), then the usual Linux, Windows and macOS
    /// locations. A file that cannot be read or has no Chinese glyphs is skipped with a warning.
    /// In a font collection (.ttc) the Simplified Chinese face is used.
    pub fn discover(configured: Option<&Path>, data_dir: &Path) -> Printer {
        let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(p) = configured {
            candidates.push((p.to_path_buf(), true));
        }
        let font_dir = data_dir.join("fonts");
        if let Ok(entries) = std::fs::read_dir(&font_dir) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_font_file(p) && p.is_file())
                .collect();
            found.sort();
            candidates.extend(found.into_iter().map(|p| (p, true)));
        }
        candidates.extend(SYSTEM_FONTS.iter().map(|p| (PathBuf::from(p), false)));

        for (path, explicit) in candidates {
            if !explicit && !path.is_file() {
                continue;
            }
            match load_font(&path) {
                Ok(loaded) => {
                    tracing::info!(
                        font = %loaded.path.display(),
                        face = loaded.face_index,
                        name = %loaded.face_name,
                        "PDF font"
                    );
                    return Printer {
                        inner: Arc::new(Some(loaded)),
                        slots: print_slots(),
                    };
                }
                Err(why) => tracing::warn!("字体 {} 不可用：{why}", path.display()),
            }
        }
        let printer = Printer::without_font();
        if let Some(help) = printer.missing_font_help(data_dir) {
            tracing::warn!("{help}");
        }
        printer
    }

    /// A printer with no font: every [`Printer::render`] fails with [`PdfError::NoFont`]. For tests
    /// and for a server that has none.
    pub fn without_font() -> Printer {
        Printer {
            inner: Arc::new(None),
            slots: print_slots(),
        }
    }

    /// The font file in use; `None` when no Chinese font was found.
    pub fn font_path(&self) -> Option<&Path> {
        self.inner.as_ref().as_ref().map(|l| l.path.as_path())
    }

    /// The name of the face in use and its index in the file, e.g. ("Noto Sans CJK SC", 2).
    pub fn font_face(&self) -> Option<(&str, u32)> {
        self.inner
            .as_ref()
            .as_ref()
            .map(|l| (l.face_name.as_str(), l.face_index))
    }

    /// When no font was found: what to do about it, in Chinese, for the admin page and the log.
    pub fn missing_font_help(&self, data_dir: &Path) -> Option<String> {
        if self.inner.is_some() {
            return None;
        }
        let dir = data_dir.join("fonts");
        Some(format!(
            "未找到中文字体，申请表 PDF 无法生成（打印页仍可用浏览器打印）。\
             请任选一种方法添加字体后重启服务：\
             ① 将一个含中文字形的字体文件（.ttf、.otf 或 .ttc，如 NotoSansCJK-Regular.ttc、\
             msyh.ttc、simsun.ttc）放入 {}；\
             ② 设置环境变量 LAIHUA_FONT 为字体文件的完整路径；\
             ③ 在 Debian/Ubuntu 上安装字体包：apt-get install fonts-noto-cjk。",
            dir.display()
        ))
    }

    /// [`Printer::render`] on a blocking thread, at most one form per core at a time. Printing
    /// is CPU-bound, so more at once would not finish sooner; each would only hold the font
    /// subsetter's buffers (several MB) at the same time, and the server's memory would grow
    /// with the number of people printing.
    pub async fn render_blocking(&self, form: FormData) -> Result<Vec<u8>, PdfError> {
        let _slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PdfError::Pdf(e.to_string()))?;
        let printer = self.clone();
        tokio::task::spawn_blocking(move || printer.render(&form))
            .await
            .map_err(|e| PdfError::Pdf(format!("printing task: {e}")))?
    }

    /// The form as an A4 PDF: the first page as before, then the visitors' visas and employers,
    /// the itinerary (over as many pages as it needs) and the declaration.
    pub fn render(&self, form: &FormData) -> Result<Vec<u8>, PdfError> {
        let loaded = self.inner.as_ref().as_ref().ok_or(PdfError::NoFont)?;
        if form.visitors.len() > MAX_VISITORS {
            return Err(PdfError::TooManyVisitors(form.visitors.len()));
        }
        let payload = qr_payload(&form.group_number, &form.data_hash);
        let matrix = QrMatrix::encode(&payload)?;

        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(format!("邀请外国人来华申请表 {}", form.group_number.trim()))
                .creator("laihua".to_string())
                .language("zh-CN".to_string()),
        );
        let plans = plan_pages(form.itinerary.len());
        let total = plans.len() + 1;
        for index in 0..total {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
                .ok_or_else(|| PdfError::Pdf("page size".to_string()))?;
            let mut page = document.start_page_with(settings);
            {
                let mut surface = page.surface();
                let mut canvas = Canvas::new(&mut surface, loaded);
                match index.checked_sub(1).and_then(|i| plans.get(i)) {
                    None => draw_form(&mut canvas, form, &matrix),
                    Some(plan) => draw_continued(&mut canvas, form, plan),
                }
                draw_footer(&mut canvas, form, index + 1, total);
                canvas.finish();
                surface.finish();
            }
            page.finish();
        }
        document.finish().map_err(|e| PdfError::Pdf(e.to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// Page geometry, in PDF points (1/72 inch), y growing downwards as krilla draws.

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 15.0 * MM;
const RIGHT: f32 = PAGE_W - 15.0 * MM;
const WIDTH: f32 = RIGHT - LEFT;
/// The dark part of the QR code; the quiet zone around it is kept clear.
const QR_SIZE: f32 = 23.0 * MM;
const QR_TOP: f32 = 9.0 * MM;
const TABLE_TOP: f32 = QR_TOP + QR_SIZE + 4.0 * MM;

const SECTION_H: f32 = 17.0;
const ROW_H: f32 = 21.0;
const ROW2_H: f32 = 28.0;
const REMARKS_H: f32 = 34.0;
const LABEL_W: f32 = 82.0;
const VISITOR_HEAD_H: f32 = 22.0;
const VISITOR_ROW_H: f32 = 28.0;
const DECLARATION_H: f32 = 124.0;
const FOOTER_BASELINE: f32 = PAGE_H - 11.0 * MM;
/// Where the pages after the first begin and what they may fill.
const CONT_TOP: f32 = 15.0 * MM;
const CONT_BOTTOM: f32 = FOOTER_BASELINE - 16.0;
const ITINERARY_HEAD_H: f32 = 20.0;
const ITINERARY_ROW_H: f32 = 24.0;
/// 四、到访人员签证及工作单位: its section, column titles and five rows.
const SUPPLEMENT_H: f32 = SECTION_H + VISITOR_HEAD_H + MAX_VISITORS as f32 * VISITOR_ROW_H;

/// Column titles and widths (points) of the visitors' visas and employers; the last takes what
/// is left.
const SUPPLEMENT_COLUMNS: [(&str, f32); 7] = [
    ("序号", 22.0),
    ("姓名", 96.0),
    ("拟申请签证种类", 62.0),
    ("停留期限（天）", 44.0),
    ("工作单位所在国家（地区）", 62.0),
    ("工作单位所在城市", 58.0),
    ("工作单位地址", 0.0),
];

/// Column titles and widths of the itinerary; the last takes what is left.
const ITINERARY_COLUMNS: [(&str, f32); 5] = [
    ("序号", 22.0),
    ("日期", 58.0),
    ("城市", 70.0),
    ("活动内容", 200.0),
    ("接待单位", 0.0),
];

/// Column titles and widths (points) of the visitor table; the last takes what is left.
const VISITOR_COLUMNS: [(&str, f32); 10] = [
    ("序号", 22.0),
    ("姓", 56.0),
    ("名", 62.0),
    ("性别", 24.0),
    ("出生日期", 48.0),
    ("国籍", 42.0),
    ("护照号码", 54.0),
    ("护照有效期", 48.0),
    ("工作单位", 92.0),
    ("职务", 0.0),
];

/// Where the table ends: everything must fit above the footer.
const fn table_bottom() -> f32 {
    TABLE_TOP
        + (SECTION_H + 5.0 * ROW_H)
        + (SECTION_H + 6.0 * ROW_H + 2.0 * ROW2_H + REMARKS_H)
        + (SECTION_H + VISITOR_HEAD_H + MAX_VISITORS as f32 * VISITOR_ROW_H)
}

// A page after the first holds at least the visitors' table, one itinerary row and the
// declaration, so that the plan below always ends.
const _: () = assert!(
    CONT_TOP
        + SUPPLEMENT_H
        + SECTION_H
        + ITINERARY_HEAD_H
        + ITINERARY_ROW_H
        + SECTION_H
        + DECLARATION_H
        < CONT_BOTTOM
);

// The page is laid out once and for all: the table ends above the footer, the footer above the
// bottom margin, and the quiet zone of the QR code (4 modules of a version-3 code, 29 wide) stays
// clear of the table.
const _: () = assert!(table_bottom() + 8.0 < FOOTER_BASELINE - 8.0);
const _: () = assert!(FOOTER_BASELINE < PAGE_H - 8.0 * MM);
const _: () = assert!(TABLE_TOP - (QR_TOP + QR_SIZE) >= 4.0 * QR_SIZE / 29.0);

/// What one page after the first shows: the visitors' visas and employers (the first of them),
/// a run of itinerary rows (`rows`; a table with one blank row for an empty itinerary), and the
/// declaration (the last page).
#[derive(Clone, Debug, PartialEq)]
struct PagePlan {
    supplement: bool,
    rows: std::ops::Range<usize>,
    itinerary: bool,
    continued: bool,
    declaration: bool,
}

/// Spreads `n` itinerary rows over the pages after the first.
fn plan_pages(n: usize) -> Vec<PagePlan> {
    let mut pages = Vec::new();
    let mut next = 0;
    loop {
        let first = pages.is_empty();
        let mut y = CONT_TOP;
        if first {
            y += SUPPLEMENT_H;
        }
        let remaining = n - next;
        if remaining == 0 && !first {
            // Only the declaration is left.
            pages.push(PagePlan {
                supplement: false,
                rows: next..next,
                itinerary: false,
                continued: false,
                declaration: true,
            });
            return pages;
        }
        let table = SECTION_H + ITINERARY_HEAD_H;
        let fit = ((CONT_BOTTOM - y - table) / ITINERARY_ROW_H)
            .floor()
            .max(1.0) as usize;
        let fit_with_declaration =
            ((CONT_BOTTOM - y - table - SECTION_H - DECLARATION_H) / ITINERARY_ROW_H).floor();
        let shown = remaining.max(1);
        if (shown as f32) <= fit_with_declaration {
            pages.push(PagePlan {
                supplement: first,
                rows: next..n,
                itinerary: true,
                continued: !first,
                declaration: true,
            });
            return pages;
        }
        let take = remaining.min(fit);
        pages.push(PagePlan {
            supplement: first,
            rows: next..next + take,
            itinerary: true,
            continued: !first,
            declaration: false,
        });
        next += take;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
}

/// How a cell's text is set: the largest and the smallest size to try.
#[derive(Clone, Copy)]
struct Style {
    max: f32,
    min: f32,
    align: Align,
    bold: bool,
    keep_newlines: bool,
}

const LABEL: Style = Style {
    max: 9.5,
    min: 6.5,
    align: Align::Center,
    bold: false,
    keep_newlines: false,
};
const VALUE: Style = Style {
    max: 10.0,
    min: 5.5,
    align: Align::Left,
    bold: false,
    keep_newlines: false,
};
const VISITOR_HEAD: Style = Style {
    max: 8.5,
    min: 6.0,
    align: Align::Center,
    bold: false,
    keep_newlines: false,
};
const VISITOR_CELL: Style = Style {
    max: 8.5,
    min: 5.0,
    align: Align::Center,
    bold: false,
    keep_newlines: false,
};

/// The glyph of a character; other white space is drawn as a space.
fn glyph_of(m: &FaceMetrics, c: char) -> u16 {
    let g = m.glyph(c);
    if g == 0 && c.is_whitespace() {
        m.glyph(' ')
    } else {
        g
    }
}

/// Draws on the page: text through the face's metrics, lines collected and stroked at the end.
struct Canvas<'a, 'p> {
    surface: &'a mut Surface<'p>,
    font: Font,
    metrics: &'a FaceMetrics,
    thin: PathBuilder,
    thick: PathBuilder,
}

impl<'a, 'p> Canvas<'a, 'p> {
    fn new(surface: &'a mut Surface<'p>, loaded: &'a LoadedFont) -> Self {
        Canvas {
            surface,
            font: loaded.font.clone(),
            metrics: &loaded.metrics,
            thin: PathBuilder::new(),
            thick: PathBuilder::new(),
        }
    }

    fn advance(&self, c: char) -> f32 {
        self.metrics.advance(glyph_of(self.metrics, c))
    }

    /// Width of `s` at `size`.
    fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// One line of text with its baseline at `y`.
    fn text(&mut self, x: f32, y: f32, size: f32, s: &str, bold: bool) {
        if s.is_empty() {
            return;
        }
        let glyphs: Vec<KrillaGlyph> = s
            .char_indices()
            .map(|(i, c)| {
                let g = glyph_of(self.metrics, c);
                KrillaGlyph::new(
                    GlyphId::new(u32::from(g)),
                    self.metrics.advance(g),
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect();
        self.surface.set_fill(Some(Fill::default()));
        // Bold by also stroking the outlines thinly: one font file serves both weights.
        self.surface.set_stroke(bold.then(|| Stroke {
            width: size * 0.035,
            ..Stroke::default()
        }));
        self.surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            self.font.clone(),
            s,
            size,
            false,
        );
        self.surface.set_stroke(None);
    }

    fn text_centered(&mut self, cx: f32, y: f32, size: f32, s: &str, bold: bool) {
        let w = self.width(s, size);
        self.text(cx - w / 2.0, y, size, s, bold);
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, s: &str, bold: bool) {
        let w = self.width(s, size);
        self.text(right - w, y, size, s, bold);
    }

    /// Text fitted into the box, centred vertically.
    fn boxed(&mut self, x: f32, y: f32, w: f32, h: f32, raw: &str, style: Style) {
        let s = text::clean(raw, style.keep_newlines);
        self.boxed_clean(x, y, w, h, &s, style);
    }

    /// Like `boxed`, for text already cleaned (or deliberately indented).
    fn boxed_clean(&mut self, x: f32, y: f32, w: f32, h: f32, s: &str, style: Style) {
        let pad_x = 3.5;
        let pad_y = 2.5;
        if s.is_empty() {
            return;
        }
        let (bw, bh) = (w - 2.0 * pad_x, h - 2.0 * pad_y);
        let metrics = self.metrics;
        let advance = |c: char| metrics.advance(glyph_of(metrics, c));
        // Leave room for the faux-bold stroke.
        let bw = if style.bold { bw - 1.0 } else { bw };
        let Fitted { size, lines } = text::fit(s, bw, bh, style.max, style.min, &advance);
        let block = text::block_height(lines.len(), size);
        // CJK glyphs sit in an em box from 0.12 em below to 0.88 em above the baseline.
        let mut baseline = y + (h - block) / 2.0 + 0.88 * size;
        for line in &lines {
            match style.align {
                Align::Left => self.text(x + pad_x, baseline, size, line, style.bold),
                Align::Center => self.text_centered(x + w / 2.0, baseline, size, line, style.bold),
            }
            baseline += size * text::LINE_HEIGHT;
        }
    }

    fn rect_lines(pb: &mut PathBuilder, x: f32, y: f32, w: f32, h: f32) {
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(r);
        }
    }

    /// A cell border (thin); shared edges are drawn twice, which does not show.
    fn cell(&mut self, x: f32, y: f32, w: f32, h: f32) {
        Self::rect_lines(&mut self.thin, x, y, w, h);
    }

    fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        Self::rect_lines(&mut self.thick, x, y, w, h);
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32) {
        self.thin.move_to(x1, y);
        self.thin.line_to(x2, y);
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: u8) {
        let mut pb = PathBuilder::new();
        Self::rect_lines(&mut pb, x, y, w, h);
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill {
                paint: luma::Color::new(gray).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            self.surface.draw_path(&path);
        }
    }

    /// Strokes the collected lines.
    fn finish(self) {
        let Canvas {
            surface,
            thin,
            thick,
            ..
        } = self;
        surface.set_fill(None);
        for (pb, width) in [(thin, 0.6), (thick, 1.2)] {
            if let Some(path) = pb.finish() {
                surface.set_stroke(Some(Stroke {
                    width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        surface.set_stroke(None);
        surface.set_fill(Some(Fill::default()));
    }
}

/// A row of one label/value pair across the table, or of two side by side.
fn pair_row(c: &mut Canvas, y: f32, h: f32, cells: &[(&str, &str)]) {
    let half = WIDTH / 2.0;
    match cells {
        [(label, value)] => {
            c.cell(LEFT, y, LABEL_W, h);
            c.boxed(LEFT, y, LABEL_W, h, label, LABEL);
            c.cell(LEFT + LABEL_W, y, WIDTH - LABEL_W, h);
            let style = Style {
                keep_newlines: true,
                ..VALUE
            };
            c.boxed(LEFT + LABEL_W, y, WIDTH - LABEL_W, h, value, style);
        }
        _ => {
            for (i, (label, value)) in cells.iter().take(2).enumerate() {
                let x = LEFT + i as f32 * half;
                c.cell(x, y, LABEL_W, h);
                c.boxed(x, y, LABEL_W, h, label, LABEL);
                c.cell(x + LABEL_W, y, half - LABEL_W, h);
                c.boxed(x + LABEL_W, y, half - LABEL_W, h, value, VALUE);
            }
        }
    }
}

fn section(c: &mut Canvas, y: f32, title: &str) -> f32 {
    c.fill_rect(LEFT, y, WIDTH, SECTION_H, 232);
    c.cell(LEFT, y, WIDTH, SECTION_H);
    c.text(
        LEFT + 6.0,
        y + SECTION_H / 2.0 + 0.38 * 10.5,
        10.5,
        title,
        true,
    );
    y + SECTION_H
}

fn draw_form(c: &mut Canvas, form: &FormData, qr: &QrMatrix) {
    // Heading: title, office, group number and QR code.
    c.text_centered(PAGE_W / 2.0, 18.0 * MM, 20.0, "邀请外国人来华申请表", true);
    let office = text::clean(&form.office_name, false);
    if !office.is_empty() {
        let size = 10.5f32.min(170.0 / c.width(&office, 1.0).max(1.0));
        c.text_centered(PAGE_W / 2.0, 25.5 * MM, size, &office, false);
    }
    let qr_left = RIGHT - QR_SIZE;
    draw_qr(c, qr, qr_left, QR_TOP, QR_SIZE);
    let number = text::clean(&form.group_number, false);
    let number_right = qr_left - 4.0 * MM;
    let size = 13.0f32.min(80.0 / c.width(&number, 1.0).max(1.0));
    c.text_right(number_right, QR_TOP + QR_SIZE - 1.0, size, &number, true);
    c.text_right(
        number_right,
        QR_TOP + QR_SIZE - 1.0 - size - 5.0,
        9.0,
        "团组编号",
        false,
    );

    let top = TABLE_TOP;
    let u = &form.unit;
    let mut y = section(c, top, "一、邀请单位");
    let rows: [(f32, &[(&str, &str)]); 5] = [
        (ROW_H, &[("单位全称", &u.name)]),
        (ROW_H, &[("英文名称", &u.english_name)]),
        (
            ROW_H,
            &[
                ("统一社会信用代码", &u.credit_code),
                ("所属县区", &u.district),
            ],
        ),
        (ROW_H, &[("单位地址", &u.address)]),
        (
            ROW_H,
            &[("联系人", &u.contact_name), ("联系电话", &u.contact_phone)],
        ),
    ];
    for (h, cells) in rows {
        pair_row(c, y, h, cells);
        y += h;
    }

    let g = &form.group;
    y = section(c, y, "二、团组信息");
    let rows: [(f32, &[(&str, &str)]); 9] = [
        (ROW_H, &[("团组名称", &g.name)]),
        (ROW2_H, &[("来华事由", &g.purpose)]),
        (
            ROW_H,
            &[("计划入境日期", &g.arrival), ("计划出境日期", &g.departure)],
        ),
        (ROW2_H, &[("访问地点", &g.places)]),
        (
            ROW_H,
            &[("费用承担", &g.cost_bearer), ("入境次数", &g.entry_type)],
        ),
        (
            ROW_H,
            &[
                ("签证申办国家（地区）", &g.country),
                ("签证申办使领馆", &g.mission),
            ],
        ),
        (
            ROW_H,
            &[("多次入境依据", &g.entry_ground), ("团组人数", &g.size)],
        ),
        (
            ROW_H,
            &[
                ("团组联系人", &g.contact_name),
                ("联系电话", &g.contact_phone),
            ],
        ),
        (REMARKS_H, &[("备注", &g.remarks)]),
    ];
    for (h, cells) in rows {
        pair_row(c, y, h, cells);
        y += h;
    }

    y = section(c, y, "三、到访人员");
    let used: f32 = VISITOR_COLUMNS.iter().map(|&(_, w)| w).sum();
    let widths: Vec<f32> = VISITOR_COLUMNS
        .iter()
        .map(|&(_, w)| if w > 0.0 { w } else { WIDTH - used })
        .collect();
    let mut x = LEFT;
    for (&(title, _), &w) in VISITOR_COLUMNS.iter().zip(&widths) {
        c.cell(x, y, w, VISITOR_HEAD_H);
        c.boxed(x, y, w, VISITOR_HEAD_H, title, VISITOR_HEAD);
        x += w;
    }
    y += VISITOR_HEAD_H;
    for row in 0..MAX_VISITORS {
        let values: [String; 10] = match form.visitors.get(row) {
            Some(v) => [
                if v.seq > 0 {
                    v.seq.to_string()
                } else {
                    (row + 1).to_string()
                },
                v.surname.clone(),
                v.given_name.clone(),
                v.sex.clone(),
                v.birth_date.clone(),
                v.nationality.clone(),
                v.passport_no.clone(),
                v.passport_expiry.clone(),
                v.employer.clone(),
                v.position.clone(),
            ],
            None => Default::default(),
        };
        let mut x = LEFT;
        for (value, &w) in values.iter().zip(&widths) {
            c.cell(x, y, w, VISITOR_ROW_H);
            c.boxed(x, y, w, VISITOR_ROW_H, value, VISITOR_CELL);
            x += w;
        }
        y += VISITOR_ROW_H;
    }

    c.frame(LEFT, top, WIDTH, y - top);
    c.text(
        LEFT,
        y + 14.0,
        9.0,
        "（到访人员签证及工作单位、在华日程和申请单位声明见下页）",
        false,
    );
}

/// The footer of every page: time printed, data version and page number.
fn draw_footer(c: &mut Canvas, form: &FormData, page: usize, pages: usize) {
    let hash: String = form.data_hash.trim().chars().take(16).collect();
    let footer = format!(
        "打印时间 {} · 数据版本 {} · 团组编号 {} · 第{page}页 共{pages}页",
        text::clean(&form.printed_at, false),
        hash.to_ascii_lowercase(),
        text::clean(&form.group_number, false),
    );
    let size = 7.5f32.min(WIDTH / c.width(&footer, 1.0).max(1.0));
    c.text(LEFT, FOOTER_BASELINE, size, &footer, false);
}

/// A table head: titles in their columns (the last takes what is left).
fn column_widths(columns: &[(&str, f32)]) -> Vec<f32> {
    let used: f32 = columns.iter().map(|&(_, w)| w).sum();
    columns
        .iter()
        .map(|&(_, w)| if w > 0.0 { w } else { WIDTH - used })
        .collect()
}

fn table_row(c: &mut Canvas, y: f32, h: f32, widths: &[f32], values: &[&str], style: Style) {
    let mut x = LEFT;
    for (value, &w) in values.iter().zip(widths) {
        c.cell(x, y, w, h);
        c.boxed(x, y, w, h, value, style);
        x += w;
    }
}

/// A page after the first, as planned.
fn draw_continued(c: &mut Canvas, form: &FormData, plan: &PagePlan) {
    let top = CONT_TOP;
    let mut y = top;
    if plan.supplement {
        y = section(c, y, "四、到访人员签证及工作单位");
        let widths = column_widths(&SUPPLEMENT_COLUMNS);
        let titles: Vec<&str> = SUPPLEMENT_COLUMNS.iter().map(|&(t, _)| t).collect();
        table_row(c, y, VISITOR_HEAD_H, &widths, &titles, VISITOR_HEAD);
        y += VISITOR_HEAD_H;
        for row in 0..MAX_VISITORS {
            let values: [String; 7] = match form.visitors.get(row) {
                Some(v) => [
                    if v.seq > 0 {
                        v.seq.to_string()
                    } else {
                        (row + 1).to_string()
                    },
                    format!("{} {}", v.surname, v.given_name).trim().to_string(),
                    v.visa_type.clone(),
                    v.stay_days.clone(),
                    v.employer_country.clone(),
                    v.employer_city.clone(),
                    v.employer_address.clone(),
                ],
                None => Default::default(),
            };
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            table_row(c, y, VISITOR_ROW_H, &widths, &values, VISITOR_CELL);
            y += VISITOR_ROW_H;
        }
    }
    if plan.itinerary {
        let title = if plan.continued {
            "五、在华日程（续）"
        } else {
            "五、在华日程"
        };
        y = section(c, y, title);
        let widths = column_widths(&ITINERARY_COLUMNS);
        let titles: Vec<&str> = ITINERARY_COLUMNS.iter().map(|&(t, _)| t).collect();
        table_row(c, y, ITINERARY_HEAD_H, &widths, &titles, VISITOR_HEAD);
        y += ITINERARY_HEAD_H;
        let rows: Vec<[String; 5]> = if plan.rows.is_empty() {
            vec![Default::default()]
        } else {
            form.itinerary[plan.rows.clone()]
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    [
                        if r.seq > 0 {
                            r.seq.to_string()
                        } else {
                            (plan.rows.start + i + 1).to_string()
                        },
                        r.date.clone(),
                        r.city.clone(),
                        r.activity.clone(),
                        r.host.clone(),
                    ]
                })
                .collect()
        };
        for values in &rows {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            table_row(c, y, ITINERARY_ROW_H, &widths, &values, VISITOR_CELL);
            y += ITINERARY_ROW_H;
        }
    }
    if plan.declaration {
        y = section(c, y, "六、申请单位声明");
        draw_declaration(c, y);
        y += DECLARATION_H;
    }
    c.frame(LEFT, top, WIDTH, y - top);
}

fn draw_declaration(c: &mut Canvas, y: f32) {
    c.cell(LEFT, y, WIDTH, DECLARATION_H);
    let size = 10.5;
    let indent = "\u{3000}\u{3000}";
    let para = format!("{indent}{DECLARATION}");
    c.boxed_clean(
        LEFT + 4.0,
        y + 4.0,
        WIDTH - 8.0,
        4.0 * size * text::LINE_HEIGHT + 5.0,
        &para,
        Style {
            max: size,
            min: 8.0,
            align: Align::Left,
            bold: false,
            keep_newlines: false,
        },
    );
    // Signature, stamp and date, low in the box so that the seal has room above them.
    let sign_y = y + DECLARATION_H - 40.0;
    let date_y = y + DECLARATION_H - 14.0;
    let left = LEFT + 12.0;
    let label = "法定代表人（签字）：";
    c.text(left, sign_y, size, label, false);
    let after = left + c.width(label, size);
    c.hline(after + 2.0, after + 110.0, sign_y + 2.0);

    let stamp_x = LEFT + WIDTH * 0.60;
    c.text(stamp_x, sign_y, size, "单位（盖章）", false);
    let mut x = stamp_x;
    c.text(x, date_y, size, "日期：", false);
    x += c.width("日期：", size);
    for (blank, word) in [(44.0, "年"), (26.0, "月"), (26.0, "日")] {
        c.hline(x + 1.0, x + blank - 1.0, date_y + 2.0);
        x += blank;
        c.text(x, date_y, size, word, false);
        x += c.width(word, size);
    }
}

/// The QR code: one filled path of dark runs, `size` wide, top-left at (`x`, `y`).
fn draw_qr(c: &mut Canvas, qr: &QrMatrix, x: f32, y: f32, size: f32) {
    if qr.width == 0 {
        return;
    }
    let m = size / qr.width as f32;
    let mut pb = PathBuilder::new();
    for (row, col, len) in qr.runs() {
        if let Some(r) = Rect::from_xywh(x + col as f32 * m, y + row as f32 * m, len as f32 * m, m)
        {
            pb.push_rect(r);
        }
    }
    if let Some(path) = pb.finish() {
        c.surface.set_stroke(None);
        c.surface.set_fill(Some(Fill::default()));
        c.surface.draw_path(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_visitor_column_keeps_a_usable_width() {
        let used: f32 = VISITOR_COLUMNS.iter().map(|&(_, w)| w).sum();
        assert!(
            WIDTH - used > 40.0,
            "职务 column too narrow: {}",
            WIDTH - used
        );
    }

    #[test]
    fn itinerary_rows_are_spread_over_pages_and_the_declaration_comes_last() {
        for n in [0usize, 1, 5, 10, 11, 12, 20, 30, 45, 60] {
            let plans = plan_pages(n);
            assert!(plans[0].supplement, "{n}");
            assert!(plans.iter().skip(1).all(|p| !p.supplement));
            assert!(plans.last().is_some_and(|p| p.declaration), "{n}");
            assert_eq!(plans.iter().filter(|p| p.declaration).count(), 1);
            let rows: Vec<usize> = plans.iter().flat_map(|p| p.rows.clone()).collect();
            assert_eq!(rows, (0..n).collect::<Vec<_>>(), "{n}");
            assert!(plans.len() <= 4, "{n}: {plans:?}");
        }
        assert_eq!(plan_pages(3).len(), 1);
    }

    #[test]
    fn printer_is_shareable() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Printer>();
    }

    #[test]
    fn no_font_means_no_pdf_and_help() {
        let p = Printer::without_font();
        assert!(p.font_path().is_none());
        assert!(matches!(
            p.render(&FormData::default()),
            Err(PdfError::NoFont)
        ));
        let help = p
            .missing_font_help(Path::new("/srv/laihua"))
            .unwrap_or_default();
        assert!(help.contains("/srv/laihua/fonts") && help.contains("LAIHUA_FONT"));
    }
}
