//! The printed form 《邀请外国人来华申请表》: one A4 page whose text can be searched and whose QR code,
//! read back from the rendered page, names the group and the version of the data.
//!
//! Needs a Chinese font (fonts-noto-cjk) and poppler-utils (pdftotext, pdfinfo, pdftoppm); .ci/run
//! installs both.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use laihua::pdf::{
    qr_payload, qr_svg, sample_form, FormData, PdfError, Printer, QrMatrix, MAX_VISITORS,
};

/// A fresh, empty directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("laihua-pdf-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn printer() -> Printer {
    let empty = TempDir::new("printer");
    let printer = Printer::discover(None, &empty.0);
    assert!(
        printer.font_path().is_some(),
        "no Chinese font on this machine: {}",
        printer.missing_font_help(&empty.0).unwrap_or_default()
    );
    printer
}

fn has_tool(tool: &str) -> bool {
    Command::new(tool).arg("-v").output().is_ok()
}

/// Runs a poppler tool, or returns `None` after a notice when poppler-utils is not installed.
fn poppler(tool: &str, args: &[&str]) -> Option<Vec<u8>> {
    if !has_tool(tool) {
        println!("NOTICE: {tool} is not installed (apt-get install poppler-utils); check skipped");
        return None;
    }
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[test]
fn five_visitor_form_is_two_small_pages_with_searchable_chinese_text() {
    let form = sample_form();
    assert_eq!(form.visitors.len(), MAX_VISITORS);
    let pdf = printer().render(&form).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert!(pdf.len() < 300 * 1024, "PDF is {} bytes", pdf.len());

    // Two pages (the visitors' visas and employers, the itinerary and the declaration on the
    // second): the page tree says so, and so does poppler.
    let pages = pdf.windows(10).filter(|w| w == b"/Type/Page").count()
        - pdf.windows(11).filter(|w| w == b"/Type/Pages").count();
    assert_eq!(pages, 2);

    let dir = TempDir::new("text");
    let file = dir.0.join("form.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let file = file.to_str().unwrap();
    if let Some(info) = poppler("pdfinfo", &[file]) {
        let info = String::from_utf8(info).unwrap();
        assert!(
            info.lines()
                .any(|l| l.split_whitespace().eq(["Pages:", "2"])),
            "{info}"
        );
        assert!(info.contains("A4"), "{info}");
    }
    if let Some(text) = poppler("pdftotext", &["-enc", "UTF-8", file, "-"]) {
        let text = String::from_utf8(text).unwrap();
        for wanted in [
            "邀请外国人来华申请表",
            form.unit.name.as_str(),
            form.visitors[2].passport_no.as_str(),
            form.group_number.as_str(),
            "一、邀请单位",
            "三、到访人员",
            "签证申办国家（地区）",
            "法定代表人（签字）",
            "Hubert Blaine",
            "数据版本 3f5a9c0e12b47d68",
            "团组人数",
            "四、到访人员签证及工作单位",
            "拟申请签证种类",
            "M（商贸）",
            "五、在华日程",
            "出席中德（常州）创新产业园合作交流会",
            "六、申请单位声明",
            "第2页 共2页",
        ] {
            assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
        }
        // The declaration is the one text the HTML print shows too.
        let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            flat.contains(laihua::pdf::DECLARATION),
            "declaration not in:\n{text}"
        );
    }
}

/// Reads a binary greyscale PGM (P5) as pdftoppm writes it.
fn read_pgm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8(bytes[start..pos].to_vec()).unwrap());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], "255");
    let pixels = bytes[pos + 1..].to_vec();
    assert_eq!(pixels.len(), w * h);
    (w, h, pixels)
}

fn decode_qr(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    img.detect_grids()
        .iter()
        .map(|g| g.decode().unwrap().1)
        .collect()
}

#[test]
fn qr_code_read_from_the_rendered_page_names_group_and_data_version() {
    let form = sample_form();
    let pdf = printer().render(&form).unwrap();
    let dir = TempDir::new("qr");
    let file = dir.0.join("form.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let prefix = dir.0.join("page");
    // Greyscale PGM rather than PNG: the same 150 dpi raster, readable without an image crate.
    let args = [
        "-r",
        "150",
        "-gray",
        "-singlefile",
        file.to_str().unwrap(),
        prefix.to_str().unwrap(),
    ];
    if poppler("pdftoppm", &args).is_none() {
        return;
    }
    let (w, h, pixels) = read_pgm(&std::fs::read(dir.0.join("page.pgm")).unwrap());
    assert!(
        w.abs_diff(1240) <= 1 && h.abs_diff(1754) <= 1,
        "A4 at 150 dpi: {w}×{h}"
    );
    let found = decode_qr(w, h, |x, y| pixels[y * w + x]);
    assert_eq!(found, vec!["LAIHUA|20260007|3f5a9c0e12b47d68".to_string()]);
    assert_eq!(found[0], qr_payload(&form.group_number, &form.data_hash));
}

/// The module grid rasterised at 4 pixels a module with a quiet zone of 4 modules.
fn raster(dark: &dyn Fn(usize, usize) -> bool, modules: usize) -> (usize, Vec<u8>) {
    let scale = 4;
    let side = (modules + 8) * scale;
    let mut px = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            if dark(x, y) {
                for dy in 0..scale {
                    for dx in 0..scale {
                        px[((y + 4) * scale + dy) * side + (x + 4) * scale + dx] = 0;
                    }
                }
            }
        }
    }
    (side, px)
}

#[test]
fn qr_matrix_and_svg_decode_back_to_the_payload() {
    let payload = qr_payload("20260123", &"ab".repeat(32));
    assert_eq!(payload, "LAIHUA|20260123|abababababababab");

    let m = QrMatrix::encode(&payload).unwrap();
    let (side, px) = raster(&|x, y| m.is_dark(x, y), m.width);
    assert_eq!(
        decode_qr(side, side, |x, y| px[y * side + x]),
        vec![payload.clone()]
    );

    // The SVG: read its viewBox and its runs ("M x yhNv1h-Nz") back into a grid.
    let svg = qr_svg(&payload);
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let total: usize = view.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut grid = vec![false; total * total];
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (x, rest) = run.split_once(' ').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let len = rest.split('v').next().unwrap();
        let (x, y, len): (usize, usize, usize) =
            (x.parse().unwrap(), y.parse().unwrap(), len.parse().unwrap());
        for i in x..x + len {
            grid[y * total + i] = true;
        }
    }
    // The SVG carries its own quiet zone of 4 modules: strip it, then compare and decode.
    let inner = total - 8;
    assert_eq!(inner, m.width);
    let svg_dark = |x: usize, y: usize| grid[(y + 4) * total + x + 4];
    for y in 0..inner {
        for x in 0..inner {
            assert_eq!(svg_dark(x, y), m.is_dark(x, y), "module {x},{y}");
        }
    }
    let (side, px) = raster(&svg_dark, inner);
    assert_eq!(
        decode_qr(side, side, |x, y| px[y * side + x]),
        vec![payload]
    );
}

fn system_font() -> PathBuf {
    printer().font_path().unwrap().to_path_buf()
}

#[test]
fn discover_falls_back_to_a_system_font() {
    let data = TempDir::new("fallback");
    std::fs::create_dir_all(data.0.join("fonts")).unwrap();
    let missing = data.0.join("no-such-font.ttf");
    let printer = Printer::discover(Some(&missing), &data.0);
    let path = printer.font_path().expect("a system Chinese font");
    assert!(!path.starts_with(&data.0), "{}", path.display());
    assert!(printer.missing_font_help(&data.0).is_none());
    // A collection is read at its Simplified Chinese face.
    if path.ends_with("NotoSansCJK-Regular.ttc") {
        assert_eq!(printer.font_face(), Some(("Noto Sans CJK SC", 2)));
    }
}

#[test]
fn discover_prefers_a_font_in_the_data_dir_and_the_configured_one_over_it() {
    let system = system_font();
    let data = TempDir::new("datadir");
    let fonts = data.0.join("fonts");
    std::fs::create_dir_all(&fonts).unwrap();
    // Not a font (skipped with a warning), then a real one.
    std::fs::write(fonts.join("a-broken.ttf"), b"not a font at all").unwrap();
    std::fs::write(fonts.join("readme.txt"), b"ignored").unwrap();
    let ext = system.extension().unwrap().to_str().unwrap().to_string();
    let ours = fonts.join(format!("b-chinese.{ext}"));
    std::fs::copy(&system, &ours).unwrap();

    let printer = Printer::discover(None, &data.0);
    assert_eq!(printer.font_path(), Some(ours.as_path()));
    let pdf = printer.render(&sample_form()).unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    let printer = Printer::discover(Some(&system), &data.0);
    assert_eq!(printer.font_path(), Some(system.as_path()));
}

#[test]
fn without_a_font_render_fails_and_the_help_says_how_to_add_one() {
    let printer = Printer::without_font();
    assert_eq!(printer.font_path(), None);
    assert!(matches!(
        printer.render(&sample_form()),
        Err(PdfError::NoFont)
    ));
    let help = printer
        .missing_font_help(Path::new("/var/lib/laihua"))
        .unwrap();
    for wanted in [
        "字体",
        "/var/lib/laihua/fonts",
        "LAIHUA_FONT",
        "fonts-noto-cjk",
        ".ttc",
    ] {
        assert!(help.contains(wanted), "{wanted:?} not in {help}");
    }
}

#[test]
fn a_long_itinerary_continues_on_further_pages() {
    let mut form = sample_form();
    let stop = form.itinerary[1].clone();
    form.itinerary = (1..=60)
        .map(|i| laihua::pdf::ItineraryInfo {
            seq: i,
            city: format!("城市{i}"),
            ..stop.clone()
        })
        .collect();
    let pdf = printer().render(&form).unwrap();
    let pages = pdf.windows(10).filter(|w| w == b"/Type/Page").count()
        - pdf.windows(11).filter(|w| w == b"/Type/Pages").count();
    assert!(pages >= 3, "{pages} pages");
    let dir = TempDir::new("long");
    let file = dir.0.join("form.pdf");
    std::fs::write(&file, &pdf).unwrap();
    if let Some(text) = poppler("pdftotext", &["-enc", "UTF-8", file.to_str().unwrap(), "-"]) {
        let text = String::from_utf8(text).unwrap();
        for wanted in ["城市1", "城市60", "五、在华日程（续）", "六、申请单位声明"]
        {
            assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
        }
    }
}

#[test]
fn a_short_form_and_too_many_visitors() {
    let printer = printer();
    let mut form = FormData {
        group_number: "20260001".into(),
        data_hash: "00ff".into(),
        ..sample_form()
    };
    form.visitors.truncate(1);
    let pdf = printer.render(&form).unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    let mut form = sample_form();
    let extra = form.visitors[0].clone();
    form.visitors.push(extra);
    assert!(matches!(
        printer.render(&form),
        Err(PdfError::TooManyVisitors(6))
    ));
}

#[test]
fn printer_is_cheap_to_share_between_threads() {
    let printer = printer();
    let form = sample_form();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (p, f) = (printer.clone(), form.clone());
            std::thread::spawn(move || p.render(&f).unwrap().len())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap() > 1000);
    }
}
