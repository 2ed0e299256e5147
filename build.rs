//! Stamps the target triple and the git commit into the binary, so that
//! `hardbox --version` says exactly what was built and from what.
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
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
