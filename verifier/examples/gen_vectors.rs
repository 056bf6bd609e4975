//! Writes the RP1 test vectors to `verifier/tests/vectors/` (one JSON file per case).
//!
//! ```sh
//! cargo run -p permit-verifier --example gen_vectors --features issue [-- OUT_DIR]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/vector_cases.rs"]
mod vector_cases;

use std::path::PathBuf;

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"));
    std::fs::create_dir_all(&out).expect("create the output directory");
    // Remove stale vectors so a renamed case does not linger.
    for entry in std::fs::read_dir(&out)
        .expect("read the output directory")
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(entry.path()).expect("remove an old vector");
        }
    }
    let cases = vector_cases::cases();
    for case in &cases {
        let json = vector_cases::to_json(case);
        let text = serde_json::to_string_pretty(&json).expect("serialise") + "\n";
        std::fs::write(out.join(format!("{}.json", case.name)), text).expect("write a vector");
    }
    println!("wrote {} vectors to {}", cases.len(), out.display());
}
