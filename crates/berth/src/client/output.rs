//! Printing what the server answered: tables like `oc`'s (upper-case headers, aligned
//! columns), or the objects as JSON or YAML, or just their names.

use serde_json::Value;
use std::str::FromStr;

use super::ClientError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
    Name,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "table" | "wide" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            "name" => Ok(Format::Name),
            other => Err(format!("{other:?} is not one of table, json, yaml, name")),
        }
    }
}

/// Aligns rows under headers, two spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n") + "\n"
}

/// Prints a value as JSON or YAML.
pub fn structured(value: &Value, format: Format) -> Result<String, ClientError> {
    match format {
        Format::Yaml => serde_yaml_ng::to_string(value)
            .map_err(|e| ClientError::new(format!("cannot print YAML: {e}"))),
        _ => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| ClientError::new(format!("cannot print JSON: {e}"))),
    }
}

/// How long ago an RFC 3339 timestamp was, as `oc` shows ages (`5s`, `3m`, `2h`, `4d`).
pub fn age(timestamp: &str) -> String {
    let Ok(then) = humantime::parse_rfc3339(timestamp) else {
        return "<unknown>".into();
    };
    let secs = std::time::SystemTime::now()
        .duration_since(then)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub fn str_of(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_str().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["NAME", "STATUS"],
            &[
                vec!["a-long-name".into(), "Active".into()],
                vec!["b".into(), "Active".into()],
            ],
        );
        assert_eq!(
            t,
            "NAME         STATUS\na-long-name  Active\nb            Active\n"
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
        assert!("xml".parse::<Format>().is_err());
        assert_eq!(age("not a time"), "<unknown>");
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        assert!(age(&now).ends_with('s'));
    }
}
