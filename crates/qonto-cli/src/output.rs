//! Printing findings as a checklist or as JSON.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use qonto_auth_core::diagnose::{Finding, Severity};
use serde_json::{Value, json};

const PASS: Style = AnsiColor::Green.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();

/// A finding as JSON.
pub(crate) fn finding_json(finding: &Finding) -> Value {
    json!({
        "code": finding.code.as_str(),
        "severity": finding.severity.as_str(),
        "message": finding.message,
        "fix": if finding.fix.is_empty() { Value::Null } else { Value::from(finding.fix.clone()) },
        "trace_id": finding.trace_id,
    })
}

/// The doctor report as JSON: `{"ok", "findings", "trace_id"}`.
pub(crate) fn report_json(findings: &[Finding]) -> Value {
    json!({
        "ok": findings.iter().all(|f| f.severity != Severity::Fail),
        "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
        "trace_id": findings.iter().find_map(|f| f.trace_id.clone()),
    })
}

/// Writes findings as a checklist; colours only where the terminal supports them.
pub(crate) fn write_checklist(out: &mut dyn Write, findings: &[Finding]) -> std::io::Result<()> {
    for finding in findings {
        let (mark, style) = match finding.severity {
            Severity::Pass => ("pass", PASS),
            Severity::Info => ("info", DIM),
            Severity::Warn => ("warn", WARN),
            _ => ("FAIL", FAIL),
        };
        writeln!(
            out,
            "  {style}{mark}{style:#}  {}  {DIM}[{}]{DIM:#}",
            finding.message, finding.code
        )?;
        if !finding.fix.is_empty() && finding.severity >= Severity::Warn {
            writeln!(out, "        fix: {}", finding.fix)?;
        }
        if let Some(trace) = &finding.trace_id {
            writeln!(out, "        trace id (give it to Qonto support): {trace}")?;
        }
    }
    Ok(())
}

/// A server (or user) string made safe for one line of a terminal: control characters
/// (escape sequences that could set the window title or clear the screen, line breaks) are
/// dropped.
pub(crate) fn one_line(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// A server body made safe for a terminal: control characters are dropped, except line
/// breaks and tabs.
pub(crate) fn terminal_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// Prints JSON to stdout.
pub(crate) fn print_json(value: &Value) {
    let mut out = anstream::stdout();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
