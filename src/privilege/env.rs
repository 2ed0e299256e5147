//! The environment the command starts with.

use super::Target;

/// PATH after `--reset-env`: Docker's default.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Sets HOME, USER and LOGNAME from the target; with `reset`, first removes
/// everything but TERM and sets a default PATH. hardbox has no threads, so
/// changing the environment races with nothing.
pub fn apply_environment(target: &Target, reset: bool) {
    if reset {
        for (key, _) in std::env::vars_os() {
            if key != "TERM" {
                std::env::remove_var(key);
            }
        }
        std::env::set_var("PATH", DEFAULT_PATH);
    }
    std::env::set_var("HOME", &target.home);
    std::env::set_var("USER", &target.name);
    std::env::set_var("LOGNAME", &target.name);
}
