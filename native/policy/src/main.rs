//! `portcullis-policy` command line: evaluate a bundle's policy against an input document.
//! Prints the decision as JSON; a policy that cannot decide prints a fail-closed deny.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: portcullis-policy eval --bundle B --input F [--data D] [--raw]";

fn run(args: &[String]) -> Result<ExitCode, String> {
    let [cmd, rest @ ..] = args else {
        return Err(USAGE.into());
    };
    if cmd != "eval" {
        return Err(USAGE.into());
    }
    let (mut bundle, mut input, mut data, mut raw) = (None, None, None, false);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bundle" => bundle = it.next().map(PathBuf::from),
            "--input" => input = it.next().map(PathBuf::from),
            "--data" => data = it.next().map(PathBuf::from),
            "--raw" => raw = true,
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    let (Some(bundle), Some(input)) = (bundle, input) else {
        return Err(USAGE.into());
    };
    let input = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
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
