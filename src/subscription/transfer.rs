//! Export every subscription (JSON or CSV, keys included, streamed) and import them back,
//! from Tidings or another tool: this is how people migrate. Plain axum routes rather
//! than server functions, because both move whole files.
//!
//! Accepted on import: a JSON array of PushSubscription objects (`{"endpoint", "keys":
//! {"p256dh", "auth"}}`, as `JSON.stringify(subscription)` gives, optionally with
//! `"topics": ["name", …]`), the same objects one per line, or CSV with a header naming
//! `endpoint`, `p256dh`, `auth` and optionally `topics` (names separated by `|`).

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, StreamExt};
use serde::Deserializer as _;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::list::{ImportProblem, ImportReport};
use super::parse::{EndpointPolicy, NewSubscription};
use crate::admin::auth::ssr::SESSION_KEY;
use crate::state::AppState;
use crate::store::{ExportRow, Imported, Store};
use crate::topic::TopicName;

/// The largest import accepted (about a million subscriptions as JSON).
pub const MAX_IMPORT_BYTES: usize = 512 * 1024 * 1024;
/// Rows per export query and per import transaction.
const CHUNK: usize = 1000;
const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Clone, Copy)]
pub enum Format {
    Json,
    Csv,
}

/// `GET /admin/subscribers/export.{json,csv}`: every subscription, streamed a chunk at a time.
pub async fn export(state: AppState, session: Session, format: Format) -> Response {
    if !is_admin(&state, &session).await {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin first.").into_response();
    }
    let (content_type, file, head, tail) = match format {
        Format::Json => ("application/json", "subscriptions.json", "[", "\n]\n"),
        Format::Csv => ("text/csv; charset=utf-8", "subscriptions.csv", "endpoint,p256dh,auth,topics,created_at", "\n"),
    };
    let chunks = stream::unfold((state.store.clone(), Some(0i64), true), move |(store, after, first)| async move {
        let after = after?;
        match store.export_chunk(after, CHUNK as i64).await {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                let last = rows.last().map(|r| r.id);
                Some((Ok(render(&rows, format, first)), (store, last, false)))
            }
            Err(error) => {
                // The response has started: all we can do is end it early, and say why in the log.
                tracing::error!(%error, "export failed part way");
                Some((Err(std::io::Error::other("export failed")), (store, None, false)))
            }
        }
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) })
        .chain(chunks)
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }));
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

fn render(rows: &[ExportRow], format: Format, first_chunk: bool) -> Bytes {
    let mut out = String::with_capacity(rows.len() * 400);
    for (i, row) in rows.iter().enumerate() {
        let topics: Vec<&str> = row.topics.as_deref().map(|t| t.split('|').collect()).unwrap_or_default();
        let created = chrono::DateTime::from_timestamp(row.created_at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
        match format {
            Format::Json => {
                out.push_str(if first_chunk && i == 0 { "\n" } else { ",\n" });
                let object = json!({
                    "endpoint": row.endpoint,
                    "expirationTime": null,
                    "keys": { "p256dh": row.p256dh, "auth": row.auth },
                    "topics": topics,
                    "created_at": created,
                });
                out.push_str(&object.to_string());
            }
            Format::Csv => {
                out.push('\n');
                let cells = [row.endpoint.as_str(), &row.p256dh, &row.auth, &topics.join("|"), &created];
                out.push_str(&cells.map(csv_cell).join(","));
            }
        }
    }
    Bytes::from(out)
}

/// RFC 4180 quoting, only where needed.
fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// `POST /admin/subscribers/import`: the file as the body. Each row is validated like a
/// browser's subscription; known endpoints are merged; the answer reports what was done.
pub async fn import(state: AppState, session: Session, body: Bytes) -> Response {
    if !is_admin(&state, &session).await {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin first.").into_response();
    }
    match import_file(&state.store, &state.endpoint_policy(), &body).await {
        Ok(report) => {
            tracing::info!(added = report.added, merged = report.merged, rejected = report.rejected, "subscriptions imported");
            Json(report).into_response()
        }
        Err(refused) => refused,
    }
}

/// Reads, validates and stores a file of subscriptions, a chunk at a time.
pub async fn import_file(store: &Store, policy: &EndpointPolicy, file: &[u8]) -> Result<ImportReport, Response> {
    let rows = read_rows(file).map_err(|message| (StatusCode::UNPROCESSABLE_ENTITY, message).into_response())?;
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(CHUNK);
    for (i, row) in rows.into_iter().enumerate() {
        match row.and_then(|row| validate(row, policy)) {
            Ok(valid) => batch.push(valid),
            Err(reason) => {
                report.rejected += 1;
                if report.problems.len() < MAX_PROBLEMS {
                    report.problems.push(ImportProblem { row: i + 1, reason });
                }
            }
        }
        if batch.len() == CHUNK {
            save(store, &mut batch, &mut report).await?;
        }
    }
    save(store, &mut batch, &mut report).await?;
    Ok(report)
}

async fn save(
    store: &Store,
    batch: &mut Vec<(NewSubscription, Option<Vec<String>>)>,
    report: &mut ImportReport,
) -> Result<(), Response> {
    if batch.is_empty() {
        return Ok(());
    }
    let results = store.import_subscriptions(batch).await.map_err(|error| {
        tracing::error!(%error, "import failed");
        let done = format!("The import stopped: a database error. {} added and {} merged before it.", report.added, report.merged);
        (StatusCode::INTERNAL_SERVER_ERROR, done).into_response()
    })?;
    report.added += results.iter().filter(|r| **r == Imported::New).count();
    report.merged += results.iter().filter(|r| **r == Imported::Merged).count();
    batch.clear();
    Ok(())
}

/// One subscription as found in the file, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RawRow {
    endpoint: String,
    p256dh: String,
    auth: String,
    topics: Option<Vec<String>>,
}

fn validate(row: RawRow, policy: &EndpointPolicy) -> Result<(NewSubscription, Option<Vec<String>>), String> {
    let subscription = NewSubscription::parse(&row.endpoint, &row.p256dh, &row.auth, policy).map_err(|e| e.to_string())?;
    let topics = row
        .topics
        .map(|names| names.iter().map(|n| TopicName::parse(n).map(|n| n.as_str().to_owned())).collect::<Result<Vec<_>, _>>())
        .transpose()
        .map_err(|e| format!("topics: {e}"))?;
    Ok((subscription, topics))
}

/// Splits the file into rows; a file that is none of the accepted shapes is refused whole.
fn read_rows(body: &[u8]) -> Result<Vec<Result<RawRow, String>>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "The file is not UTF-8 text.".to_owned())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.is_empty() {
        return Err("The file is empty.".into());
    }
    if trimmed.starts_with('[') {
        return serde_json::Deserializer::from_str(trimmed)
            .deserialize_seq(RowsVisitor)
            .map_err(|e| format!("The file looks like JSON but is not valid JSON: {e}"));
    }
    if trimmed.starts_with('{') {
        return Ok(trimmed
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str::<Value>(line).map_err(|e| format!("not valid JSON: {e}")).and_then(|v| from_json(&v)))
            .collect());
    }
    from_csv(trimmed)
}

/// Reads a JSON array one element at a time, keeping only the rows: a million-row file is
/// never a million `Value`s in memory at once.
struct RowsVisitor;

impl<'de> serde::de::Visitor<'de> for RowsVisitor {
    type Value = Vec<Result<RawRow, String>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of subscriptions")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(value) = seq.next_element::<Value>()? {
            rows.push(from_json(&value));
        }
        Ok(rows)
    }
}

fn from_json(value: &Value) -> Result<RawRow, String> {
    let text = |v: Option<&Value>, name: &str| {
        v.and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("{name} is missing or not text"))
    };
    let topics = match value.get("topics") {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) => Some(
            names.iter().map(|n| n.as_str().map(str::to_owned).ok_or("topics must be names (text)".to_owned())).collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err("topics must be a list of names".into()),
    };
    Ok(RawRow {
        endpoint: text(value.get("endpoint"), "endpoint")?,
        p256dh: text(value.pointer("/keys/p256dh"), "keys.p256dh")?,
        auth: text(value.pointer("/keys/auth"), "keys.auth")?,
        topics,
    })
}

fn from_csv(text: &str) -> Result<Vec<Result<RawRow, String>>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("The CSV header cannot be read: {e}"))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(endpoint), Some(p256dh), Some(auth)) = (column("endpoint"), column("p256dh"), column("auth")) else {
        return Err("The file is neither JSON nor CSV with the columns endpoint, p256dh and auth.".into());
    };
    let topics = column("topics");
    Ok(reader
        .records()
        .map(|record| {
            let record = record.map_err(|e| format!("unreadable CSV: {e}"))?;
            let cell = |i: usize| record.get(i).unwrap_or_default().to_owned();
            Ok(RawRow {
                endpoint: cell(endpoint),
                p256dh: cell(p256dh),
                auth: cell(auth),
                topics: topics.map(|i| cell(i).split('|').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()),
            })
        })
        .collect())
}

async fn is_admin(state: &AppState, session: &Session) -> bool {
    match session.get::<i64>(SESSION_KEY).await {
        Ok(Some(id)) => matches!(state.store.admin_by_id(id).await, Ok(Some(_))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_shape_reads_the_same_rows() {
        let row = RawRow { endpoint: "https://e/1".into(), p256dh: "P".into(), auth: "A".into(), topics: None };
        let json_array = r#"[{"endpoint":"https://e/1","expirationTime":null,"keys":{"p256dh":"P","auth":"A"}}]"#;
        let json_lines = "{\"endpoint\":\"https://e/1\",\"keys\":{\"p256dh\":\"P\",\"auth\":\"A\"}}\n\n";
        let csv = "\u{feff}Endpoint,p256dh,auth\nhttps://e/1,P,A\n";
        for file in [json_array, json_lines, csv] {
            assert_eq!(read_rows(file.as_bytes()).unwrap(), vec![Ok(row.clone())], "{file}");
        }
        let with_topics = read_rows(b"endpoint,p256dh,auth,topics\n\"https://e/1\",P,A,Releases | Offers\n").unwrap();
        assert_eq!(with_topics[0].as_ref().unwrap().topics, Some(vec!["Releases".to_owned(), "Offers".to_owned()]));
    }

    #[test]
    fn bad_rows_are_reported_one_by_one_and_bad_files_as_a_whole() {
        let rows = read_rows(br#"[{"endpoint":"https://e/1"}, 7, {"endpoint":1,"keys":{}}, {"endpoint":"x","keys":{"p256dh":"p","auth":"a"},"topics":"Releases"}]"#).unwrap();
        let errors: Vec<String> = rows.into_iter().map(|r| r.unwrap_err()).collect();
        assert_eq!(errors, ["keys.p256dh is missing or not text", "endpoint is missing or not text", "endpoint is missing or not text", "topics must be a list of names"]);
        assert!(read_rows(b"").unwrap_err().contains("empty"));
        assert!(read_rows(b"[{").unwrap_err().contains("not valid JSON"));
        assert!(read_rows(b"name,email\nx,y\n").unwrap_err().contains("endpoint, p256dh and auth"));
        assert!(read_rows(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn csv_cells_are_quoted_only_when_needed() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
