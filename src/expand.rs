//! `--expand-env`: the few shell expansions a distroless CMD needs, and
//! nothing more (no command substitution, no globbing, no word splitting).
//!
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
//! and `$$` for a literal `$`. A default or message is itself expanded, but
//! only when it is used, as in the shell; its syntax is checked either way,
//! so a typo never hides behind a variable that happens to be set.
//!
//! Pure: the environment comes in as a lookup function, so the parser can be
//! unit-tested and fuzzed without touching the process.

use crate::error::{Error, Result};

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var { name: String, op: Option<(Op, Vec<Part>)> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `:-`: the word when unset or empty.
    DefaultIfEmpty,
    /// `-`: the word when unset.
    DefaultIfUnset,
    /// `:?`: fail with the word when unset or empty.
    FailIfEmpty,
}

/// Finds a variable's value: None when unset, an error when it cannot be
/// used (not UTF-8).
pub type Lookup = dyn Fn(&str) -> Result<Option<String>>;

/// The most one argument may expand to: the kernel refuses a longer one
/// at exec (MAX_ARG_STRLEN, 32 pages, less its NUL).
pub const MAX_ARG: usize = 32 * 4096 - 1;
/// The most the whole command may expand to, counting each argument's NUL:
/// exec's ARG_MAX under the default 8 MiB stack limit.
pub const MAX_COMMAND: usize = 2 * 1024 * 1024;

/// Expands every word of a command, refusing (125) before the expansion
/// grows past what exec could take: a 100 kB variable named 30,000 times
/// must not first cost 3 GB.
pub fn expand_command(words: &[String], lookup: &Lookup) -> Result<Vec<String>> {
    let mut left = MAX_COMMAND;
    let mut expanded = Vec::with_capacity(words.len());
    for (n, word) in words.iter().enumerate() {
        let limit = MAX_ARG.min(left.saturating_sub(1));
        let out = expand_bounded(word, lookup, limit).map_err(|e| match e {
            Bound::Error(e) => e,
            Bound::Exceeded if limit < MAX_ARG => Error::new(format!(
                "--expand-env: the command expands to more than {MAX_COMMAND} bytes (exec's ARG_MAX); \
                 it grew past it at argument {}",
                n + 1
            )),
            Bound::Exceeded => Error::new(format!(
                "--expand-env: argument {} expands to more than {MAX_ARG} bytes (the kernel's limit for one argument)",
                n + 1
            )),
        })?;
        left -= out.len() + 1;
        expanded.push(out);
    }
    Ok(expanded)
}

/// Expands `text` once, looking variables up with `lookup`. Errors name the
/// text and what is wrong with it.
pub fn expand(text: &str, lookup: &Lookup) -> Result<String> {
    expand_bounded(text, lookup, MAX_ARG).map_err(|e| match e {
        Bound::Error(e) => e,
        Bound::Exceeded => Error::new(format!(
            "--expand-env: an argument expands to more than {MAX_ARG} bytes (the kernel's limit for one argument)"
        )),
    })
}

/// Why an expansion stopped.
enum Bound {
    Error(Error),
    Exceeded,
}

impl From<Error> for Bound {
    fn from(e: Error) -> Self {
        Bound::Error(e)
    }
}

fn expand_bounded(text: &str, lookup: &Lookup, limit: usize) -> std::result::Result<String, Bound> {
    let parts = parse(text).map_err(|why| Error::new(format!("--expand-env: {text:?}: {why}")))?;
    let mut out = Out { text: String::new(), limit };
    eval(&parts, lookup, &mut out)?;
    Ok(out.text)
}

/// The expansion so far, refusing to grow past its limit. Each push adds
/// at most one value or literal, so memory stays within the limit plus one
/// variable.
struct Out {
    text: String,
    limit: usize,
}

impl Out {
    fn push(&mut self, piece: &str) -> std::result::Result<(), Bound> {
        if self.text.len() + piece.len() > self.limit {
            return Err(Bound::Exceeded);
        }
        self.text.push_str(piece);
        Ok(())
    }
}

fn parse(text: &str) -> std::result::Result<Vec<Part>, String> {
    parse_word(&mut text.char_indices().peekable(), 0)
}

/// How deep `${A:-${B:-...}}` may nest: parsing, expanding and dropping
/// recurse once per level, and a long argument must not exhaust the stack.
const MAX_NESTING: usize = 16;

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Parses up to the end of the text (`depth` 0), or, inside `${...}`, up to
/// the `}` that closes it (which is consumed).
fn parse_word(chars: &mut Chars<'_>, depth: usize) -> std::result::Result<Vec<Part>, String> {
    let in_braces = depth > 0;
    let mut parts = Vec::new();
    let mut literal = String::new();
    loop {
        let Some((at, c)) = chars.next() else {
            if in_braces {
                return Err("unterminated ${ (add the closing })".into());
            }
            break;
        };
        match c {
            '}' if in_braces => break,
            '$' => match chars.peek().map(|&(_, next)| next) {
                Some('$') => {
                    chars.next();
                    literal.push('$');
                }
                Some('{') => {
                    chars.next();
                    flush(&mut literal, &mut parts);
                    parts.push(parse_braced(chars, depth + 1)?);
                }
                Some(next) if is_name_start(next) => {
                    flush(&mut literal, &mut parts);
                    parts.push(Part::Var { name: take_name(chars), op: None });
                }
                _ => return Err(format!("bad variable name after $ at byte {at} (write $$ for a literal $)")),
            },
            _ => literal.push(c),
        }
    }
    flush(&mut literal, &mut parts);
    Ok(parts)
}

/// After `${`: a name, then `}` or an operator, a word and `}`.
fn parse_braced(chars: &mut Chars<'_>, depth: usize) -> std::result::Result<Part, String> {
    if depth > MAX_NESTING {
        return Err(format!("${{...}} nested deeper than {MAX_NESTING} levels"));
    }
    if !chars.peek().is_some_and(|&(_, c)| is_name_start(c)) {
        return match chars.peek() {
            None => Err("unterminated ${ (add the closing })".into()),
            Some(&(at, _)) => Err(format!("bad variable name in ${{...}} at byte {at}")),
        };
    }
    let name = take_name(chars);
    let op = match chars.next() {
        Some((_, '}')) => return Ok(Part::Var { name, op: None }),
        Some((_, '-')) => Op::DefaultIfUnset,
        Some((_, ':')) => match chars.next() {
            Some((_, '-')) => Op::DefaultIfEmpty,
            Some((_, '?')) => Op::FailIfEmpty,
            Some((at, _)) => {
                return Err(format!("unsupported operator in ${{{name}:...}} at byte {at} (use :- - or :?)"))
            }
            None => return Err("unterminated ${ (add the closing })".into()),
        },
        Some((at, _)) => {
            return Err(format!("bad character in ${{{name}...}} at byte {at} (use :- - or :?)"));
        }
        None => return Err("unterminated ${ (add the closing })".into()),
    };
    let word = parse_word(chars, depth)?;
    Ok(Part::Var { name, op: Some((op, word)) })
}

fn eval(parts: &[Part], lookup: &Lookup, out: &mut Out) -> std::result::Result<(), Bound> {
    for part in parts {
        match part {
            Part::Literal(text) => out.push(text)?,
            Part::Var { name, op } => {
                let value = lookup(name)?;
                match op {
                    None => out.push(value.as_deref().unwrap_or(""))?,
                    Some((Op::DefaultIfUnset, word)) => match value {
                        Some(value) => out.push(&value)?,
                        None => eval(word, lookup, out)?,
                    },
                    Some((Op::DefaultIfEmpty, word)) => match value.filter(|v| !v.is_empty()) {
                        Some(value) => out.push(&value)?,
                        None => eval(word, lookup, out)?,
                    },
                    Some((Op::FailIfEmpty, word)) => match value.filter(|v| !v.is_empty()) {
                        Some(value) => out.push(&value)?,
                        None => {
                            // The message goes into one line of stderr: the
                            // one-argument bound is plenty.
                            let mut message = Out { text: String::new(), limit: MAX_ARG };
                            eval(word, lookup, &mut message)?;
                            if message.text.is_empty() {
                                message.text = "not set or empty".into();
                            }
                            return Err(Error::new(format!("--expand-env: {name}: {}", message.text)).into());
                        }
                    },
                }
            }
        }
    }
    Ok(())
}

fn flush(literal: &mut String, parts: &mut Vec<Part>) {
    if !literal.is_empty() {
        parts.push(Part::Literal(std::mem::take(literal)));
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn take_name(chars: &mut Chars<'_>) -> String {
    let mut name = String::new();
    while let Some(&(_, c)) = chars.peek() {
        if c != '_' && !c.is_ascii_alphanumeric() {
            break;
        }
        name.push(c);
        chars.next();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Result<Option<String>> {
        Ok(match name {
            "PORT" => Some("8080".into()),
            "EMPTY" => Some(String::new()),
            "HOST" => Some("example".into()),
            "DOLLAR" => Some("$HOST".into()),
            "BAD" => return Err(Error::new("BAD is not valid UTF-8")),
            _ => None,
        })
    }

    #[test]
    fn nesting_is_bounded_so_the_stack_is_too() {
        let nested = |levels: usize| format!("{}x{}", "${UNSET-".repeat(levels), "}".repeat(levels));
        assert_eq!(ok(&nested(MAX_NESTING)), "x");
        assert!(err(&nested(MAX_NESTING + 1)).contains("nested deeper than 16"));
        // What crashed before the bound: 26,000 levels in one argument.
        assert!(err(&nested(26_000)).contains("nested deeper"));
    }

    fn ok(text: &str) -> String {
        expand(text, &env).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> String {
        match expand(text, &env) {
            Ok(out) => panic!("{text:?} expanded to {out:?}, want an error"),
            Err(e) => {
                assert_eq!(e.status(), 125);
                e.message().to_owned()
            }
        }
    }

    #[test]
    fn plain_and_braced_names() {
        assert_eq!(ok("--port=$PORT"), "--port=8080");
        assert_eq!(ok("${PORT}0"), "80800");
        assert_eq!(ok("$PORT_X"), "", "the longest name is taken");
        assert_eq!(ok("$PORT-x"), "8080-x");
        assert_eq!(ok("$HOST:$PORT"), "example:8080");
        assert_eq!(ok("$UNSET"), "");
        assert_eq!(ok("no dollars here"), "no dollars here");
        assert_eq!(ok(""), "");
        assert_eq!(ok("é${PORT}é"), "é8080é");
    }

    #[test]
    fn defaults_distinguish_unset_from_empty() {
        assert_eq!(ok("${UNSET:-5000}"), "5000");
        assert_eq!(ok("${EMPTY:-5000}"), "5000");
        assert_eq!(ok("${PORT:-5000}"), "8080");
        assert_eq!(ok("${UNSET-5000}"), "5000");
        assert_eq!(ok("${EMPTY-5000}"), "");
        assert_eq!(ok("${UNSET:-}"), "");
        assert_eq!(ok("${UNSET:-a b  c}"), "a b  c", "no word splitting");
        assert_eq!(ok("${UNSET:-*}"), "*", "no globbing");
    }

    #[test]
    fn defaults_are_expanded_only_when_used() {
        assert_eq!(ok("${UNSET:-$HOST}"), "example");
        assert_eq!(ok("${UNSET:-${ALSO:-x}y}z"), "xyz");
        assert_eq!(ok("${PORT:-${UNSET:?never evaluated}}"), "8080");
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(ok("$DOLLAR"), "$HOST");
        assert_eq!(ok("${UNSET:-$DOLLAR}"), "$HOST");
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        assert_eq!(ok("$$"), "$");
        assert_eq!(ok("cost: $$5"), "cost: $5");
        assert_eq!(ok("$$$PORT"), "$8080");
        assert_eq!(ok("$$$$"), "$$");
        assert_eq!(ok("${UNSET:-$$}"), "$");
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        assert_eq!(ok("${PORT:?set PORT}"), "8080");
        assert!(err("${UNSET:?set UNSET to the port}").contains("UNSET: set UNSET to the port"));
        assert!(err("${EMPTY:?}").contains("EMPTY: not set or empty"));
        assert!(err("${UNSET:?need $HOST}").contains("need example"));
        assert!(err("x$BAD").contains("BAD is not valid UTF-8"));
        assert_eq!(ok("${PORT:-$BAD}"), "8080", "an unused default is not looked up");
    }

    #[test]
    fn syntax_errors_are_refused_even_when_unused() {
        for bad in [
            "${PORT",
            "${",
            "$",
            "a$",
            "$1",
            "$ x",
            "${1}",
            "${}",
            "${PORT:-x",
            "${PORT:-${X}",
            "${PORT:+x}",
            "${PORT?x}",
            "${PORT=x}",
            "${PORT:}",
            "${PORT:",
            "${PORT-${1}}",
            "$(id)",
            "${#PORT}",
        ] {
            let message = err(bad);
            assert!(message.starts_with("--expand-env: "), "{bad:?}: {message}");
            assert!(message.contains(&format!("{bad:?}")), "names the argument: {message}");
        }
        assert!(err("${PORT").contains("unterminated"));
        assert!(err("$1").contains("$$"), "says how to write a literal $");
    }

    #[test]
    fn command_substitution_stays_literal_inside_a_default() {
        assert_eq!(ok("${UNSET:-`id`}"), "`id`");
        assert_eq!(ok("${UNSET:-(id)}"), "(id)");
    }

    #[test]
    fn expansion_is_bounded_as_exec_bounds_it() {
        let big = "x".repeat(100_000);
        let lookup = move |name: &str| -> Result<Option<String>> { Ok((name == "BIG").then(|| big.clone())) };
        let words = |text: &str, n: usize| vec![text.to_string(); n];
        // One argument: 131,071 bytes pass, one more is refused.
        let at_limit = format!("${{BIG}}{}", "y".repeat(MAX_ARG - 100_000));
        assert_eq!(expand_command(&words(&at_limit, 1), &lookup).unwrap()[0].len(), MAX_ARG);
        let e = expand_command(&words(&format!("{at_limit}y"), 1), &lookup).unwrap_err();
        assert!(e.message().contains("argument 1 expands to more than 131071 bytes"), "{e}");
        // What needed 3 GB: a 100 kB variable named 30,000 times.
        let e = expand_command(&words(&"$BIG".repeat(30_000), 1), &lookup).unwrap_err();
        assert_eq!(e.status(), 125);
        // The whole command: 20 arguments of 100 kB pass, 21 do not.
        assert_eq!(expand_command(&words("$BIG", 20), &lookup).unwrap().len(), 20);
        let e = expand_command(&words("$BIG", 21), &lookup).unwrap_err();
        assert!(e.message().contains("more than 2097152 bytes (exec's ARG_MAX)"), "{e}");
        assert!(e.message().contains("argument 21"), "{e}");
    }

    /// A small deterministic fuzz: every string over the interesting
    /// alphabet, up to length 5, either expands or is refused; never panics.
    #[test]
    fn no_input_panics() {
        let alphabet: Vec<char> = "${}:-?Ax_1 ".chars().collect();
        let mut stack = vec![String::new()];
        while let Some(text) = stack.pop() {
            let _ = expand(&text, &env);
            if text.chars().count() < 5 {
                for &c in &alphabet {
                    let mut next = text.clone();
                    next.push(c);
                    stack.push(next);
                }
            }
        }
    }
}
