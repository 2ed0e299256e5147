//! Stamps the target triple, the git commit and the compiler into the
//! binary, so that `hardbox --version` says exactly what was built, from
//! what, and with which toolchain (the shipped build's nightly, or a stable).
use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=HARDBOX_TARGET={target}");
    // A build without .git (a Docker context, a source tarball) passes the
    // commit in HARDBOX_COMMIT instead.
    let commit = std::env::var("HARDBOX_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let out = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    println!("cargo:rustc-env=HARDBOX_COMMIT={}", commit.unwrap_or_else(|| "unknown".into()));
    println!("cargo:rerun-if-env-changed=HARDBOX_COMMIT");
    // cargo names the rustc it builds with in RUSTC; `rustc -vV` gives its
    // release and commit ("1.97.0-nightly e50aa6fba").
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let verbose = Command::new(rustc).arg("-vV").output().ok().filter(|out| out.status.success());
    let verbose = verbose.map(|out| String::from_utf8_lossy(&out.stdout).into_owned()).unwrap_or_default();
    let field = |name: &str| verbose.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or("unknown");
    let commit = field("commit-hash:");
    println!("cargo:rustc-env=HARDBOX_RUSTC={} {}", field("release:"), &commit[..commit.len().min(9)]);
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
