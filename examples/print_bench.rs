//! Times the PDF of a full form (5 visitors, long values): `cargo run --release --example
//! print_bench`. Prints the font, the median and 95th-percentile time and the size.

use std::path::Path;
use std::time::Instant;

use laihua::pdf::{sample_form, Printer};

const RUNS: usize = 200;

fn main() {
    let data_dir = Path::new("./data");
    let printer = Printer::discover(None, data_dir);
    let Some(font) = printer.font_path() else {
        eprintln!(
            "{}",
            printer.missing_font_help(data_dir).unwrap_or_default()
        );
        std::process::exit(1);
    };
    let (face, index) = printer.font_face().unwrap_or(("?", 0));
    println!("font: {} ({face}, face {index})", font.display());

    let form = sample_form();
    let mut size = 0;
    for _ in 0..5 {
        match printer.render(&form) {
            Ok(pdf) => size = pdf.len(),
            Err(e) => {
                eprintln!("render failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let pdf = printer.render(&form);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if let Ok(pdf) = pdf {
            size = pdf.len();
        }
    }
    times.sort_by(f64::total_cmp);
    println!("median: {:.2} ms", times[RUNS / 2]);
    println!("p95: {:.2} ms", times[RUNS * 95 / 100]);
    println!("size: {:.1} KB", size as f64 / 1024.0);
}
