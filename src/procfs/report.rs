//! The report: sections of named values, printed as aligned text or as one
//! JSON object from the same tree, so the two can never disagree.
//!
//! Every text value is escaped once, when it enters the tree (`Value::text`):
//! no byte a process controls (a command line, a mount point, an
//! environment value) can forge a line in the text or break the JSON.

use std::fmt::Write;

pub type Fields = Vec<(&'static str, Value)>;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Num(u64),
    Bool(bool),
    /// A uid or gid and its name in the process's own accounts: `1000(app)`, as id(1) writes it.
    Id(u32, Option<String>),
    /// On one line, comma-separated (capabilities, groups).
    Words(Vec<Value>),
    /// One per line, below the key (routes, variables).
    Lines(Vec<Value>),
    /// `key value  key value` on one line.
    Pairs(Fields),
    /// Rows below the key, one column per field, under a header.
    Table(Vec<Fields>),
    /// What could not be read: why, and the fix.
    Unreadable(String),
}

impl Value {
    pub fn text(raw: &str) -> Value {
        Value::Text(escape(raw.as_bytes()))
    }

    pub fn bytes(raw: &[u8]) -> Value {
        Value::Text(escape(raw))
    }
}

pub struct Section {
    pub name: &'static str,
    /// Err: the whole section could not be read; one line says why.
    pub body: Result<Fields, String>,
}

/// `\n`, `\t`, `\\`, and `\xNN` for any other control byte and for bytes
/// that are not UTF-8; everything else as it is.
pub fn escape(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// A value on one line: a table cell, or a field after its key.
fn inline(value: &Value) -> String {
    match value {
        Value::Text(text) => text.clone(),
        Value::Num(n) => n.to_string(),
        Value::Bool(true) => "yes".to_string(),
        Value::Bool(false) => "no".to_string(),
        Value::Id(id, Some(name)) => format!("{id}({name})"),
        Value::Id(id, None) => id.to_string(),
        Value::Words(items) | Value::Lines(items) if items.is_empty() => "none".to_string(),
        Value::Words(items) | Value::Lines(items) => items.iter().map(inline).collect::<Vec<_>>().join(","),
        Value::Pairs(fields) => fields.iter().map(|(k, v)| format!("{k} {}", inline(v))).collect::<Vec<_>>().join("  "),
        Value::Table(rows) => format!("{} rows", rows.len()),
        Value::Unreadable(why) => format!("unreadable: {why}"),
    }
}

pub fn text(sections: &[Section]) -> String {
    let mut out = String::new();
    for section in sections {
        let fields = match &section.body {
            Ok(fields) => fields,
            Err(why) => {
                let _ = writeln!(out, "{}: unreadable: {why}", section.name);
                continue;
            }
        };
        let _ = writeln!(out, "{}", section.name);
        let width = fields.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
        for (key, value) in fields {
            match value {
                Value::Lines(items) if !items.is_empty() => {
                    let _ = writeln!(out, "  {key}");
                    for item in items {
                        let _ = writeln!(out, "    {}", inline(item));
                    }
                }
                Value::Table(rows) if !rows.is_empty() => {
                    // A section that is one table (mounts) needs no second heading.
                    if *key != section.name {
                        let _ = writeln!(out, "  {key}");
                    }
                    table(&mut out, rows);
                }
                Value::Table(_) => {
                    let _ = writeln!(out, "  {key:width$}  none");
                }
                value => {
                    let _ = writeln!(out, "  {key:width$}  {}", inline(value));
                }
            }
        }
    }
    out
}

fn table(out: &mut String, rows: &[Fields]) {
    let header: Vec<&str> = rows[0].iter().map(|(key, _)| *key).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|(_, v)| inline(v)).collect()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| cells.iter().filter_map(|row| row.get(i)).map(String::len).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let mut line = |row: &[&str]| {
        let mut text = String::from("  ");
        for (i, cell) in row.iter().enumerate() {
            let last = i + 1 == row.len();
            let _ = write!(text, "  {cell:width$}", width = if last { 0 } else { widths[i] });
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&header);
    for row in &cells {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

pub fn json(pid: u32, sections: &[Section]) -> String {
    let mut out = format!("{{\"pid\":{pid}");
    for section in sections {
        let _ = write!(out, ",{}:", quote(section.name));
        match &section.body {
            Ok(fields) => object(&mut out, fields),
            Err(why) => error(&mut out, why),
        }
    }
    out.push_str("}\n");
    out
}

fn object(out: &mut String, fields: &Fields) {
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quote(key));
        out.push(':');
        json_value(out, value);
    }
    out.push('}');
}

fn error(out: &mut String, why: &str) {
    let _ = write!(out, "{{\"error\":{}}}", quote(why));
}

fn json_value(out: &mut String, value: &Value) {
    match value {
        Value::Text(text) => out.push_str(&quote(text)),
        Value::Num(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Id(id, name) => {
            let name = name.as_deref().map(quote).unwrap_or_else(|| "null".to_string());
            let _ = write!(out, "{{\"id\":{id},\"name\":{name}}}");
        }
        Value::Words(items) | Value::Lines(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, item);
            }
            out.push(']');
        }
        Value::Pairs(fields) => object(out, fields),
        Value::Table(rows) => {
            out.push('[');
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                object(out, row);
            }
            out.push(']');
        }
        Value::Unreadable(why) => error(out, why),
    }
}

/// A JSON string (RFC 8259): quote, backslash and control characters escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_one_line_and_marks_bad_bytes() {
        assert_eq!(escape(b"a\nb\tc\\d\x1b\xffe"), "a\\nb\\tc\\\\d\\x1b\\xffe");
        assert_eq!(escape("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(quote("a\"b\\c\n\u{1}\u{7f}\u{e9}"), "\"a\\\"b\\\\c\\n\\u0001\\u007f\u{e9}\"");
    }

    #[test]
    fn text_aligns_keys_and_tables() {
        let sections = [
            Section {
                name: "identity",
                body: Ok(vec![
                    (
                        "uid",
                        Value::Pairs(vec![("real", Value::Id(0, Some("root".into()))), ("fs", Value::Id(7, None))]),
                    ),
                    ("groups", Value::Words(vec![Value::Id(4, Some("adm".into())), Value::Id(20, None)])),
                    ("none", Value::Words(vec![])),
                ]),
            },
            Section {
                name: "limits",
                body: Ok(vec![(
                    "rlimits",
                    Value::Table(vec![
                        vec![("resource", Value::text("nofile")), ("soft", Value::Num(1024))],
                        vec![("resource", Value::text("cpu")), ("soft", Value::text("unlimited"))],
                    ]),
                )]),
            },
            Section { name: "fds", body: Err("permission denied (run as root)".into()) },
        ];
        assert_eq!(
            text(&sections),
            "identity\n  uid     real 0(root)  fs 7\n  groups  4(adm),20\n  none    none\n\
             limits\n  rlimits\n    resource  soft\n    nofile    1024\n    cpu       unlimited\n\
             fds: unreadable: permission denied (run as root)\n"
        );
        assert_eq!(
            json(9, &sections),
            "{\"pid\":9,\"identity\":{\"uid\":{\"real\":{\"id\":0,\"name\":\"root\"},\"fs\":{\"id\":7,\"name\":null}},\
             \"groups\":[{\"id\":4,\"name\":\"adm\"},{\"id\":20,\"name\":null}],\"none\":[]},\
             \"limits\":{\"rlimits\":[{\"resource\":\"nofile\",\"soft\":1024},{\"resource\":\"cpu\",\"soft\":\"unlimited\"}]},\
             \"fds\":{\"error\":\"permission denied (run as root)\"}}\n"
        );
    }
}
