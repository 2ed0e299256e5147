//! `hardbox --install DIR`: one relative symlink per applet.
//!
//! Relative, because the same tree is mounted elsewhere (an Image Mount at
//! `/dbg`): `/dbg/bin/route-add -> hardbox` still reaches `/dbg/bin/hardbox`,
//! where an absolute `/bin/hardbox` would point into the app's own image.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::applets::APPLETS;
use crate::error::{Error, Result};

/// What `install` will do with one link, decided before anything is touched.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    Create,
    Keep,
    Replace,
}

/// Installs every applet link in `dir`, pointing at `exe`. Checks all of them
/// before changing any, so a refusal leaves `dir` as it was.
pub fn install(exe: &Path, dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let exe = fs::canonicalize(exe).map_err(|e| Error::new(format!("{}: {e}", exe.display())))?;
    fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: cannot create directory: {e}", dir.display())))?;
    let dir_abs = fs::canonicalize(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    let target = relative_path(&dir_abs, &exe);

    let mut plans = Vec::new();
    for applet in APPLETS {
        let link = dir_abs.join(applet.name);
        let plan = plan_link(&link, &exe, &target, force)?;
        plans.push((link, plan));
    }
    let mut made = Vec::new();
    for (link, plan) in plans {
        if plan == Plan::Keep {
            continue;
        }
        if plan == Plan::Replace {
            fs::remove_file(&link).map_err(|e| Error::new(format!("{}: cannot remove: {e}", link.display())))?;
        }
        symlink(&target, &link).map_err(|e| Error::new(format!("{}: cannot create link: {e}", link.display())))?;
        made.push(link);
    }
    Ok(made)
}

fn plan_link(link: &Path, exe: &Path, target: &Path, force: bool) -> Result<Plan> {
    let meta = match fs::symlink_metadata(link) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Plan::Create),
        Err(e) => return Err(Error::new(format!("{}: {e}", link.display()))),
    };
    if meta.file_type().is_symlink() && fs::canonicalize(link).ok().as_deref() == Some(exe) {
        let same = fs::read_link(link).ok().as_deref() == Some(target);
        return Ok(if same { Plan::Keep } else { Plan::Replace });
    }
    if meta.is_dir() {
        return Err(Error::new(format!("{}: is a directory, not replacing it", link.display())));
    }
    // The binary itself under an applet's name (the very path the links
    // would point at, or its only name): replacing it would delete hardbox
    // and leave links that point at themselves. Another hard link of it
    // is just a name, and may go.
    let running = fs::metadata(exe).map_err(|e| Error::new(format!("{}: {e}", exe.display())))?;
    let same_file = (meta.dev(), meta.ino()) == (running.dev(), running.ino());
    if meta.is_file() && (link == exe || (same_file && meta.nlink() == 1)) {
        return Err(Error::new(format!(
            "{}: is the hardbox binary itself; replacing it would delete it (install the binary as {} first)",
            link.display(),
            link.with_file_name("hardbox").display()
        )));
    }
    if force {
        return Ok(Plan::Replace);
    }
    Err(Error::new(format!("{}: exists and is not a link to hardbox (use --force to replace it)", link.display())))
}

/// The path from directory `from` to file `to`, both absolute and canonical.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let rows = [
            ("/dbg/bin", "/dbg/bin/hardbox", "hardbox"),
            ("/usr/local/bin", "/usr/bin/hardbox", "../../bin/hardbox"),
            ("/", "/bin/hardbox", "bin/hardbox"),
            ("/opt/x", "/hardbox", "../../hardbox"),
        ];
        for (from, to, want) in rows {
            assert_eq!(relative_path(Path::new(from), Path::new(to)), PathBuf::from(want), "{from} -> {to}");
        }
    }
}
