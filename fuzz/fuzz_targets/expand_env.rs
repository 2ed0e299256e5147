//! dhi-bootstrap --expand-env. Properties: text without `$` is left as it
//! is; an expansion's result, with each `$` written `$$`, expands back to
//! itself (once means once: nothing in a value is expanded again); and the
//! lookup's failure is an error, never a panic.
#![no_main]

use hardbox::expand::expand;
use hardbox::Error;
use libfuzzer_sys::fuzz_target;

fn lookup(name: &str) -> hardbox::Result<Option<String>> {
    match name {
        "EMPTY" => Ok(Some(String::new())),
        "DOLLAR" => Ok(Some("$HOME ${X} $$".into())),
        "PORT" => Ok(Some("8080".into())),
        "BAD" => Err(Error::new("$BAD is not valid UTF-8")),
        _ if name.len() == 1 => Ok(Some(name.repeat(3))),
        _ => Ok(None),
    }
}

fuzz_target!(|text: &str| {
    let result = expand(text, &lookup);
    if !text.contains('$') {
        assert_eq!(result.as_deref().ok(), Some(text), "{text:?} has nothing to expand");
    }
    if let Ok(out) = result {
        let escaped = out.replace('$', "$$");
        assert_eq!(expand(&escaped, &lookup).ok(), Some(out), "{text:?}");
    }
});
