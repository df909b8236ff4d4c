//! `portcullis-policy` command line: evaluate a bundle's policy against an input document.
//! Prints the decision as JSON; a policy that cannot decide prints a fail-closed deny. When the
//! bundle declares an input projection it is applied (`--whole-input` evaluates the whole input).

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: portcullis-policy eval --bundle B --input F [--data D] [--raw] [--whole-input]
       portcullis-policy bench --bundle B --input F [--data D] [--n N] [--whole-input]   (p50/p99 in ns)
       portcullis-policy project --bundle B --input F   (prints the projected input)";

/// Times `n` evaluations one by one in this process (no napi, no process start-up).
/// Times `n` evaluations one by one in this process (no napi, no process start-up), including
/// the projection when the bundle declares one.
fn bench(
    bundle: &std::path::Path,
    data: Option<Vec<u8>>,
    input: &[u8],
    n: usize,
    whole: bool,
) -> Result<ExitCode, String> {
    let b = portcullis_policy::read_bundle(bundle).map_err(|e| e.to_string())?;
    let data = data.unwrap_or(b.data);
    let mut engine =
        portcullis_policy::PolicyEngine::new(&b.wasm, &data).map_err(|e| e.to_string())?;
    let projected = !whole && b.projection.is_some();
    engine.set_projection(if whole { None } else { b.projection });
    for _ in 0..n.min(2000) {
        engine.evaluate_bytes(input).map_err(|e| e.to_string())?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let out = engine.evaluate_bytes(input).map_err(|e| e.to_string())?;
        std::hint::black_box(out);
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    println!(
        "{{\"n\":{n},\"p50_ns\":{},\"p99_ns\":{},\"projected\":{projected}}}",
        at(0.5),
        at(0.99)
    );
    Ok(ExitCode::SUCCESS)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let [cmd, rest @ ..] = args else {
        return Err(USAGE.into());
    };
    if cmd != "eval" && cmd != "bench" && cmd != "project" {
        return Err(USAGE.into());
    }
    let (mut bundle, mut input, mut data, mut raw, mut n) = (None, None, None, false, 20_000usize);
    let mut whole = false;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bundle" => bundle = it.next().map(PathBuf::from),
            "--input" => input = it.next().map(PathBuf::from),
            "--data" => data = it.next().map(PathBuf::from),
            "--raw" => raw = true,
            "--whole-input" => whole = true,
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
        return bench(&bundle, data, &input, n, whole);
    }
    if cmd == "project" {
        let b = portcullis_policy::read_bundle(&bundle).map_err(|e| e.to_string())?;
        let p = b
            .projection
            .ok_or("the bundle declares no input projection")?;
        let out = p.project(&input).map_err(|e| e.to_string())?;
        println!("{}", String::from_utf8_lossy(&out));
        return Ok(ExitCode::SUCCESS);
    }
    let decision = match portcullis_policy::read_bundle(&bundle) {
        Err(e) => portcullis_policy::fail_closed("POLICY_NO_BUNDLE", &e.to_string()),
        Ok(b) => {
            let data = match data {
                Some(d) => std::fs::read(&d).map_err(|e| format!("{}: {e}", d.display()))?,
                None => b.data,
            };
            let projection = if whole { None } else { b.projection };
            match portcullis_policy::PolicyEngine::new(&b.wasm, &data).map(|mut e| {
                e.set_projection(projection);
                e
            }) {
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
