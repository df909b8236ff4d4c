//! Prints the time each sanitizer detector takes on a file: `cargo run --release --example
//! scan_profile -- FILE`.

fn main() {
    let path = std::env::args().nth(1).expect("usage: scan_profile FILE");
    let text = std::fs::read_to_string(path).expect("read file");
    let s = portcullis_core::sanitizer::Sanitizer::shared();
    let mut n = s.scan_text(&text).len();
    let t = std::time::Instant::now();
    for _ in 0..10 {
        n = s.scan_text(&text).len();
    }
    let per = t.elapsed() / 10;
    let mbps = text.len() as f64 / per.as_secs_f64() / 1e6;
    println!(
        "scan {per:?} ({mbps:.0} MB/s), findings {n} ({} bytes)",
        text.len()
    );
    println!(
        "prefilter (lines, keywords, hits): {:?}",
        s.prefilter_profile(&text)
    );
    let mut rows = s.profile(&text);
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (id, d, k) in rows.iter().take(15) {
        println!("{id:32} {d:>12?} {k}");
    }
}
