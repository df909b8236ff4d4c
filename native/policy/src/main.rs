//! `portcullis-policy` command line: evaluate a bundle's policy against an input document.
//! Prints the decision as JSON; a policy that cannot decide prints a fail-closed deny.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: portcullis-policy eval --bundle B --input F [--data D] [--raw]\n       \
                     portcullis-policy bench --bundle B --input F [--data D] [--n N]   (prints p50/p99 in ns)";

/// Times `n` evaluations one by one in this process (no napi, no process start-up).
fn bench(
    bundle: &std::path::Path,
    data: Option<Vec<u8>>,
    input: &[u8],
    n: usize,
) -> Result<ExitCode, String> {
    let b = portcullis_policy::read_bundle(bundle).map_err(|e| e.to_string())?;
    let data = data.unwrap_or(b.data);
    let mut engine =
        portcullis_policy::PolicyEngine::new(&b.wasm, &data).map_err(|e| e.to_string())?;
    for _ in 0..n.min(2000) {
        engine.evaluate(input).map_err(|e| e.to_string())?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let out = engine.evaluate(input).map_err(|e| e.to_string())?;
        samples.push(t.elapsed().as_nanos() as u64);
        std::hint::black_box(out);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "{{\"n\":{n},\"p50_ns\":{},\"p99_ns\":{}}}",
        at(0.5),
        at(0.99)
    );
    Ok(ExitCode::SUCCESS)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let [cmd, rest @ ..] = args else {
        return Err(USAGE.into());
    };
    if cmd != "eval" && cmd != "bench" {
        return Err(USAGE.into());
    }
    let (mut bundle, mut input, mut data, mut raw, mut n) = (None, None, None, false, 20_000usize);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bundle" => bundle = it.next().map(PathBuf::from),
            "--input" => input = it.next().map(PathBuf::from),
            "--data" => data = it.next().map(PathBuf::from),
            "--raw" => raw = true,
            "--n" => {
                n = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&v| v > 0)
                    .ok_or(USAGE)?
            }
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    let (Some(bundle), Some(input)) = (bundle, input) else {
        return Err(USAGE.into());
    };
    let input = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    if cmd == "bench" {
        let data = data
            .map(|d| std::fs::read(&d).map_err(|e| format!("{}: {e}", d.display())))
            .transpose()?;
        return bench(&bundle, data, &input, n);
    }
    let decision = match portcullis_policy::read_bundle(&bundle) {
        Err(e) => portcullis_policy::fail_closed("POLICY_NO_BUNDLE", &e.to_string()),
        Ok(b) => {
            let data = match data {
                Some(d) => std::fs::read(&d).map_err(|e| format!("{}: {e}", d.display()))?,
                None => b.data,
            };
            match portcullis_policy::PolicyEngine::new(&b.wasm, &data) {
                Err(e) => portcullis_policy::fail_closed("POLICY_ERROR", &e.to_string()),
                Ok(mut engine) if raw => engine.evaluate(&input).unwrap_or_else(|e| {
                    portcullis_policy::fail_closed("POLICY_ERROR", &e.to_string())
                }),
                Ok(mut engine) => portcullis_policy::decide(&mut engine, &input),
            }
        }
    };
    println!("{decision}");
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}
