//! What a `docker-entrypoint.sh` did with a shell before it exec'd the app,
//! as steps of dhi-bootstrap's plan (issue 15): secrets from files, the
//! umask, resource limits, the ownership of mounted volumes. Each module
//! resolves and checks its step without changing anything, then applies it.

pub mod limits;
pub mod own;
pub mod secrets;
pub mod umask;
