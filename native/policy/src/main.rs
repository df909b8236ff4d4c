//! `portcullis-policy` command line: evaluate a bundle's policy against an input document.

fn main() {
    eprintln!("usage: portcullis-policy eval --bundle B --input F");
    std::process::exit(2);
}
