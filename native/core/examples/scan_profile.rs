//! Prints where the sanitizer spends its time on a file: `node scripts/cargo.mjs run --release
//! -p portcullis-core --example scan_profile -- FILE`.

fn main() {
    let path = std::env::args().nth(1).expect("usage: scan_profile FILE");
    let text = std::fs::read_to_string(path).expect("read file");
    let s = portcullis_core::sanitizer::Sanitizer::shared();
    let mut n = s.scan_text(&text).len();
    // The fastest of many rounds: the machine is shared, and the minimum is the least noisy.
    let mut per = std::time::Duration::MAX;
    for _ in 0..100 {
        let t = std::time::Instant::now();
        n = s.scan_text(&text).len();
        per = per.min(t.elapsed());
    }
    let mbps = text.len() as f64 / per.as_secs_f64() / 1e6;
    println!(
        "scan {per:?} ({mbps:.0} MB/s), findings {n} ({} bytes)",
        text.len()
    );
    println!(
        "keywords, anchors, detector runs: {:?}",
        s.prefilter_profile(&text)
    );
    let mut rows = s.line_profile(&text);
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("{:32} {:>12} {:>9} findings", "detector", "time", "bytes");
    for (id, d, bytes, k) in rows.iter().take(12) {
        println!("{id:32} {d:>12?} {bytes:>9} {k}");
    }
}
